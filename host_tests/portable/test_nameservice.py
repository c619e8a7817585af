"""Name service on address 53 (rpmsg_ns.c; docs/protocol.md#name-service)."""

from rpmsg_lite import (
    NameService,
    RPMsgError,
    NS_CREATE,
    NS_DESTROY,
    NS_EPT_ADDR,
    NOT_READY,
    ERR_PARAM,
    DONT_BLOCK,
)
from rpmsg_lite.nameservice import encode, decode
from linkpair import Pair, Inbox
from support import raises


def _bound(p):
    seen = []
    ns = NameService(p.master, lambda addr, name, flags: seen.append((addr, name, flags)))
    return ns, seen


def test_announce_create_and_destroy_reach_the_callback():
    p = Pair()
    ns, seen = _bound(p)
    assert ns.ept.addr == NS_EPT_ADDR == 53
    ept = p.remote.create_ept(40, Inbox())
    p.remote.ns_announce(ept, "rpmsg-tty", NS_CREATE)
    p.remote.ns_announce(ept, "rpmsg-tty", NS_DESTROY)
    p.to_master()
    assert seen == [(40, "rpmsg-tty", 0), (40, "rpmsg-tty", 1)]


def test_wire_format_matches_the_golden_frame():
    # Spec 5: ept 0x1E announcing "rpmsg-openamp-demo-channel": header src
    # 0x1E, dst 0x35, len 40; name zero padded, then addr and flags.
    p = Pair()
    spy = Inbox()
    p.master.create_ept(53, spy)
    ept = p.remote.create_ept(0x1E, Inbox())
    p.remote.ns_announce(ept, "rpmsg-openamp-demo-channel")
    off = p.master.layout.buffer_offset(0)
    header = bytes(p.shm[off : off + 16])
    assert header[:8] == b"\x1e\x00\x00\x00\x35\x00\x00\x00" and header[12:] == b"\x28\x00\x00\x00"
    assert bytes(p.shm[off + 16 : off + 56]) == b"rpmsg-openamp-demo-channel" + bytes(6) + b"\x1e\0\0\0\0\0\0\0"
    p.to_master()
    assert spy.messages[0][1] == 0x1E  # sent from the endpoint itself, not 53


def test_32_byte_name_is_not_terminated_and_round_trips():
    name = "n" * 32
    msg = encode(name, 7, NS_CREATE)
    assert len(msg) == 40 and bytes(msg[:32]) == name.encode()
    assert decode(msg) == (7, name, 0)
    p = Pair()
    ns, seen = _bound(p)
    p.remote.ns_announce(p.remote.create_ept(7, Inbox()), name)
    p.to_master()
    assert seen == [(7, name, 0)]


def test_bad_names_and_flags_are_value_errors():
    p = Pair()
    ept = p.remote.create_ept(40, Inbox())
    raises(ValueError, p.remote.ns_announce, ept, "x" * 33)
    raises(ValueError, p.remote.ns_announce, ept, "a\x00b")
    raises(ValueError, p.remote.ns_announce, ept, "ok", 2)
    p.remote.ns_announce(ept, b"bytes-name")  # bytes are accepted as they are


def test_messages_of_other_lengths_are_ignored_and_counted():
    p = Pair()
    ns, seen = _bound(p)
    src = p.remote.create_ept(40, Inbox())
    p.remote.send(src, 53, bytes(39), DONT_BLOCK)
    p.remote.send(src, 53, bytes(41), DONT_BLOCK)
    p.remote.send(src, 53, b"\xff" * 32 + bytes(8), DONT_BLOCK)  # not UTF-8
    p.to_master()
    assert seen == [] and ns.malformed == 3


def test_announce_before_link_up_is_not_ready():
    p = Pair(up=False)
    ept = p.remote.create_ept(40, Inbox())
    assert raises(RPMsgError, p.remote.ns_announce, ept, "early", NS_CREATE, DONT_BLOCK).code == NOT_READY


def test_unbind_frees_address_53():
    p = Pair()
    ns, seen = _bound(p)
    assert raises(RPMsgError, p.master.create_ept, 53, Inbox()).code == ERR_PARAM
    ns.unbind()
    p.master.create_ept(53, Inbox())


def test_name_service_announce_method():
    p = Pair()
    seen = []
    NameService(p.remote, lambda a, n, f: seen.append((a, n, f)))
    ns, _ = _bound(p)
    ns.announce(p.master.create_ept(30, Inbox()), "master-service")
    p.to_remote()
    assert seen == [(30, "master-service", 0)]
