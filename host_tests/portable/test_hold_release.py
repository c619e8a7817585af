"""Holding received buffers (RL_HOLD) and giving them back (rpmsg_lite_rx_callback, rpmsg_lite_release_rx_buffer)."""

from rpmsg_lite import RPMsgError, ERR_PARAM, ERR_NO_MEM, DONT_BLOCK, HOLD
from rpmsg_lite.rings import read16
from linkpair import Pair, Inbox, pattern
from support import raises


def _held(p, count, inbox=None):
    inbox = inbox or Inbox(HOLD)
    if p.remote.endpoint(40) is None:
        p.remote.create_ept(40, inbox)
    src = p.master.endpoint(30) or p.master.create_ept(30, Inbox())
    for i in range(count):
        p.master.send(src, 40, pattern(10 + i, i), DONT_BLOCK)
    p.to_remote()
    return inbox, src


def test_held_payload_stays_valid_until_released():
    p = Pair()
    inbox, src = _held(p, 2)
    first = inbox.views[0]
    assert bytes(first) == pattern(10, 0)
    p.remote.release_rx_buffer(inbox.views[1])
    # Other traffic flows through the released buffer; the held one is intact.
    inbox.result = 0
    for i in range(8):
        p.master.send(src, 40, b"traffic", DONT_BLOCK)
        p.to_remote()
    assert bytes(first) == pattern(10, 0)
    p.remote.release_rx_buffer(first)


def test_holding_every_buffer_stalls_the_sender_until_release():
    p = Pair()
    inbox, src = _held(p, p.config.buffer_count)
    assert raises(RPMsgError, p.master.send, src, 40, b"x", DONT_BLOCK).code == ERR_NO_MEM
    p.remote.release_rx_buffer(inbox.views[2])
    p.master.send(src, 40, b"one more", DONT_BLOCK)
    assert raises(RPMsgError, p.master.send, src, 40, b"x", DONT_BLOCK).code == ERR_NO_MEM


def test_hold_stamps_the_descriptor_index_in_reserved():
    p = Pair()
    _held(p, 3)
    for i in range(3):
        assert read16(p.shm, p.master.layout.buffer_offset(4 + i) + 10) == i


def test_release_twice_is_param_and_does_not_touch_the_ring():
    p = Pair()
    inbox, src = _held(p, 1)
    view = inbox.views[0]
    p.remote.release_rx_buffer(view)
    before = bytes(p.shm)
    e = raises(RPMsgError, p.remote.release_rx_buffer, view)
    assert e.code == ERR_PARAM and "twice" in str(e)
    assert bytes(p.shm) == before


def test_foreign_buffers_are_param_and_do_not_touch_the_ring():
    p = Pair()
    other = Pair()
    inbox, src = _held(p, 1)
    other_inbox, _ = _held(other, 1)
    before = bytes(p.shm)
    for bad in (
        bytearray(16),  # not shared memory
        other_inbox.views[0],  # another link's buffer
        memoryview(p.shm)[5:20],  # inside the region, not a payload start
        memoryview(p.shm)[0:16],  # the vrings
        memoryview(inbox.views[0])[1:],  # inside a held payload
    ):
        assert raises(RPMsgError, p.remote.release_rx_buffer, bad).code == ERR_PARAM
    assert bytes(p.shm) == before
    p.remote.release_rx_buffer(inbox.views[0])
    other.remote.release_rx_buffer(other_inbox.views[0])


def test_release_of_a_tx_buffer_or_never_received_buffer_is_param():
    p = Pair()
    tx = p.remote.alloc_tx_buffer(DONT_BLOCK)
    assert raises(RPMsgError, p.remote.release_rx_buffer, tx).code == ERR_PARAM
    # A receive buffer that was never delivered (still the peer's).
    never = memoryview(p.shm)[p.master.layout.buffer_offset(5) + 16 :]
    assert raises(RPMsgError, p.remote.release_rx_buffer, never).code == ERR_PARAM


def test_master_side_hold_and_release():
    p = Pair()
    inbox = Inbox(HOLD)
    p.master.create_ept(30, inbox)
    src = p.remote.create_ept(40, Inbox())
    for i in range(p.config.buffer_count):
        p.remote.send(src, 30, bytes([i]), DONT_BLOCK)
    p.to_master()
    assert raises(RPMsgError, p.remote.send, src, 30, b"x", DONT_BLOCK).code == ERR_NO_MEM
    for view in inbox.views:
        p.master.release_rx_buffer(view)
    p.remote.send(src, 30, b"flows again", DONT_BLOCK)
    p.to_master()
    assert inbox.messages[-1] == (b"flows again", 40)


def test_release_from_inside_the_callback():
    p = Pair()
    got = []

    def release_now(payload, src):
        got.append(bytes(payload))
        p.remote.release_rx_buffer(payload)
        return HOLD  # already released: the stack must not stamp or release again

    p.remote.create_ept(40, release_now)
    src = p.master.create_ept(30, Inbox())
    for i in range(3 * p.config.buffer_count):
        p.master.send(src, 40, bytes([i]), DONT_BLOCK)
        p.to_remote()
    assert got == [bytes([i]) for i in range(3 * p.config.buffer_count)]
