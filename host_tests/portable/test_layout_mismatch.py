"""Cores configured for different layouts: the remote checks the master's
descriptors at link-up and names the mismatch (LayoutError, ``link.fault``)
instead of losing every message; either side names ring entries of the
peer that fail validation. Portable (CPython and MicroPython)."""

from rpmsg_lite import RPMsgLite, Config, LayoutError, RPMsgError, DONT_BLOCK, NOT_READY, ERR_NO_MEM
from rl_loopback import Loopback

from linkpair import Inbox, PA_BASE
from support import raises

HINT = "both cores must use the same buffer count, payload size, VRING_ALIGN, VRING_SIZE and pa_base"


def _config(**kw):
    args = {"buffer_count": 4, "payload_size": 64, "vring_align": 0x10, "pa_base": PA_BASE}
    args.update(kw)
    return Config(**args)


def _mismatched(master_cfg, remote_cfg):
    loop = Loopback()
    shm = bytearray(max(master_cfg.shm_size, remote_cfg.shm_size))
    m = RPMsgLite.master(shm, loop.master, master_cfg)
    r = RPMsgLite.remote(shm, loop.remote, remote_cfg)
    return loop, shm, m, r


def test_each_kind_of_mismatch_is_named_at_link_up():
    cases = (
        ("buffer count", _config(buffer_count=8)),
        ("payload size", _config(payload_size=128)),
        ("VRING_ALIGN", _config(vring_align=0x100)),
        ("VRING_SIZE", _config(vring_size=0x400)),
        ("VRING_ALIGN with a fixed VRING_SIZE", None),
        ("pa_base", _config(pa_base=0x30000000)),
    )
    for what, remote_cfg in cases:
        master_cfg = _config()
        if remote_cfg is None:
            # Linux-style: VRING_SIZE 0x8000 on both, only the alignment
            # differs, so every descriptor is where both expect it.
            master_cfg = _config(vring_size=0x8000, vring_align=0x1000)
            remote_cfg = _config(vring_size=0x8000, vring_align=0x10)
        loop, shm, m, r = _mismatched(master_cfg, remote_cfg)
        loop.deliver()  # the master's init kick
        assert not r.is_link_up(), what
        assert r.fault.startswith("layout mismatch: vring "), (what, r.fault)
        if what.startswith("VRING_ALIGN with"):
            assert "used ring entry 0" in r.fault and "another VRING_ALIGN?" in r.fault, r.fault
        assert r.fault.endswith(HINT), r.fault
        e = raises(LayoutError, r.wait_for_link_up, 50)
        assert e.code == NOT_READY and str(e) == "RL_NOT_READY (-5007): " + r.fault, str(e)
        assert isinstance(e, RPMsgError)
        raises(LayoutError, r.wait_for_link_up, 0)


def test_the_message_names_the_descriptor_and_both_addresses():
    loop, shm, m, r = _mismatched(_config(), _config(pa_base=0x30000000))
    loop.deliver()
    want = 0x30000000 + r.layout.buffers
    have = PA_BASE + m.layout.buffers
    assert "vring 0 descriptor 0 at %#x (length %d), expected %#x (length %d)" % (
        have, m.layout.buffer_size, want, r.layout.buffer_size) in r.fault, r.fault
    assert "the master's buffers: %d bytes apart from %#x" % (m.layout.buffer_size, have) in r.fault


def test_a_mismatched_remote_touches_nothing_and_refuses_to_send():
    loop, shm, m, r = _mismatched(_config(), _config(buffer_count=8))
    inbox = Inbox()
    ept_r = r.create_ept(40, inbox)
    ept_m = m.create_ept(30, Inbox())
    loop.deliver()
    image = bytes(shm)
    # The master's messages stay in its ring, the remote takes none of them
    # (nothing is consumed and dropped as a bad entry): they are not lost.
    for i in range(4):
        m.send(ept_m, 40, b"x%d" % i, DONT_BLOCK)
    before = bytes(shm)
    loop.deliver()
    r.poll()
    assert bytes(shm) == before and inbox.messages == []
    assert r.stats()["rx_bad_entries"] == 0 and r.stats()["tx_bad_entries"] == 0
    e = raises(RPMsgError, m.send, ept_m, 40, b"more", DONT_BLOCK)
    assert e.code == ERR_NO_MEM
    e = raises(LayoutError, r.send, ept_r, 30, b"hi", DONT_BLOCK)
    assert r.fault in str(e)
    raises(LayoutError, r.alloc_tx_buffer, DONT_BLOCK)
    assert image != before  # (the master's sends did write)


