"""The name service on endpoint 53 (rpmsg_ns.c; docs/protocol.md#name-service).

Message: 40 bytes, little endian: name[32] (zero padded, NOT terminated
when 32 bytes long), addr u32, flags u32. It travels from the announced
endpoint (not from 53) to address 53. Messages of any other length are
ignored, as by RPMsg-Lite and Linux.
"""

from micropython import const
import struct

from .env import BLOCK
from .endpoint import Endpoint, RELEASE
from .errors import RPMsgError, ERR_PARAM

NS_EPT_ADDR = const(53)  # RL_NS_EPT_ADDR
NS_CREATE = const(0)  # RL_NS_CREATE
NS_DESTROY = const(1)  # RL_NS_DESTROY
NAME_SIZE = const(32)  # RL_NS_NAME_SIZE
_MSG_SIZE = const(40)


def encode(name, addr, flags):
    """The 40-byte announcement for endpoint addr."""
    if isinstance(name, str):
        raw = name.encode()
    else:
        try:
            raw = bytes(memoryview(name))  # bytes-like only: bytes([1]) would take a list
        except TypeError:
            raise TypeError("a service name is a str or bytes, got %r" % (name,))
    if len(raw) > NAME_SIZE or b"\x00" in raw:
        raise ValueError("a service name is at most 32 bytes without NUL, got %r" % (name,))
    if flags != NS_CREATE and flags != NS_DESTROY:
        raise ValueError("flags must be NS_CREATE or NS_DESTROY, got %r" % (flags,))
    msg = bytearray(_MSG_SIZE)
    msg[: len(raw)] = raw
    struct.pack_into("<II", msg, NAME_SIZE, addr, flags)
    return msg


def decode(payload):
    """(addr, name, flags) of an announcement, or None if it is malformed."""
    if len(payload) != _MSG_SIZE:
        return None
    raw = bytes(payload[:NAME_SIZE])
    end = raw.find(b"\x00")
    if end >= 0:
        raw = raw[:end]
    try:
        name = raw.decode()
    except UnicodeError:
        return None
    addr, flags = struct.unpack_from("<II", payload, NAME_SIZE)
    return addr, name, flags


def announce(link, ept, name, flags=NS_CREATE, timeout_ms=BLOCK):
    """rpmsg_ns_announce: send the announcement for ept from ept to 53."""
    if not isinstance(ept, Endpoint) or ept.link is not link:
        raise RPMsgError(ERR_PARAM, "not an endpoint of this link")
    link.send(ept, NS_EPT_ADDR, encode(name, ept.addr, flags), timeout_ms)


class NameService:
    """Binds address 53 on a link (rpmsg_ns_bind) and calls
    ``callback(addr, name, flags)`` for each announcement from the peer.
    Bind it before the peer announces: announcements are not queued or
    repeated (docs/protocol.md#name-service)."""

    def __init__(self, link, callback):
        self.link = link
        self._callback = callback
        self.malformed = 0  # messages to 53 that were not valid announcements
        self.ept = link.create_ept(NS_EPT_ADDR, self._receive)

    def _receive(self, payload, src):
        message = decode(payload)
        if message is None:
            self.malformed += 1
        else:
            self._callback(message[0], message[1], message[2])
        return RELEASE

    def announce(self, ept, name, flags=NS_CREATE, timeout_ms=BLOCK):
        announce(self.link, ept, name, flags, timeout_ms)

    def unbind(self):
        """rpmsg_ns_unbind: free address 53."""
        self.link.destroy_ept(self.ept)
