"""Init, link-up, deinit, notifications and several links (docs/protocol.md#link-up)."""

import time

from rpmsg_lite import RPMsgLite, Config, DONT_BLOCK, HOLD, MASTER, REMOTE
from rl_loopback import Loopback
from linkpair import Pair, Inbox, small_config, PA_BASE


def test_master_is_up_at_once_and_kicks_vring0_once():
    p = Pair(record=True, up=False)
    assert p.master.is_link_up() and not p.remote.is_link_up()
    assert p.loop.log == [("notify", "master->remote", 0)]
    assert p.master.role == MASTER and p.remote.role == REMOTE


def test_remote_writes_nothing_and_links_up_on_the_vring0_kick():
    cfg = small_config()
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    RPMsgLite.master(shm, loop.master, cfg)
    image = bytes(shm)
    r = RPMsgLite.remote(shm, loop.remote, cfg)
    assert bytes(shm) == image and not r.is_link_up()
    r.isr(1)  # a vring-1 notification is not the master's init kick
    assert not r.is_link_up()
    r.isr(0)
    assert r.is_link_up()


def test_remote_created_before_the_master_links_up_when_it_kicks():
    cfg = small_config()
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    r = RPMsgLite.remote(shm, loop.remote, cfg)
    assert not r.wait_for_link_up(0)
    RPMsgLite.master(shm, loop.master, cfg)
    assert r.wait_for_link_up(100)


def test_wait_for_link_up_times_out_with_false():
    cfg = small_config()
    r = RPMsgLite.remote(bytearray(cfg.shm_size), Loopback().remote, cfg)
    start = time.ticks_ms()
    assert r.wait_for_link_up(20) is False
    assert time.ticks_diff(time.ticks_ms(), start) >= 20


def test_deinit_touches_no_shared_memory_and_stops_delivery():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    before = bytes(p.shm)
    p.remote.deinit()
    assert bytes(p.shm) == before and not p.remote.is_link_up()
    p.master.send(src, 40, b"after", DONT_BLOCK)
    p.to_remote()  # the platform no longer routes to the remote
    assert inbox.messages == []


def test_context_manager_deinits():
    cfg = small_config()
    with RPMsgLite.master(bytearray(cfg.shm_size), Loopback().master, cfg) as m:
        assert m.is_link_up()
    assert not m.is_link_up()


def test_one_notification_per_message_and_none_for_releases():
    p = Pair(record=True)
    p.remote.create_ept(40, Inbox())
    src = p.master.create_ept(30, Inbox())
    start = len(p.loop.log)
    for _ in range(3):
        p.master.send(src, 40, b"m", DONT_BLOCK)
    p.to_remote()
    events = p.loop.log[start:]
    assert events == [("notify", "master->remote", 1)] * 3 + [("isr", "master->remote", 1)] * 3


def test_consumed_buffer_notifications_when_enabled():
    # RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION: one kick on the receive vring
    # after each batch that freed a buffer, and one per release_rx_buffer.
    p = Pair(small_config(consumed_buffers_notification=True), record=True)
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    start = len(p.loop.log)
    p.master.send(src, 40, b"1", DONT_BLOCK)
    p.master.send(src, 40, b"2", DONT_BLOCK)
    p.loop.remote.deliver()
    notes = [e for e in p.loop.log[start:] if e[0] == "notify"]
    assert notes == [("notify", "master->remote", 1)] * 2 + [("notify", "remote->master", 1)]
    inbox.result = HOLD
    p.master.send(src, 40, b"3", DONT_BLOCK)
    start = len(p.loop.log)
    p.loop.remote.deliver()
    assert [e for e in p.loop.log[start:] if e[0] == "notify"] == []
    p.remote.release_rx_buffer(inbox.views[-1])
    assert p.loop.log[-1] == ("notify", "remote->master", 1)


def test_no_consumed_notifications_by_default():
    p = Pair(record=True)
    p.remote.create_ept(40, Inbox())
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, b"1", DONT_BLOCK)
    start = len(p.loop.log)
    p.loop.remote.deliver()
    assert [e for e in p.loop.log[start:] if e[0] == "notify"] == []


