"""A hostile or crashed peer, bad input, restarts (issue: robustness).

Every check of shared memory is exercised by writing what a broken peer
would write, then asserting the entry was dropped and counted, nothing
outside the region was touched (on CPython the shim's pointers are bounds
checked), and the link keeps working.
"""

from rpmsg_lite import (
    RPMsgLite,
    Queue,
    RPMsgError,
    ERR_PARAM,
    ERR_NO_MEM,
    ERR_BUFF_SIZE,
    NOT_READY,
    DONT_BLOCK,
    HOLD,
)
from rpmsg_lite.rings import read16
from linkpair import Pair, Inbox
from support import raises, IS_MICROPYTHON
import fuzzer


def _poke(shm, off, width, value):
    for k in range(width):
        shm[off + k] = (value >> (8 * k)) & 0xFF


def _traffic_ok(p, rounds=None):
    """Both directions still deliver, every buffer included."""
    at_r = p.remote.endpoint(40) or p.remote.create_ept(40, Inbox())
    at_m = p.master.endpoint(30) or p.master.create_ept(30, Inbox())
    r_box, m_box = at_r.callback, at_m.callback
    before = (len(r_box.messages), len(m_box.messages))
    rounds = rounds or 2 * p.config.buffer_count
    for i in range(rounds):
        p.master.send(at_m, 40, bytes([i]), DONT_BLOCK)
        p.remote.send(at_r, 30, bytes([i]), DONT_BLOCK)
        p.loop.deliver()
    assert len(r_box.messages) - before[0] == rounds
    assert len(m_box.messages) - before[1] == rounds


def _master_rx_entry(p, slot, desc_id=None, length=None):
    """Write vring 0's used.ring[slot] and publish it, as the remote would."""
    used = p.master.layout.vrings[0].used
    if desc_id is not None:
        _poke(p.shm, used + 4 + 8 * slot, 4, desc_id)
    if length is not None:
        _poke(p.shm, used + 8 + 8 * slot, 4, length)
    _poke(p.shm, used + 2, 2, read16(p.shm, used + 2) + 1)


def test_descriptor_index_out_of_range_is_dropped_and_counted():
    p = Pair()
    p.master.create_ept(30, Inbox())
    _master_rx_entry(p, 0, desc_id=0x10000)
    p.master.isr(0)
    s = p.master.stats()
    assert s["rx_bad_desc"] == 1 and s["rx_bad_entries"] == 1
    _traffic_ok(p)


def _ept(link, addr):
    return link.endpoint(addr) or link.create_ept(addr, Inbox())


def _sent_then_corrupted(p, i, field, value, data=b"x"):
    """The master sends message i (through vring 1 descriptor i), then the
    descriptor is overwritten before the remote takes it."""
    p.master.send(_ept(p.master, 30), 40, data, DONT_BLOCK)
    _poke(p.shm, p.remote.layout.vrings[1].desc + 16 * i + field, 4, value)
    p.to_remote()


def test_descriptor_address_outside_the_buffers_is_dropped():
    p = Pair()
    got = Inbox()
    p.remote.create_ept(40, got)
    lay = p.remote.layout
    bad = (
        lay.pa_base,  # the vrings, not a buffer
        lay.pa_base + lay.buffers + 8,  # inside a buffer, not at its start
        lay.pa_base + lay.size,  # just past the region
        0x10000000,  # elsewhere entirely (another link's memory, say)
    )
    for i in range(len(bad)):
        _sent_then_corrupted(p, i, 0, bad[i])
    assert got.messages == [] and p.remote.stats()["rx_bad_addr"] == len(bad)


def test_descriptor_length_is_checked_on_the_remote():
    p = Pair()
    got = Inbox()
    p.remote.create_ept(40, got)
    bad = (0, 15, p.config.buffer_size + 1, 0xFFFFFFFF)
    for i in range(len(bad)):
        _sent_then_corrupted(p, i, 8, bad[i])
    assert got.messages == [] and p.remote.stats()["rx_bad_len"] == len(bad)


def test_a_short_descriptor_limits_the_header_length():
    # Linux's rule: len <= descriptor length - 16 (the remote reads the
    # master's descriptor length); the buffer goes back to the master.
    p = Pair()
    got = Inbox()
    p.remote.create_ept(40, got)
    _sent_then_corrupted(p, 0, 8, 16 + 10, b"eleven byte")  # 11 > 10
    assert got.messages == [] and p.remote.stats()["rx_bad_header"] == 1
    _sent_then_corrupted(p, 1, 8, 16 + 11, b"eleven byte")  # fits exactly
    assert got.messages == [(b"eleven byte", 30)]


