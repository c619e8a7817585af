"""A byte stream over an endpoint: the REPL of one core, reachable from the
other.

Console is announced by name service as "rpmsg-tty", the channel name
Linux's rpmsg_tty driver binds, and is a stream MicroPython accepts for
os.dupterm: the REPL then reads its input from the peer and copies its
output to it. Bytes go to the address the peer last wrote from (Linux's
tty writes first, so does tools/console.py); output produced before that
is kept (up to 1 KiB) and sent once the peer is known.

Received messages stay in their shared buffers (RL_HOLD) until read: when
the REPL is busy the peer runs out of buffers and waits, nothing is lost.

Ctrl-C: a message that is exactly b"\x03", arriving while the REPL is not
reading (code is running), goes to the ``interrupt`` hook, as a UART's RX
interrupt turns the interrupt character into a KeyboardInterrupt instead
of input. Messages must then be delivered while code runs (a doorbell
thread or scheduled handler), and the hook must reach the main thread:
on the unix port, boards/host/main.py sends the process SIGINT. When the
hook declines (returns False) the byte is input like any other.
"""

import io
from micropython import const

from .endpoint import ADDR_ANY, RELEASE, HOLD
from .errors import RPMsgError
from .nameservice import NS_CREATE

TTY_NAME = "rpmsg-tty"
_MP_STREAM_POLL = const(3)
_MP_STREAM_POLL_RD = const(0x0001)
_MP_STREAM_POLL_WR = const(0x0004)
_EARLY_OUTPUT = const(1024)
_SEND_TIMEOUT_MS = const(2000)
_CTRL_C = const(3)


class Console(io.IOBase):
    """Stream over an RPMsg endpoint (see module comment).

    ``wait_ms``: how long a read with nothing buffered waits for the peer.
    ``idle``: called on every such wait (run other services of this core).
    ``alive``: returns False once the peer is gone; reads then return EOF.
    ``interrupt``: called for a lone Ctrl-C while code runs (see module
    comment); returns True if it interrupted the code.
    Create it before link-up, ``announce()`` it after.
    """

    def __init__(self, link, addr=ADDR_ANY, name=TTY_NAME, wait_ms=10, idle=None, alive=None, interrupt=None):
        self.link = link
        self.peer = None
        self._interrupt = interrupt
        self._reading = False  # the REPL (or input()) is waiting in readinto
        self._held = []  # received payload views, oldest first
        self._pos = 0  # bytes already read from _held[0]
        self._early = bytearray()
        self._wait_ms = wait_ms
        self._idle = idle
        self._alive = alive
        self.name = name
        self.ept = link.create_ept(addr, self._receive)

    def announce(self):
        """Announce the endpoint as ``name`` ("rpmsg-tty"), once the link is
        up: the peer's rpmsg_tty driver or tools/console looks for it."""
        self.link.ns_announce(self.ept, self.name, NS_CREATE)

    def _receive(self, payload, src):
        self.peer = src
        n = len(payload)
        if not n:
            return RELEASE
        if n == 1 and payload[0] == _CTRL_C and not self._reading and self._interrupt is not None:
            if self._interrupt():
                return RELEASE
        self._held.append(payload)
        return HOLD

    def _pump(self, wait_ms):
        self.link.platform.wait(wait_ms)
        if self._idle is not None:
            self._idle()
        if self.peer is not None and self._early:
            early = bytes(self._early)
            self._early = bytearray()
            self._send(early)

    # -- stream protocol (readinto/write/ioctl are what dupterm calls) -------

    def readinto(self, buf):
        self._reading = True
        try:
            return self._readinto(buf)
        finally:
            self._reading = False

    def _readinto(self, buf):
        if not self._held:
            self._pump(self._wait_ms)
            if not self._held:
                if self._alive is not None and not self._alive():
                    return 0  # EOF: the peer is gone
                return None  # nothing yet (EAGAIN)
        n = 0
        want = len(buf)
        while n < want and self._held:
            payload = self._held[0]
            take = min(want - n, len(payload) - self._pos)
            buf[n : n + take] = payload[self._pos : self._pos + take]
            n += take
            self._pos += take
            if self._pos == len(payload):
                self._held.pop(0)
                self._pos = 0
                self.link.release_rx_buffer(payload)
        return n

    def read(self, size=-1):
        buf = bytearray(size if size > 0 else 256)
        n = self.readinto(buf)
        if n is None:
            return None
        return bytes(buf[:n])

    def write(self, data):
        if self.peer is None:
            self._early += data
            if len(self._early) > _EARLY_OUTPUT:
                self._early = self._early[-_EARLY_OUTPUT:]
        else:
            self._send(data)
        return len(data)

    def _send(self, data):
        step = self.link.payload_size
        view = memoryview(data)
        try:
            for start in range(0, len(data), step):
                self.link.send(self.ept, self.peer, view[start : start + step], _SEND_TIMEOUT_MS)
        except RPMsgError:
            pass  # the peer stopped reading: drop output rather than hang the REPL

    def ioctl(self, op, arg):
        if op == _MP_STREAM_POLL:
            ready = _MP_STREAM_POLL_WR & arg
            if self._held or (arg & _MP_STREAM_POLL_RD and self._check_input()):
                ready |= _MP_STREAM_POLL_RD & arg
            return ready
        return 0

    def _check_input(self):
        self._pump(0)  # a poll must not block
        return bool(self._held)

    def close(self):
        held = self._held
        self._held = []
        for payload in held:
            try:
                self.link.release_rx_buffer(payload)
            except RPMsgError:
                pass  # the link is already gone
