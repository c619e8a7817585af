"""The blocking receive queue (rpmsg_queue.c)."""

import time

from rpmsg_lite import Queue, RPMsgError, ERR_NO_BUFF, ERR_BUFF_SIZE, ERR_NO_MEM, ERR_PARAM, DONT_BLOCK
from linkpair import Pair, Inbox, pattern
from support import raises


def _setup(p=None):
    p = p or Pair()
    q = Queue(p.remote)
    p.remote.create_ept(40, q)
    src = p.master.create_ept(30, Inbox())
    return p, q, src


def test_recv_copies_in_order_and_returns_src_and_length():
    p, q, src = _setup()
    for n in (5, 0, 496):
        p.master.send(src, 40, pattern(n, n), DONT_BLOCK)
    p.to_remote()
    assert q.len() == 3 and len(q) == 3
    buf = bytearray(496)
    for n in (5, 0, 496):
        assert q.recv(buf, DONT_BLOCK) == (30, n)
        assert bytes(buf[:n]) == pattern(n, n)
    assert q.len() == 0


def test_recv_into_and_src_attribute():
    p, q, src = _setup()
    other = p.master.create_ept(31, Inbox())
    p.master.send(other, 40, b"from 31", DONT_BLOCK)
    p.to_remote()
    buf = bytearray(8)
    assert q.recv_into(buf, DONT_BLOCK) == 7 and q.src == 31


def test_empty_queue_times_out_with_err_no_buff():
    p, q, src = _setup()
    assert raises(RPMsgError, q.recv, bytearray(8), DONT_BLOCK).code == ERR_NO_BUFF
    start = time.ticks_ms()
    e = raises(RPMsgError, q.recv, bytearray(8), 25)
    assert e.code == ERR_NO_BUFF
    assert time.ticks_diff(time.ticks_ms(), start) >= 25
    assert raises(RPMsgError, q.recv_nocopy, 0).code == ERR_NO_BUFF


def test_blocking_recv_gets_a_message_sent_meanwhile():
    # The message is only notified, not delivered: recv's wait lets the
    # loopback deliver it.
    p, q, src = _setup()
    p.master.send(src, 40, b"later", DONT_BLOCK)
    buf = bytearray(16)
    assert q.recv(buf, 1000) == (30, 5)


def test_too_small_buffer_raises_and_keeps_the_message():
    p, q, src = _setup()
    p.master.send(src, 40, pattern(100), DONT_BLOCK)
    p.to_remote()
    e = raises(RPMsgError, q.recv, bytearray(99), DONT_BLOCK)
    assert e.code == ERR_BUFF_SIZE
    assert q.len() == 1
    buf = bytearray(100)
    assert q.recv(buf, DONT_BLOCK) == (30, 100) and bytes(buf) == pattern(100)


def test_recv_nocopy_and_free():
    p, q, src = _setup()
    p.master.send(src, 40, b"zero-copy", DONT_BLOCK)
    p.to_remote()
    s, payload = q.recv_nocopy(DONT_BLOCK)
    assert s == 30 and bytes(payload) == b"zero-copy"
    q.nocopy_free(payload)
    assert raises(RPMsgError, q.nocopy_free, payload).code == ERR_PARAM


def test_a_full_queue_pushes_back_instead_of_dropping():
    # The queue holds every buffer the peer can send into, so it is never
    # full; when the application stops reading, the SENDER runs out of
    # buffers (ERR_NO_MEM) and no message is lost.
    p, q, src = _setup()
    sent = 0
    while True:
        try:
            p.master.send(src, 40, bytes([sent]), DONT_BLOCK)
        except RPMsgError as e:
            assert e.code == ERR_NO_MEM
            break
        sent += 1
        p.to_remote()
    assert sent == p.config.buffer_count and q.len() == sent
    buf = bytearray(1)
    q.recv(buf, DONT_BLOCK)
    assert buf[0] == 0
    p.master.send(src, 40, bytes([sent]), DONT_BLOCK)
    p.to_remote()
    got = []
    while q.len():
        q.recv(buf, DONT_BLOCK)
        got.append(buf[0])
    assert got == list(range(1, sent + 1))


def test_queue_shared_by_two_endpoints_keeps_arrival_order():
    p = Pair()
    q = Queue(p.remote)
    p.remote.create_ept(40, q)
    p.remote.create_ept(41, q)
    src = p.master.create_ept(30, Inbox())
    for dst in (41, 40, 41):
        p.master.send(src, 40 if dst == 40 else 41, bytes([dst]), DONT_BLOCK)
    p.to_remote()
    buf = bytearray(1)
    order = []
    while q.len():
        q.recv(buf, DONT_BLOCK)
        order.append(buf[0])
    assert order == [41, 40, 41]


def test_queue_of_another_link_is_rejected():
    p, q, src = _setup()
    other = Pair()
    assert raises(RPMsgError, other.remote.create_ept, 40, q).code == ERR_PARAM


def test_flush_gives_every_buffer_back():
    p, q, src = _setup()
    for i in range(p.config.buffer_count):
        p.master.send(src, 40, b"x", DONT_BLOCK)
    p.to_remote()
    assert q.flush() == p.config.buffer_count and q.len() == 0
    for i in range(p.config.buffer_count):
        p.master.send(src, 40, b"y", DONT_BLOCK)


def test_messages_queued_before_deinit_can_still_be_read():
    # deinit drops the link's payload views (an mmap can then be closed);
    # the queue still hands out what it held, as views made afresh.
    p, q, src = _setup()
    for data in (b"first", b"second"):
        p.master.send(src, 40, data, DONT_BLOCK)
    p.to_remote()
    p.remote.deinit()
    view = q.recv_view(DONT_BLOCK)
    assert bytes(view) == b"first" and q.src == 30
    q.nocopy_free(view)
    buf = bytearray(8)
    assert q.recv_into(buf, DONT_BLOCK) == 6 and bytes(buf[:6]) == b"second"
    assert q.len() == 0


def test_recv_into_copies_every_length_to_aligned_and_unaligned_buffers():
    # The copy goes by four words, then words, then bytes (aligned
    # destination) or bytes only (unaligned): every split is checked.
    p, q, src = _setup()
    room = bytearray(500)
    for n in (1, 3, 4, 15, 16, 17, 37, 64, 496):
        for at in (0, 1, 4):
            room[:] = b"\xee" * 500
            p.master.send(src, 40, pattern(n, n + at), DONT_BLOCK)
            p.to_remote()
            assert q.recv_into(memoryview(room)[at:], DONT_BLOCK) == n
            assert bytes(room[at : at + n]) == pattern(n, n + at)
            assert room[:at] == b"\xee" * at and room[at + n :] == b"\xee" * (500 - at - n)
