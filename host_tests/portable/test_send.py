"""Copy send and zero-copy send, their timeouts and every error code
(rpmsg_lite_send, rpmsg_lite_send_nocopy; docs/protocol.md#data-path, #errors)."""

import time

from rpmsg_lite import (
    RPMsgError,
    RPMsgLite,
    ERR_NO_MEM,
    ERR_BUFF_SIZE,
    ERR_PARAM,
    NOT_READY,
    DONT_BLOCK,
    BLOCK,
    HOLD,
)
from rpmsg_lite.rings import read16
from linkpair import Pair, Inbox, pattern, small_config
from support import raises


def _exhaust(p, src, dst=40):
    """Send until the master has no TX buffer left (the remote holds all)."""
    for i in range(p.config.buffer_count):
        p.master.send(src, dst, bytes([i]), DONT_BLOCK)


def test_largest_payload_fits_and_one_more_byte_is_rejected():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, pattern(496), DONT_BLOCK)
    e = raises(RPMsgError, p.master.send, src, 40, pattern(497), DONT_BLOCK)
    assert e.code == ERR_BUFF_SIZE and e.name == "RL_ERR_BUFF_SIZE"
    p.to_remote()
    assert inbox.messages == [(pattern(496), 30)]


def test_payload_not_a_multiple_of_four():
    # buffer = WORD_ALIGN_UP(payload + 16); the limit is the payload itself.
    p = Pair(small_config(payload_size=61))
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, pattern(61), DONT_BLOCK)
    assert raises(RPMsgError, p.master.send, src, 40, pattern(62), DONT_BLOCK).code == ERR_BUFF_SIZE
    assert len(p.master.alloc_tx_buffer(DONT_BLOCK)) == 61
    p.to_remote()
    assert inbox.messages == [(pattern(61), 30)]


def test_unaligned_and_odd_sources_copy_exactly():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    data = bytearray(pattern(300, 5))
    p.master.send(src, 40, memoryview(data)[1:258], DONT_BLOCK)  # unaligned start
    p.master.send(src, 40, memoryview(data)[4:11], DONT_BLOCK)  # aligned, odd length
    p.to_remote()
    assert inbox.messages == [(bytes(data[1:258]), 30), (bytes(data[4:11]), 30)]


def test_dont_block_without_buffers_is_err_no_mem_and_recovers():
    p = Pair()
    p.remote.create_ept(40, Inbox(HOLD))
    src = p.master.create_ept(30, Inbox())
    _exhaust(p, src)
    e = raises(RPMsgError, p.master.send, src, 40, b"x", DONT_BLOCK)
    assert e.code == ERR_NO_MEM
    assert raises(RPMsgError, p.master.alloc_tx_buffer, DONT_BLOCK).code == ERR_NO_MEM
    # Buffers come back once the remote releases what it holds.
    p.to_remote()
    inbox = p.remote.endpoint(40).callback
    for view in inbox.views:
        p.remote.release_rx_buffer(view)
    p.master.send(src, 40, b"again", DONT_BLOCK)


def test_timeout_waits_about_that_long_then_err_no_mem():
    p = Pair()
    p.remote.create_ept(40, Inbox(HOLD))
    src = p.master.create_ept(30, Inbox())
    _exhaust(p, src)
    start = time.ticks_ms()
    e = raises(RPMsgError, p.master.send, src, 40, b"x", 30)
    waited = time.ticks_diff(time.ticks_ms(), start)
    assert e.code == ERR_NO_MEM and "30 ms" in str(e)
    assert 30 <= waited < 2000, waited


def test_blocking_send_succeeds_when_the_peer_consumes():
    # The loopback platform delivers pending notifications while a sender
    # waits, so the remote consumes and returns buffers in the meantime.
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    for i in range(5 * p.config.buffer_count):
        p.master.send(src, 40, bytes([i]), BLOCK)
    p.loop.deliver()
    assert [m[0][0] for m in inbox.messages] == list(range(5 * p.config.buffer_count))


def test_invalid_timeouts_are_value_errors_and_leave_the_link_working():
    p = Pair()
    p.remote.create_ept(40, Inbox(HOLD))
    src = p.master.create_ept(30, Inbox())
    _exhaust(p, src)
    for bad in (-1, 0x100000000, 1.5, None):
        raises(ValueError, p.master.send, src, 40, b"x", bad)
        raises(ValueError, p.master.alloc_tx_buffer, bad)
        raises(ValueError, p.master.wait_for_link_up, bad)
    assert p.master.stats()["tx_bad_entries"] == 0


def test_send_before_link_up_is_not_ready():
    cfg = small_config()
    p = Pair(cfg, up=False)
    ept = p.remote.create_ept(40, Inbox())
    assert not p.remote.is_link_up()
    assert raises(RPMsgError, p.remote.send, ept, 30, b"early", DONT_BLOCK).code == NOT_READY
    assert raises(RPMsgError, p.remote.alloc_tx_buffer, DONT_BLOCK).code == NOT_READY
    # Receiving is not gated (rpmsg_lite_rx_callback): the master's messages arrive anyway.
    inbox = Inbox()
    p.remote.destroy_ept(ept)
    p.remote.create_ept(40, inbox)
    p.master.send(p.master.create_ept(30, Inbox()), 40, b"hi", DONT_BLOCK)
    p.loop.remote.deliver()
    assert inbox.messages == [(b"hi", 30)] and p.remote.is_link_up()


