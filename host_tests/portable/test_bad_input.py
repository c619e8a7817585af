"""Bad input at the API edge: a call that raises changes nothing (free
buffers, ring indices, shared memory) and the link still carries traffic;
dst is range-checked, str payloads and read-only receive buffers are
refused alike on both interpreters; callback errors are reported. Also
doorbell suppression (Config.doorbell_suppression) losing nothing."""

from rpmsg_lite import RPMsgError, Config, Queue, ERR_PARAM, DONT_BLOCK
from linkpair import Pair, Inbox, small_config
from support import raises


def _snapshot(p):
    return bytes(p.shm), p.master.free_tx_buffers(), p.remote.free_tx_buffers()


def _still_works(p, inbox):
    before = len(inbox.messages)
    p.master.send(p.master.endpoint(30), 40, b"ok", DONT_BLOCK)
    p.to_remote()
    assert inbox.messages[before:] == [(b"ok", 30)]


def _pair():
    p = Pair()
    inbox = Inbox()
    p.master.create_ept(30, Inbox())
    p.remote.create_ept(40, inbox)
    return p, inbox


def test_a_send_that_raises_takes_no_buffer_and_changes_no_byte():
    p, inbox = _pair()
    src = p.master.endpoint(30)
    bad = [
        (40, [1, 2, 3]),
        (40, (1, 2, 3)),
        (40, {1: 2}),
        (40, "text"),
        (40, 17),
        (40, None),
        ("40", b"x"),
        (4.5, b"x"),
        (2**32, b"x"),
        (2**32 + 40, b"x"),
        (-2, b"x"),
        (None, b"x"),
    ]
    for rounds in range(2):  # more attempts than the 4 TX buffers
        for dst, data in bad:
            before = _snapshot(p)
            raises((TypeError, RPMsgError, ValueError), p.master.send, src, dst, data, DONT_BLOCK)
            assert _snapshot(p) == before, (dst, data)
    assert p.master.free_tx_buffers() == p.config.buffer_count
    _still_works(p, inbox)


def test_dst_is_range_checked_and_the_whole_range_is_accepted():
    p, inbox = _pair()
    src = p.master.endpoint(30)
    for dst in (2**32, -1, -2, 2**40):
        e = raises(RPMsgError, p.master.send, src, dst, b"x", DONT_BLOCK)
        assert e.code == ERR_PARAM and "dst" in str(e)
    p.remote.create_ept(0xFFFFFFFE, inbox)
    for dst in (0, 0x3FFFFFFF, 0x40000000, 0xFFFFFFFE):
        p.master.send(src, dst, b"y", DONT_BLOCK)
        p.to_remote()
    assert p.remote.stats()["unknown_dst"] == 3  # 0, 0x3FFFFFFF, 0x40000000
    assert inbox.messages == [(b"y", 30)]


def test_str_payloads_are_a_type_error_naming_bytes_like_objects():
    p, inbox = _pair()
    src = p.master.endpoint(30)
    for text in ("abc", "\u00e9\u00e9\u00e9", ""):
        e = raises(TypeError, p.master.send, src, 40, text, DONT_BLOCK)
        assert "bytes-like" in str(e)
    assert p.master.free_tx_buffers() == p.config.buffer_count
    _still_works(p, inbox)


def test_receiving_into_a_read_only_buffer_is_refused_and_keeps_the_message():
    p = Pair()
    src = p.master.create_ept(30, Inbox())
    q = Queue(p.remote)
    p.remote.create_ept(41, q)
    p.master.send(src, 41, b"12345678", DONT_BLOCK)
    p.to_remote()
    literal = b"xxxxxxxx"
    for buf in (literal, memoryview(literal), b""):
        raises(TypeError, q.recv, buf, 0)
        raises(TypeError, q.recv_into, buf, 0)
    assert literal == b"x" * 8 and bytes(memoryview(literal)) == b"xxxxxxxx"
    assert len(q) == 1
    buf = bytearray(8)
    assert q.recv(buf, 0) == (30, 8) and buf == bytearray(b"12345678")