def test_the_link_comes_up_once_the_master_restarts_with_the_same_layout():
    cfg8 = _config(buffer_count=8)
    loop, shm, m, r = _mismatched(_config(), cfg8)
    inbox = Inbox()
    r.create_ept(40, inbox)
    loop.deliver()
    assert r.fault is not None
    m.deinit()
    m = RPMsgLite.master(shm, loop.master, cfg8)  # the corrected master
    loop.deliver()
    assert r.is_link_up() and r.fault is None and r.wait_for_link_up(0)
    m.send(m.create_ept(30, Inbox()), 40, b"now it works", DONT_BLOCK)
    loop.deliver()
    assert inbox.messages == [(b"now it works", 30)]


def test_an_unformatted_region_is_named_too():
    loop = Loopback()
    cfg = _config()
    r = RPMsgLite.remote(bytearray(cfg.shm_size), loop.remote, cfg)
    loop.remote.post(0)  # a kick, but no master ever formatted this memory
    loop.deliver()
    assert not r.is_link_up() and r.fault.startswith("no rings: vring 0 descriptor 0 is empty")


def test_a_port_pa_base_is_used_when_the_config_leaves_it_none():
    # The host port's case: processes map the region at different addresses,
    # so the port names the address both cores write into descriptors.
    loop = Loopback()
    loop.master.pa_base = loop.remote.pa_base = 0x20200000
    cfg = Config(buffer_count=4)  # pa_base None
    shm = bytearray(cfg.shm_size)
    m = RPMsgLite.master(shm, loop.master, cfg)
    r = RPMsgLite.remote(shm, loop.remote, cfg)
    assert m.layout.pa_base == 0x20200000 and r.layout.pa_base == 0x20200000
    loop.deliver()
    assert r.is_link_up() and r.fault is None


def test_peer_entries_failing_validation_are_named_on_the_master():
    # A peer that does not check (a C remote with other numbers, or a
    # corrupted ring) hands over entries this side must drop: fault says so.
    loop, shm, m, r = _mismatched(_config(), _config())
    loop.deliver()
    assert m.fault is None and r.fault is None
    used = m.layout.vrings[0].used
    shm[used + 4] = 99  # used.ring[0].id: no such descriptor
    shm[used + 2] = 1  # used.idx
    m.poll()
    assert m.stats()["rx_bad_desc"] == 1
    assert m.fault.startswith("the peer handed over ring entries that fail validation (1 received buffers dropped")
    assert m.fault.endswith(HINT)
    # A send that finds no buffer says it too.
    ept = m.create_ept(30, Inbox())
    for i in range(4):
        m.send(ept, 40, b"x", DONT_BLOCK)
    e = raises(RPMsgError, m.send, ept, 40, b"x", DONT_BLOCK)
    assert e.code == ERR_NO_MEM and m.fault in str(e)


def test_a_linux_style_master_is_not_refused():
    # A Linux master fills its TX descriptors (vring 1) per message and
    # leaves that used ring empty: only the buffers it did post are checked.
    from rpmsg_lite import rings

    cfg = _config(vring_size=0x8000, vring_align=0x1000)
    loop = Loopback()
    shm = bytearray(cfg.shm_size)
    m = RPMsgLite.master(shm, loop.master, cfg)
    v1 = m.layout.vrings[1]
    shm[v1.desc:v1.desc + 16 * 4] = bytes(16 * 4)
    shm[v1.used + 4:v1.used + 4 + 8 * 4] = bytes(8 * 4)
    r = RPMsgLite.remote(shm, loop.remote, cfg)
    loop.deliver()
    assert r.is_link_up() and r.fault is None
    assert rings.format_fault(shm, r.layout) is None
    # A descriptor it filled with another buffer of the right half is fine,
    # one outside that half is not.
    rings.struct.pack_into("<III", shm, v1.desc, r.layout.pa_base + r.layout.buffer_offset(7), 0, 40)
    assert rings.format_fault(shm, r.layout) is None
    rings.struct.pack_into("<III", shm, v1.desc + 16, r.layout.pa_base + r.layout.buffer_offset(2), 0, 40)
    assert rings.format_fault(shm, r.layout).startswith("layout mismatch: vring 1 descriptor 1 at ")