def test_used_flags_no_notify_suppresses_kicks():
    # virtqueue_kick only checks used.flags (docs/protocol.md#vrings); a peer that sets
    # VRING_USED_F_NO_NOTIFY on vring 1 gets no notifications from the master.
    p = Pair(record=True)
    p.remote.create_ept(40, Inbox())
    src = p.master.create_ept(30, Inbox())
    used = p.master.layout.vrings[1].used
    p.shm[used] = 1
    start = len(p.loop.log)
    p.master.send(src, 40, b"quiet", DONT_BLOCK)
    assert p.loop.log[start:] == []
    p.remote.poll()  # a polling remote still receives it


def test_two_links_on_one_platform_use_their_own_vectors():
    loop = Loopback(record=True)
    cfg = small_config()
    pairs = [Pair(cfg, link_id=i, loop=loop) for i in (0, 1)]
    inboxes = [Inbox(), Inbox()]
    for i in (0, 1):
        pairs[i].remote.create_ept(40, inboxes[i])
    start = len(loop.log)
    for i in (0, 1):
        pairs[i].master.send(pairs[i].master.create_ept(30, Inbox()), 40, bytes([i]), DONT_BLOCK)
    loop.remote.deliver()
    assert [e[2] for e in loop.log[start:] if e[0] == "notify"] == [1, 3]
    assert inboxes[0].messages == [(b"\x00", 30)] and inboxes[1].messages == [(b"\x01", 30)]


def test_vector_of_another_link_is_ignored():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    p.master.send(p.master.create_ept(30, Inbox()), 40, b"m", DONT_BLOCK)
    p.remote.isr(3)  # link 1's vring 1
    assert inbox.messages == []
    p.remote.isr(1)
    assert inbox.messages == [(b"m", 30)]


def test_master_attach_rebuilds_indices_after_traffic():
    # A master that restarts (soft reset) re-attaches instead of formatting:
    # traffic continues and the remote notices nothing.
    p = Pair()
    inbox, back = Inbox(), Inbox()
    p.remote.create_ept(40, inbox)
    r_src = p.remote.create_ept(40 + 1, Inbox())
    m_src = p.master.create_ept(30, back)
    for i in range(7):
        p.master.send(m_src, 40, bytes([i]), DONT_BLOCK)
        p.remote.send(r_src, 30, bytes([i]), DONT_BLOCK)
        p.loop.deliver()
    p.master.deinit()
    m2 = RPMsgLite.master(p.shm, p.loop.master, p.config, 0, True)
    back2 = Inbox()
    src2 = m2.create_ept(30, back2)
    for i in range(7, 20):
        m2.send(src2, 40, bytes([i]), DONT_BLOCK)
        p.remote.send(r_src, 30, bytes([i]), DONT_BLOCK)
        p.loop.deliver()
    assert [m[0][0] for m in inbox.messages] == list(range(20))
    assert [m[0][0] for m in back2.messages] == list(range(7, 20))


def test_remote_attach_redelivers_what_it_held_when_it_died():
    p = Pair()
    p.remote.create_ept(40, Inbox(HOLD))
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, b"held-1", DONT_BLOCK)
    p.master.send(src, 40, b"held-2", DONT_BLOCK)
    p.to_remote()
    p.remote.deinit()  # dies holding both buffers
    r2 = RPMsgLite.remote(p.shm, p.loop.remote, p.config, 0, True)
    assert r2.is_link_up()
    inbox = Inbox()
    r2.create_ept(40, inbox)
    r2.poll()
    assert [m[0] for m in inbox.messages] == [b"held-1", b"held-2"]
    for i in range(2 * p.config.buffer_count):  # and no buffer was lost
        p.master.send(src, 40, b"x", DONT_BLOCK)
        p.to_remote()


def test_attach_refuses_an_unformatted_or_mismatched_region():
    cfg = small_config()
    loop = Loopback()
    blank = bytearray(cfg.shm_size)
    for role in (RPMsgLite.master, RPMsgLite.remote):
        try:
            role(blank, loop.master, cfg, 0, True)
            raise AssertionError("attached to a blank region")
        except ValueError as e:
            assert "formatted" in str(e)
    p = Pair(cfg)
    other = Config(buffer_count=4, vring_align=0x10, pa_base=PA_BASE + 0x1000)
    try:
        RPMsgLite.remote(p.shm, loop.remote, other, 0, True)
        raise AssertionError("attached with the wrong pa_base")
    except ValueError as e:
        assert "pa_base" in str(e)
