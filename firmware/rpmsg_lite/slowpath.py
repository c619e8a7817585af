"""The methods of RPMsgLite that a running link rarely needs, loaded on
first use: waiting for link-up or a buffer, the error paths and their
messages, stats and fault, restart recovery, zero-copy and HOLD release
(through py), deinit. link.py's ``RPMsgLite.__getattr__`` copies
each onto the link's class the first time it is asked for, so the link
behaves as if they were defined there (README, "Footprint").
"""

# pyright: reportAttributeAccessIssue=false
# (RPMsgLite below is a namespace of link.RPMsgLite's methods: its
# attributes are the link's, set in bringup.init.)

from . import vring
from .ringops import COUNTERS, abandon, counters, freeze, fresh, fresh_image, reset, unknown_dst, unsized
import uctypes
from micropython import const

from .env import BLOCK, load, check_timeout, expired, ticks_ms, MS_PER_INTERVAL
from .errors import RPMsgError, LayoutError, ERR_NO_MEM, ERR_BUFF_SIZE, ERR_PARAM, NOT_READY
from .endpoint import Endpoint, ADDR_ANY
from .ringops import release as _vrelease, alloc as _valloc, publish as _vpublish, put as _vput
from .vring import send as _vsend

# Results of vring's calls that the link tells apart (the same values as in
# vring.py; host_tests check they agree).
_DOWN = -7
_TOO_BIG = -8
_RESTART = -4
_GONE = -5
_len = len
_type = type
_SMALL = const(30)  # as in link.py


def _print_error(link, exc):
    # The default callback-error handler: print it, as asyncio's default
    # exception handler does, and carry on delivering.
    import sys

    print("rpmsg_lite: an endpoint callback raised (link %d):" % link.link_id)
    pe = getattr(sys, "print_exception", None)
    if pe is not None:
        pe(exc)
    else:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _not_ours():
    return RPMsgError(ERR_PARAM, "not an endpoint of this link")