def test_header_length_larger_than_the_buffer_is_dropped_and_the_buffer_returned():
    p = Pair()
    got = Inbox()
    p.master.create_ept(30, got)
    src = _ept(p.remote, 40)
    p.remote.send(src, 30, b"honest", DONT_BLOCK)
    off = p.master.layout.buffer_offset(0)
    _poke(p.shm, off + 12, 2, p.config.payload_size + 1)  # the remote lies about len
    p.to_master()
    assert got.messages == [] and p.master.stats()["rx_bad_header"] == 1
    # The buffer went back: the remote can still use all N of its buffers.
    assert p.remote.free_tx_buffers() == p.config.buffer_count
    _traffic_ok(p)


def test_a_buffer_handed_over_twice_is_not_taken_twice():
    p = Pair()
    got = Inbox(HOLD)
    p.master.create_ept(30, got)
    src = _ept(p.remote, 40)
    p.remote.send(src, 30, b"one", DONT_BLOCK)
    p.to_master()
    # The remote reports desc 0 used again while the master still holds it.
    _master_rx_entry(p, 1, desc_id=0, length=512)
    p.master.isr(0)
    assert len(got.messages) == 1 and p.master.stats()["rx_duplicate"] == 1
    p.master.release_rx_buffer(got.views[0])


def test_an_index_jump_takes_nothing_and_is_counted():
    p = Pair()
    got = Inbox()
    p.master.create_ept(30, got)
    used = p.master.layout.vrings[0].used
    _poke(p.shm, used + 2, 2, 1000)
    p.master.isr(0)
    p.master.isr(0)
    assert got.messages == [] and p.master.stats()["rx_index_jumps"] == 2
    _poke(p.shm, used + 2, 2, 0)  # the peer comes back to its senses
    _traffic_ok(p)


def test_master_repairs_its_own_index_when_the_remote_overwrites_it():
    p = Pair()
    avail = p.master.layout.vrings[1].avail
    src = _ept(p.master, 30)
    p.master.send(src, 40, b"a", DONT_BLOCK)
    _poke(p.shm, avail + 2, 2, 77)
    p.master.send(src, 40, b"b", DONT_BLOCK)
    assert read16(p.shm, avail + 2) == 2  # written from its own copy
    assert p.master.stats()["tx_own_index_repaired"] == 1


def test_bad_api_input_is_refused_and_the_link_keeps_working():
    p = Pair()
    other = Pair()
    q = Queue(p.remote)
    p.remote.create_ept(40, q)
    m_src = p.master.create_ept(30, Inbox())
    checks = [
        (RPMsgError, ERR_BUFF_SIZE, p.master.send, (m_src, 40, bytes(497), DONT_BLOCK)),
        (ValueError, None, p.master.send, (m_src, 40, b"x", -5)),
        (ValueError, None, p.master.send, (m_src, 40, b"x", 1 << 40)),
        (RPMsgError, ERR_PARAM, p.master.send, (other.master.create_ept(30, Inbox()), 40, b"x", 0)),
        (RPMsgError, ERR_PARAM, p.master.create_ept, (30, Inbox())),
        (RPMsgError, ERR_PARAM, p.master.destroy_ept, (other.master.endpoint(30),)),
        (RPMsgError, ERR_PARAM, p.master.send_nocopy, (m_src, 40, other.master.alloc_tx_buffer(0), 1)),
        (RPMsgError, ERR_PARAM, p.remote.release_rx_buffer, (bytearray(16),)),
        (RPMsgError, ERR_BUFF_SIZE, p.master.send_nocopy, (m_src, 40, p.master.alloc_tx_buffer(0), 1000)),
    ]
    for exc, code, fn, args in checks:
        e = raises(exc, fn, *args)
        if code is not None:
            assert e.code == code, (fn, e)
    # The allocated-but-unsent buffer above is still the sender's to use.
    p.master.send(m_src, 40, b"still works", DONT_BLOCK)
    p.to_remote()
    buf = bytearray(32)
    assert q.recv(buf, 0) == (30, 11)
    dead = Pair()
    ept = dead.master.create_ept(30, Inbox())
    dead.master.deinit()
    assert raises(RPMsgError, dead.master.send, ept, 40, b"x", 0).code == NOT_READY
    assert raises(RPMsgError, dead.master.release_rx_buffer, bytearray(4)).code == ERR_PARAM


# -- restarts ---------------------------------------------------------------


def _restart_master(p):
    p.master.deinit()
    p.master = RPMsgLite.master(p.shm, p.loop.master, p.config)