def test_send_after_deinit_is_not_ready_and_other_calls_param():
    p = Pair()
    src = p.master.create_ept(30, Inbox())
    p.master.deinit()
    assert raises(RPMsgError, p.master.send, src, 40, b"x", DONT_BLOCK).code == NOT_READY
    assert raises(RPMsgError, p.master.alloc_tx_buffer, DONT_BLOCK).code == NOT_READY
    assert raises(RPMsgError, p.master.create_ept, 31, Inbox()).code == ERR_PARAM
    assert not p.master.is_link_up()
    p.master.deinit()  # twice is harmless
    p.master.isr(0)  # a late doorbell is ignored


def test_send_from_a_foreign_endpoint_is_param():
    p = Pair()
    theirs = p.remote.create_ept(40, Inbox())
    assert raises(RPMsgError, p.master.send, theirs, 40, b"x", DONT_BLOCK).code == ERR_PARAM
    assert raises(RPMsgError, p.master.send, 30, 40, b"x", DONT_BLOCK).code == ERR_PARAM


def test_copy_send_leaves_reserved_as_rpmsg_lite_does():
    # Spec 3 / issue #64: RL_HOLD stamps the descriptor index into reserved
    # (bytes 10-11) and a later copy send does not clear it, so the stale
    # idx travels on the wire again.
    p = Pair()
    inbox = Inbox(HOLD)
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, b"a", DONT_BLOCK)  # desc 0, buffer 4
    p.master.send(src, 40, b"b", DONT_BLOCK)  # desc 1, buffer 5
    p.to_remote()
    buffer5 = p.master.layout.buffer_offset(5)
    assert read16(p.shm, buffer5 + 10) == 1  # stamped on RL_HOLD
    for view in inbox.views:
        p.remote.release_rx_buffer(view)
    inbox.result = 0
    for data in (b"c", b"d", b"e", b"f"):  # descs 2, 3, 0, 1: buffer 5 last
        p.master.send(src, 40, data, DONT_BLOCK)
    assert bytes(p.shm[buffer5 : buffer5 + 16]) == b"\x1e\0\0\0\x28\0\0\0\0\0\x01\0\x01\0\0\0"
    p.to_remote()
    assert [m[0] for m in inbox.messages] == [b"a", b"b", b"c", b"d", b"e", b"f"]


def test_zero_copy_send_and_errors():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(30, Inbox())
    buf = p.master.alloc_tx_buffer(DONT_BLOCK)
    assert len(buf) == 496
    buf[:5] = b"zero!"
    assert raises(RPMsgError, p.master.send_nocopy, src, 40, buf, 497).code == ERR_BUFF_SIZE
    p.master.send_nocopy(src, 40, buf, 5)
    # Sending it again, or a buffer that is not from alloc_tx_buffer, fails.
    assert raises(RPMsgError, p.master.send_nocopy, src, 40, buf, 5).code == ERR_PARAM
    assert raises(RPMsgError, p.master.send_nocopy, src, 40, bytearray(16), 5).code == ERR_PARAM
    assert raises(RPMsgError, p.master.send_nocopy, src, 40, memoryview(buf)[1:], 4).code == ERR_PARAM
    p.to_remote()
    assert inbox.messages == [(b"zero!", 30)]


def test_zero_copy_buffer_of_another_link_is_param():
    a, b = Pair(), Pair()
    src = a.master.create_ept(30, Inbox())
    foreign = b.master.alloc_tx_buffer(DONT_BLOCK)
    assert raises(RPMsgError, a.master.send_nocopy, src, 40, foreign, 1).code == ERR_PARAM
    b.master.send_nocopy(b.master.create_ept(30, Inbox()), 40, foreign, 1)  # still usable


def test_alloc_tx_buffer_stamps_the_descriptor_index():
    # rpmsg_lite_alloc_tx_buffer writes reserved.idx (docs/protocol.md#header).
    p = Pair()
    views = [p.master.alloc_tx_buffer(DONT_BLOCK) for _ in range(4)]
    for i in range(4):
        assert read16(p.shm, p.master.layout.buffer_offset(4 + i) + 10) == i
    assert len(views) == 4


def test_remote_to_master_zero_copy():
    p = Pair()
    inbox = Inbox()
    p.master.create_ept(30, inbox)
    src = p.remote.create_ept(40, Inbox())
    for i in range(3 * p.config.buffer_count):
        buf = p.remote.alloc_tx_buffer(DONT_BLOCK)
        buf[0] = i
        p.remote.send_nocopy(src, 30, buf, 1)
        p.to_master()
    assert [m[0][0] for m in inbox.messages] == list(range(3 * p.config.buffer_count))


def test_many_round_trips_both_directions_every_size():
    p = Pair(small_config(buffer_count=2, payload_size=64))
    at_remote, at_master = Inbox(), Inbox()
    p.remote.create_ept(40, at_remote)
    p.master.create_ept(30, at_master)
    m_src, r_src = p.master.endpoint(30), p.remote.endpoint(40)
    for n in range(65):
        p.master.send(m_src, 40, pattern(n, n), DONT_BLOCK)
        p.remote.send(r_src, 30, pattern(n, 255 - n), DONT_BLOCK)
        p.loop.deliver()
    assert at_remote.messages == [(pattern(n, n), 30) for n in range(65)]
    assert at_master.messages == [(pattern(n, 255 - n), 40) for n in range(65)]
    assert RPMsgLite is not None