class RPMsgLite:
    """Not a class of its own: a namespace of link.RPMsgLite's methods."""

    def wait_for_link_up(self, timeout_ms=BLOCK):
        """True once the link is up, False if timeout_ms passed first."""
        check_timeout(timeout_ms)
        if not self._up and timeout_ms != 0:
            start = ticks_ms()
            while not self._up and self._alive and self._fault is None:
                self._platform.wait(MS_PER_INTERVAL)
                if expired(start, timeout_ms):
                    break
        if self._fault is not None and not self._up:
            raise LayoutError(self._fault)
        return self._up

    @property
    def fault(self):
        """Why messages cannot flow, in words, or None. On a remote whose
        Config does not match the rings the master formatted: "layout
        mismatch: ..." (the link stays down, wait_for_link_up and send raise
        LayoutError with it). On either side once the peer handed over ring
        entries that failed validation (counted in stats()): what was
        dropped, and that a layout mismatch is the usual cause."""
        if self._fault is not None:
            return self._fault
        bad = []
        for what, rx in (("received", True), ("returned", False)):
            n = sum(counters(self._ctx, rx)[:3])  # bad_desc, bad_addr, bad_len
            if n:
                bad.append("%d %s" % (n, what))
        if not bad:
            return None
        return (
            "the peer handed over ring entries that fail validation (%s buffers dropped, see stats()): a layout "
            "mismatch or a corrupted ring; both cores must use the same buffer count, payload size, VRING_ALIGN, "
            "VRING_SIZE and pa_base" % " and ".join(bad)
        )

    def _down_error(self):
        if self._fault is not None:
            return LayoutError(self._fault)
        return RPMsgError(NOT_READY, "link is down" if self._alive else "the link was deinitialised")

    def deinit(self):
        """Local teardown (rpmsg_lite_deinit): the link goes down and the
        platform stops delivering; shared memory is not touched and the peer
        is not told (RPMsg-Lite has no link-down message: rpmsg_lite.c rpmsg_lite_deinit)."""
        if not self._alive:
            return
        self._platform.detach(self)
        self._up = False
        self._alive = False
        self._rvec = -1  # isr() delivers nothing from now on
        for ept in self._epts.values():
            ept.link = None
        unsized(self._ctx)  # never write to a view that is gone
        self._tables({}, [])  # drop exported views so an mmap can be closed

    def _check_alive(self):
        if not self._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")

    def destroy_ept(self, ept):
        self._check_alive()
        epts = self._epts
        if not isinstance(ept, Endpoint) or epts.get(ept.addr) is not ept:
            raise _not_ours()
        del epts[ept.addr]
        self._tables(epts)
        ept.link = None  # sends from it are refused from now on

    def endpoint(self, addr):
        """The local endpoint at addr, or None."""
        return self._epts.get(addr)

    def _sender(self, ept, timeout_ms):
        # The checks every send makes, in RPMsg-Lite's order after the size
        # check: link up, then a valid endpoint (a destroyed one has no link).
        if not self._up:
            raise self._down_error()
        try:
            ours = ept.link is self
        except AttributeError:
            ours = False
        if not ours:
            raise _not_ours()
        if timeout_ms != 0 and timeout_ms is not BLOCK:
            check_timeout(timeout_ms)

    def _check_send(self, ept, dst, data, timeout_ms):
        # Everything send() refuses, checked before a buffer is taken so a
        # call that raises changes nothing (rpmsg_lite_send's order: size,
        # link up, endpoint; then what C's types rule out: data and dst).
        if isinstance(data, str):
            raise TypeError("data must be a bytes-like object (bytes, bytearray, memoryview), not str")
        n = len(data)
        if n > self.config.payload_size:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (n, self.config.payload_size))
        self._sender(ept, timeout_ms)
        if not isinstance(dst, int) or not 0 <= dst <= 0xFFFFFFFF:
            raise RPMsgError(ERR_PARAM, "dst must be an address 0..0xFFFFFFFF, got %r" % (dst,))

    def _wait_for_tx(self, timeout_ms):
        # tx_alloc's wait (rpmsg_lite.c rpmsg_lite_alloc_tx_buffer): poll
        # every RL_MS_PER_INTERVAL for a buffer the peer hands back, up to
        # timeout_ms; raise when none came. Returns when a buffer may be
        # free; the caller tries again.
        if vring.frozen(self._ctx, False):
            self._master_restarting()
        if timeout_ms != 0 and self._up:
            start = ticks_ms()
            while self._up:
                self._platform.wait(MS_PER_INTERVAL)
                if vring.pending(self._shm, self._ctx, 0):
                    return start
                if expired(start, timeout_ms):
                    break
        if not self._up:
            if self._fault is not None:
                raise LayoutError(self._fault)
            raise RPMsgError(NOT_READY, "link went down while waiting for a buffer")
        fault = self.fault
        raise RPMsgError(ERR_NO_MEM, "no free TX buffer within %d ms%s" % (timeout_ms, "; " + fault if fault else ""))

    def _send_slow(self, ept, dst, data, timeout_ms):
        self._check_send(ept, dst, data, timeout_ms)  # raises for what the fast path refused
        while True:
            r = _vsend(self, ept, dst, data, self)  # (the link: arguments checked)
            if r >= 0:
                return
            if r == _DOWN or r == _TOO_BIG:
                self._check_send(ept, dst, data, timeout_ms)  # raises
            if r == _RESTART:
                self._master_restarting()
            self._wait_for_tx(timeout_ms)

    def _callback_failed(self, exc):
        # A callback raised inside drain(): its buffer is still held. Give it
        # back, count, and report through the handler.
        b = abandon(self._ctx)
        if b < 0:
            raise exc  # not from a callback: nothing to resume
        r = _vrelease(self._shm, self._ctx, self._lock, self._shm, b)
        if r == _GONE:
            self._master_restarting()
        elif r >= 0 and self._consumed_notify:
            self._platform.notify(self._rvec)
        self.callback_errors += 1
        self.last_callback_error = exc
        handler = getattr(self, "_error_handler", _print_error)  # (not set: the default)
        if handler is not None:
            handler(self, exc)

    def set_callback_error_handler(self, handler):
        """Call handler(link, exception) when an endpoint callback raises
        (its message is released and delivery goes on). The default prints
        the exception (sys.print_exception), as asyncio's default exception
        handler does; None keeps only callback_errors / last_callback_error."""
        self._error_handler = handler

    def poll(self):
        """Process received messages without waiting for a notification."""
        if self._alive:
            self.isr(self._rvec)

    def release_rx_buffer(self, payload):
        """Give back a buffer whose callback returned HOLD."""
        r = _vrelease(self._shm, self._ctx, self._lock, payload, -1)
        if r >= 0:
            # (r is 0 when our own doorbell suppression has NO_NOTIFY set on
            # this ring: that flag is for the peer's sends, not this kick.)
            if self._consumed_notify:
                self._platform.notify(self._rvec)
            return
        if not self._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")
        if r == _GONE:
            raise self._restarted()
        raise RPMsgError(ERR_PARAM, "buffer is not held: released twice, never received, or not of this link")

    def _restarted(self):
        self._master_restarting()
        return RPMsgError(NOT_READY, "the master restarted: this buffer belonged to the previous link")

    def _master_restarting(self):
        freeze(self._ctx)
        self._up = False

    def on_peer_restart(self, listener):
        """Call listener() whenever this remote resets after a master
        restart (e.g. a Queue dropping messages of the old generation)."""
        self._restart_listeners = self._restart_listeners + (listener,)  # (a tuple: see the class defaults)

    def ns_announce(self, ept, name, flags=0, timeout_ms=BLOCK):
        """Announce (NS_CREATE) or withdraw (NS_DESTROY) ``ept`` under
        ``name`` to the peer's name service (rpmsg_ns_announce)."""
        from .nameservice import announce

        announce(self, ept, name, flags, timeout_ms)

    @property
    def payload_size(self):
        return self.config.payload_size

    @property
    def platform(self):
        return self._platform

    def free_tx_buffers(self):
        """TX buffers the peer has handed back and a send could take now
        (without raising or waiting)."""
        return vring.pending(self._shm, self._ctx, 0)

    def stats(self):
        """Counters of what this side dropped or survived, for diagnostics,
        and the messages and doorbells it sent."""
        ctx = self._ctx
        out = {
            "unknown_dst": unknown_dst(ctx),
            "callback_errors": self.callback_errors,
            "peer_restarts": self.peer_restarts,
            "rx_pending": vring.pending(self._shm, ctx, 1),
        }
        for prefix, rx in (("rx_", True), ("tx_", False)):
            values = counters(ctx, rx)
            bad = 0
            for i in range(len(values)):
                name = COUNTERS[i]
                out[prefix + name] = values[i]
                if i < 5:  # every entry dropped, any reason (not index jumps)
                    bad += values[i]
            out[prefix + "bad_entries"] = bad
        del out["rx_doorbells"]  # drain() rings nothing per message
        return out

    @property
    def unknown_dst(self):
        """Messages released because no endpoint had their dst."""
        return unknown_dst(self._ctx)

    @property
    def layout(self):
        """The geometry of the shared region (a new ``layout.Layout`` each
        time: the link keeps only what its ring paths need, in ctx)."""
        pa_base = self.config.pa_base
        if pa_base is None:
            pa_base = getattr(self._platform, "pa_base", None)
        if pa_base is None:
            pa_base = uctypes.addressof(self._shm)
        return load("layout", "Layout")(self.config, pa_base)

    def _bad_ept(self, addr, callback):
        # What create_ept refuses, with its reason, in RPMsg-Lite's order.
        self._check_alive()
        if not callable(callback):
            raise RPMsgError(ERR_PARAM, "the endpoint callback must be callable")
        if getattr(callback, "link", self) is not self:
            raise RPMsgError(ERR_PARAM, "this %s belongs to another link" % type(callback).__name__)
        if not isinstance(addr, int) or not 0 <= addr < ADDR_ANY:
            raise RPMsgError(ERR_PARAM, "endpoint address must be 0..0xFFFFFFFE or ADDR_ANY")
        if addr in self._epts:
            raise RPMsgError(ERR_PARAM, "endpoint address %d is already in use" % addr)

    def _restarted_while_up(self):
        # vring-0 kicks are init kicks only (consumed-buffer kicks off): if
        # the rings show a fresh format, unless nothing ever moved here, the
        # master restarted.
        if fresh_image(self._shm, self._ctx) and not fresh(self._ctx):
            self._new_generation(True)

    def _new_generation(self, count):
        reset(self._ctx)
        if count:
            self.peer_restarts += 1  # not the first link-up on stale memory
        for listener in self._restart_listeners:
            listener()

    def is_link_up(self):
        return self._up

    def rest(self):
        """The port is about to sleep: with doorbell suppression, let the
        peer ring again (clear NO_NOTIFY) and deliver what came meanwhile.
        Returns how many messages were pending (0: safe to sleep)."""
        # Only while up: a remote's rest() before the master's init kick is
        # taken from the doorbell FIFO would deliver messages to endpoints
        # that cannot answer yet (sends refuse a link that is down).
        n = vring.rest(self._shm, self._ctx, self._lock) if self._up else 0
        if n:
            self.isr(self._rvec)
        return n

    def _repr(self):
        return "<RPMsgLite %s link %d %s>" % (
            "master" if self.role == 1 else "remote",
            self.link_id,
            "up" if self._up else ("down" if self._alive else "deinitialised"),
        )

    def alloc_tx_buffer(self, timeout_ms=BLOCK):
        """Zero-copy send, step 1: a payload_size memoryview inside a free
        TX buffer (rpmsg_lite_alloc_tx_buffer). Fill it, then send_nocopy."""
        if timeout_ms != 0 and timeout_ms is not BLOCK and (_type(timeout_ms) is not int or timeout_ms >> _SMALL):
            check_timeout(timeout_ms)
        b = _valloc(self._shm, self._ctx, self._lock)
        while b < 0:
            if b == _DOWN:
                raise self._down_error()
            if b == _RESTART:
                self._master_restarting()
            self._wait_for_tx(timeout_ms)
            b = _valloc(self._shm, self._ctx, self._lock)
        t = self._table  # (self._view(b) written out: a call less per zero-copy send)
        return t[1 + t[0][0] + b]  # payload_size long (ringops.alloc set it)

    def send_nocopy(self, ept, dst, buf, size):
        """Zero-copy send, step 2: send ``size`` bytes of a buffer from
        alloc_tx_buffer. Afterwards the buffer belongs to the peer."""
        if _vpublish(self, ept, dst, buf, size):
            self._nocopy_slow(ept, dst, buf, size)

    def _nocopy_slow(self, ept, dst, buf, size):
        if not isinstance(size, int) or size > self.config.payload_size or size < 0:
            raise RPMsgError(ERR_BUFF_SIZE, "%r bytes exceed the %d-byte payload" % (size, self.config.payload_size))
        self._sender(ept, 0)
        if not isinstance(dst, int) or not 0 <= dst <= 0xFFFFFFFF:
            raise RPMsgError(ERR_PARAM, "dst must be an address 0..0xFFFFFFFF, got %r" % (dst,))
        r = _vput(self._shm, self._ctx, self._lock, buf, ept.addr, dst, size)
        if r > 0:
            self._platform.notify(self._tvec)
        elif r == _GONE:
            raise self._restarted()
        elif r < 0:
            raise RPMsgError(ERR_PARAM, "not a buffer from this link's alloc_tx_buffer (or already sent)")

    def _view(self, b):
        table = self._table
        return table[1 + table[0][0] + b]

    # -- sending -------------------------------------------------------------
