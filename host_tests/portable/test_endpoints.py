"""Endpoints: addresses, lookup by destination, callbacks (docs/protocol.md#endpoints)."""

from rpmsg_lite import RPMsgError, ADDR_ANY, ERR_PARAM, HOLD, RELEASE, DONT_BLOCK
from linkpair import Pair, Inbox, pattern
from support import raises


def test_any_takes_the_lowest_free_address_from_one():
    p = Pair()
    m = p.master
    assert [m.create_ept(ADDR_ANY, Inbox()).addr for _ in range(3)] == [1, 2, 3]
    m.destroy_ept(m.endpoint(2))
    assert m.create_ept(ADDR_ANY, Inbox()).addr == 2
    m.create_ept(5, Inbox())
    assert m.create_ept(ADDR_ANY, Inbox()).addr == 4
    assert m.create_ept(ADDR_ANY, Inbox()).addr == 6


def test_fixed_addresses_including_zero():
    m = Pair().master
    assert m.create_ept(0, Inbox()).addr == 0
    assert m.create_ept(0xFFFFFFFE, Inbox()).addr == 0xFFFFFFFE


def test_duplicate_address_is_rejected_and_the_first_keeps_working():
    p = Pair()
    first = Inbox()
    p.remote.create_ept(40, first)
    e = raises(RPMsgError, p.remote.create_ept, 40, Inbox())
    assert e.code == ERR_PARAM and "40" in str(e)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, b"still here", DONT_BLOCK)
    p.to_remote()
    assert first.messages == [(b"still here", 30)]


def test_bad_addresses_and_callbacks():
    m = Pair().master
    for bad in (-1, 0x100000000, "7", None):
        assert raises(RPMsgError, m.create_ept, bad, Inbox()).code == ERR_PARAM
    assert raises(RPMsgError, m.create_ept, 9, None).code == ERR_PARAM
    assert raises(RPMsgError, m.create_ept, 9, 42).code == ERR_PARAM


def test_destroy_unknown_or_foreign_endpoint():
    p = Pair()
    ept = p.master.create_ept(30, Inbox())
    assert raises(RPMsgError, p.remote.destroy_ept, ept).code == ERR_PARAM
    p.master.destroy_ept(ept)
    assert raises(RPMsgError, p.master.destroy_ept, ept).code == ERR_PARAM
    assert raises(RPMsgError, p.master.destroy_ept, None).code == ERR_PARAM
    # The address is free again.
    assert p.master.create_ept(30, Inbox()).addr == 30


def test_messages_go_to_the_endpoint_named_by_dst():
    p = Pair()
    a, b = Inbox(), Inbox()
    p.remote.create_ept(40, a)
    p.remote.create_ept(41, b)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 41, b"to 41", DONT_BLOCK)
    p.master.send(src, 40, b"to 40", DONT_BLOCK)
    p.to_remote()
    assert a.messages == [(b"to 40", 30)] and b.messages == [(b"to 41", 30)]


def test_unknown_destination_is_released_and_counted():
    p = Pair()
    src = p.master.create_ept(30, Inbox())
    for _ in range(p.config.buffer_count * 3):  # more than the ring holds
        p.master.send(src, 99, b"nobody", DONT_BLOCK)
        p.to_remote()
    assert p.remote.stats()["unknown_dst"] == p.config.buffer_count * 3


def test_destroyed_endpoint_no_longer_receives():
    p = Pair()
    inbox = Inbox()
    ept = p.remote.create_ept(40, inbox)
    p.remote.destroy_ept(ept)
    src = p.master.create_ept(30, Inbox())
    p.master.send(src, 40, b"late", DONT_BLOCK)
    p.to_remote()
    assert inbox.messages == [] and p.remote.stats()["unknown_dst"] == 1


def test_callback_exception_is_contained_and_buffer_released():
    p = Pair()

    def boom(payload, src):
        raise ValueError("callback bug")

    p.remote.create_ept(40, boom)
    src = p.master.create_ept(30, Inbox())
    for _ in range(p.config.buffer_count + 2):
        p.master.send(src, 40, b"x", DONT_BLOCK)
        p.to_remote()  # must not raise out of isr
    assert p.remote.stats()["callback_errors"] == p.config.buffer_count + 2
    assert isinstance(p.remote.last_callback_error, ValueError)


def test_callback_returning_none_releases():
    p = Pair()
    got = []
    p.remote.create_ept(40, lambda payload, src: got.append(bytes(payload)))
    src = p.master.create_ept(30, Inbox())
    for i in range(3 * p.config.buffer_count):
        p.master.send(src, 40, bytes([i]), DONT_BLOCK)
        p.to_remote()
    assert len(got) == 3 * p.config.buffer_count


def test_payload_view_has_the_message_length_and_the_source():
    p = Pair()
    inbox = Inbox(HOLD)
    p.remote.create_ept(40, inbox)
    src = p.master.create_ept(77, Inbox())
    sizes = (0, 1, 495, 496)  # one per buffer: the callback holds them all
    for n in sizes:
        p.master.send(src, 40, pattern(n, n), DONT_BLOCK)
    p.to_remote()
    assert [len(v) for v in inbox.views] == list(sizes)
    assert [m for m in inbox.messages] == [(pattern(n, n), 77) for n in sizes]


def test_endpoint_send_shorthand():
    p = Pair()
    inbox = Inbox()
    p.remote.create_ept(40, inbox)
    p.master.create_ept(30, Inbox()).send(40, b"short", DONT_BLOCK)
    p.to_remote()
    assert inbox.messages == [(b"short", 30)]
    assert RELEASE == 0 and HOLD == 1
