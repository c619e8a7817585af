"""Byte-for-byte conformance with NXP's C RPMsg-Lite (../shared/vectors).

Full replay: this stack plays both cores through the scripted scenario; after
every step the whole shared region, the notifications sent and delivered,
and the messages received must equal what the C library produced.

Continue: each C image is taken as the peer's state and this stack carries
out the next step in the acting role, attached to that image (e.g. attach
as remote to c_master_sent_3, receive the three messages, and the region
must equal d_remote_consumed).
"""

import golden
from golden import CONFIGS, STEPS, Scenario


def _check_step(sc, step, log_before, received_before):
    name = sc.name
    diff = golden.first_difference(bytes(sc.shm), golden.image(name, step))
    assert diff is None, name + " " + step + ": " + diff
    log = sc.loop.log[log_before:]
    want = golden.expected_log(name, step)
    assert log == want, "%s %s notifications %r != %r" % (name, step, log, want)
    got = sc.received[received_before:]
    want = golden.expected_received(name, step)
    assert got == want, "%s %s received %r != %r" % (name, step, got, want)


def _replay(name):
    sc = Scenario(name)
    for step in STEPS:
        log_before = len(sc.loop.log)
        received_before = len(sc.received)
        sc.run(step)
        _check_step(sc, step, log_before, received_before)
    return sc


def test_replay_a0x80_c4_every_step_matches_c_images():
    sc = _replay("a0x80_c4")
    assert sc.remote.is_link_up() and sc.master.is_link_up()


def test_replay_a0x1000_c256_every_step_matches_c_images():
    sc = _replay("a0x1000_c256")
    assert sc.remote.is_link_up() and sc.master.is_link_up()


def test_golden_images_agree_with_vectors_json():
    # Guard against a truncated or swapped vector file: sizes and the remote
    # init writing nothing (a == b) as the vector notes state.
    for name in CONFIGS:
        size = golden.meta()["configs"][name]["shm_size"]
        assert golden.config(name).shm_size == size
        for step in STEPS:
            assert len(golden.image(name, step)) == size
        assert golden.image(name, "a_master_init") == golden.image(name, "b_remote_init_linkup")


def _continue(name, step):
    previous = STEPS[STEPS.index(step) - 1]
    sc = Scenario(name)
    sc.shm[:] = golden.image(name, previous)
    sc.run(step, attach=True)
    _check_step(sc, step, 0, 0)
    return sc


def test_continue_remote_links_up_on_c_master_init():
    for name in CONFIGS:
        sc = _continue(name, "b_remote_init_linkup")
        assert sc.remote.is_link_up()


def test_continue_master_attached_to_c_image_sends():
    for name in CONFIGS:
        _continue(name, "c_master_sent_3")


def test_continue_remote_attached_to_c_master_receives():
    for name in CONFIGS:
        _continue(name, "d_remote_consumed")


def test_continue_remote_attached_announces_and_sends():
    for name in CONFIGS:
        _continue(name, "e_remote_ns_announce")
        _continue(name, "f_remote_sent_2")


def test_continue_master_attached_to_c_remote_receives_ns_and_messages():
    for name in CONFIGS:
        _continue(name, "g_master_consumed")


def test_continue_chain_from_c_master_image_to_the_end():
    # One remote attaches to the C master's image c and plays every remote
    # step; one master attaches to the resulting f image and finishes. The
    # remote's steps must reproduce the C remote's images exactly.
    for name in CONFIGS:
        sc = Scenario(name)
        sc.shm[:] = golden.image(name, "c_master_sent_3")
        sc.run("d_remote_consumed", attach=True)
        for step in ("d_remote_consumed", "e_remote_ns_announce", "f_remote_sent_2"):
            if step != "d_remote_consumed":
                sc.run(step)
            assert golden.first_difference(bytes(sc.shm), golden.image(name, step)) is None, step
        after = Scenario(name)
        after.shm[:] = sc.shm
        after.run("g_master_consumed", attach=True)
        _check_step(after, "g_master_consumed", 0, 0)