def test_remote_recovers_when_the_master_formats_the_rings_again():
    p = Pair()
    q = Queue(p.remote)
    p.remote.create_ept(40, q)
    src = p.master.create_ept(30, Inbox())
    for i in range(3):
        p.master.send(src, 40, bytes([i]), DONT_BLOCK)
    p.to_remote()
    old_view = q.recv_view(0)  # held by the application
    tx = p.remote.alloc_tx_buffer(0)  # allocated, not sent
    _restart_master(p)
    p.loop.deliver()  # the new master's init kick
    assert p.remote.stats()["peer_restarts"] == 1 and p.remote.is_link_up()
    assert q.len() == 0  # messages of the old generation are gone
    # Old buffers are refused and the new rings are left alone.
    image = bytes(p.shm)
    assert raises(RPMsgError, p.remote.release_rx_buffer, old_view).code == ERR_PARAM
    assert raises(RPMsgError, p.remote.send_nocopy, p.remote.endpoint(40), 30, tx, 1).code == ERR_PARAM
    assert bytes(p.shm) == image
    # No buffer leaked: every buffer of both directions is usable.
    p.remote.destroy_ept(p.remote.endpoint(40))
    p.remote.create_ept(40, Inbox())
    _traffic_ok(p, 3 * p.config.buffer_count)
    assert p.master.free_tx_buffers() == p.remote.free_tx_buffers() == p.config.buffer_count


def test_remote_stops_while_the_master_formats_and_resumes_on_its_kick():
    # The master is mid-format (its kick not sent yet): the remote sees its
    # own used index change, takes nothing and reports the link down.
    p = Pair()
    src = _ept(p.remote, 40)
    _ept(p.master, 30)
    p.remote.send(src, 30, b"before", DONT_BLOCK)
    p.to_master()
    used0 = p.remote.layout.vrings[0].used
    _poke(p.shm, used0 + 2, 2, 0)  # the master's zero fill reached vring 0
    assert raises(RPMsgError, p.remote.send, src, 30, b"x", DONT_BLOCK).code in (NOT_READY, ERR_NO_MEM)
    assert not p.remote.is_link_up()
    _restart_master(p)
    p.loop.deliver()
    assert p.remote.is_link_up() and p.remote.stats()["peer_restarts"] == 1
    _traffic_ok(p)


def test_remote_restarting_with_attach_loses_nothing():
    p = Pair()
    got = Inbox()
    p.master.create_ept(30, got)
    src = _ept(p.master, 30)
    p.remote.create_ept(40, Inbox(HOLD))
    for i in range(3):
        p.master.send(src, 40, bytes([i]), DONT_BLOCK)
    p.to_remote()
    p.remote.deinit()
    p.remote = RPMsgLite.remote(p.shm, p.loop.remote, p.config, 0, True)
    again = Inbox()
    p.remote.create_ept(40, again)
    p.remote.poll()
    assert [m[0] for m in again.messages] == [b"\x00", b"\x01", b"\x02"]  # redelivered
    _traffic_ok(p)


def test_a_c_style_remote_restart_needs_the_master_to_reinitialise():
    # docs/protocol.md#link-up, rpmsg-lite issue #11: a remote that restarts with fresh indices
    # (as C RPMsg-Lite does) is out of step with the running master. It
    # never sees an init kick, so its link stays down and it cannot send;
    # old entries would be read again. What the user must do: re-create the
    # master link (it formats the rings and kicks), with the remote
    # initialised first. Then both directions work.
    p = Pair()
    src = _ept(p.master, 30)
    p.remote.create_ept(40, Inbox())
    for i in range(6):
        p.master.send(src, 40, bytes([i]), DONT_BLOCK)
        p.to_remote()
    p.remote.deinit()
    p.remote = RPMsgLite.remote(p.shm, p.loop.remote, p.config)  # fresh, not attach
    r_src = p.remote.create_ept(40, Inbox())
    assert not p.remote.wait_for_link_up(0)
    assert raises(RPMsgError, p.remote.send, r_src, 30, b"x", 0).code == NOT_READY
    _restart_master(p)
    p.loop.deliver()
    assert p.remote.is_link_up()
    _traffic_ok(p, 3 * p.config.buffer_count)


# -- fuzzing ----------------------------------------------------------------


def test_seeded_fuzz_never_escapes_and_always_recovers():
    # Deterministic on both interpreters (xorshift32); the hypothesis run on
    # CPython (test_fuzz.py) covers far more cases.
    steps = 40000 if IS_MICROPYTHON else 8000
    totals = fuzzer.run_seeded(20261121, steps)
    assert totals.steps == steps
    assert totals.damage > 0  # corruption really was seen and counted
    assert totals.recoveries > 0 and totals.remote_resets > 0
    assert totals.received > steps // 20  # traffic kept flowing between the damage