def test_alloc_and_send_nocopy_with_bad_arguments_give_nothing_away():
    p, inbox = _pair()
    src = p.master.endpoint(30)
    view = p.master.alloc_tx_buffer(DONT_BLOCK)
    view[:3] = b"abc"
    free = p.master.free_tx_buffers()
    for dst, size in ((2**32, 3), (-1, 3), (40, -1), (40, 10**6), (40, "3"), ("x", 3)):
        raises((TypeError, RPMsgError), p.master.send_nocopy, src, dst, view, size)
        assert p.master.free_tx_buffers() == free
    p.master.send_nocopy(src, 40, view, 3)
    p.to_remote()
    assert inbox.messages == [(b"abc", 30)]


class _Boom:
    def __init__(self):
        self.calls = 0

    def __call__(self, payload, src):
        self.calls += 1
        raise ValueError("boom %d" % self.calls)


def test_callback_errors_go_to_the_handler_and_delivery_goes_on():
    p = Pair()
    src = p.master.create_ept(30, Inbox())
    boom = _Boom()
    inbox = Inbox()
    p.remote.create_ept(40, boom)
    p.remote.create_ept(41, inbox)
    seen = []
    p.remote.set_callback_error_handler(lambda link, exc: seen.append((link, str(exc))))
    for rounds in range(3):  # more than the buffers: each one is given back
        for dst in (40, 41, 40):
            p.master.send(src, dst, b"m", DONT_BLOCK)
        p.to_remote()
    assert boom.calls == 6 and len(inbox.messages) == 3
    assert seen == [(p.remote, "boom %d" % (i + 1)) for i in range(6)]
    assert p.remote.callback_errors == 6 and str(p.remote.last_callback_error) == "boom 6"
    assert p.master.free_tx_buffers() == p.config.buffer_count


def test_callback_errors_are_printed_by_default():
    import sys

    p = Pair()
    src = p.master.create_ept(30, Inbox())
    p.remote.create_ept(40, _Boom())
    printed = []
    try:
        import io

        out = io.StringIO()
    except ImportError:
        out = None
    # The default handler prints (print + sys.print_exception or traceback):
    # capture stdout/stderr where the interpreter lets us, else just run it.
    saved = (sys.stdout, sys.stderr) if out is not None and hasattr(sys, "__stdout__") else None
    if saved:
        sys.stdout = sys.stderr = out
    try:
        p.master.send(src, 40, b"m", DONT_BLOCK)
        p.to_remote()
    finally:
        if saved:
            sys.stdout, sys.stderr = saved
    if saved:
        printed = out.getvalue()
        assert "callback raised" in printed and "boom 1" in printed
    assert p.remote.callback_errors == 1


def test_doorbell_suppression_skips_doorbells_during_a_drain_and_loses_nothing():
    # The remote's callback makes the master send again while the remote is
    # still draining: with suppression the master sees NO_NOTIFY and rings
    # no doorbell, and the drain picks the message up itself.
    for suppress in (False, True):
        p = Pair(small_config(doorbell_suppression=suppress))
        src = p.master.create_ept(30, Inbox())
        got = []

        def echo(payload, s, got=got, p=p, src=src):
            got.append(bytes(payload))
            if len(got) < 50:
                p.master.send(src, 40, bytes([len(got)]), DONT_BLOCK)

        p.remote.create_ept(40, echo)
        p.master.send(src, 40, bytes([0]), DONT_BLOCK)
        p.loop.deliver()
        assert got == [bytes([i]) for i in range(50)]
        bells = p.master.stats()["tx_doorbells"]
        assert p.master.stats()["tx_messages"] == 50
        assert bells == (1 if suppress else 50), (suppress, bells)
        assert p.loop.remote.pending() == []
        # used.flags is clear again once the drain returned
        assert p.remote.stats()["rx_pending"] == 0
        p.master.send(src, 40, b"z", DONT_BLOCK)
        assert p.loop.remote.pending() == [1]  # vring 1 on link 0: rung again
    assert Config(doorbell_suppression=True).doorbell_suppression is True
