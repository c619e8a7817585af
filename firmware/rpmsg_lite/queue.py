"""The blocking receive queue (RPMsg-Lite's rpmsg_queue.c).

A Queue is an endpoint callback that keeps each message in its buffer
(RL_HOLD) until the application takes it with recv*. Differences from C:
  * It cannot overflow. Every queued message holds a distinct buffer of the
    link and the link has 2N buffers, so a queue of 2N entries (C's depth,
    issue #53) is never full. When the application stops reading, the
    peer's buffers run out and ITS sends block or fail with RL_ERR_NO_MEM:
    back-pressure instead of the C queue's silent drop.
  * A too-small caller buffer raises RL_ERR_BUFF_SIZE and leaves the
    message queued (C releases it, losing the message).

Threading: one producer (the context that runs link.isr) and one consumer
(the context that calls recv*). Each index is written by one side only and
the slot is filled before the tail moves, so no lock is needed; a lock
would deadlock when a scheduled isr interrupts a recv on the same thread.
"""

from array import array

from .env import BLOCK, check_timeout, expired, ticks_ms, MS_PER_INTERVAL
from .endpoint import RELEASE, HOLD
from .errors import RPMsgError, ERR_NO_BUFF, ERR_BUFF_SIZE
from .vring import copy

_len = len  # a module global is found faster than a builtin


class Queue:
    """Pass as an endpoint's callback; read with recv / recv_into /
    recv_nocopy."""

    def __init__(self, link):
        cap = link.layout.buffer_total  # 2N: see above
        self.link = link
        self._mask = cap - 1
        self._wrap = 2 * cap - 1  # indices run modulo 2*cap: full != empty
        self._payloads = [None] * cap
        self._srcs = array("I", [0] * cap)
        self._head = 0
        self._tail = 0
        self.src = 0  # sender of the message last returned by recv_into / recv_view
        link.on_peer_restart(self._forget)

    def _forget(self):
        # The master formatted the rings again: queued payloads belong to the
        # old generation and their buffers are no longer ours to release.
        for i in range(len(self._payloads)):
            self._payloads[i] = None
        self._head = self._tail = 0

    def __call__(self, payload, src):
        t = self._tail
        if ((t - self._head) & self._wrap) > self._mask:
            return RELEASE  # unreachable with one link; see the module comment
        i = t & self._mask
        self._payloads[i] = payload
        self._srcs[i] = src
        self._tail = (t + 1) & self._wrap  # publish after the slot is written
        return HOLD

    def __len__(self):
        return (self._tail - self._head) & self._wrap

    def len(self):
        """Messages waiting (rpmsg_queue_get_current_size)."""
        return (self._tail - self._head) & self._wrap

    def _wait(self, timeout_ms):
        if self._tail != self._head:
            return
        if timeout_ms == 0:
            raise RPMsgError(ERR_NO_BUFF, "queue is empty")
        check_timeout(timeout_ms)
        start = ticks_ms()
        platform = self.link._platform
        while self._tail == self._head:
            platform.wait(MS_PER_INTERVAL)
            if expired(start, timeout_ms):
                raise RPMsgError(ERR_NO_BUFF, "no message within %d ms" % timeout_ms)

    def _pop(self):
        i = self._head & self._mask
        payload = self._payloads[i]
        self._payloads[i] = None
        self.src = self._srcs[i]
        self._head = (self._head + 1) & self._wrap
        return payload

    def recv_into(self, buf, timeout_ms=BLOCK):
        """Copy the next message into buf and return its length; the sender
        is then in ``self.src``. Allocation-free. Raises ERR_NO_BUFF on
        timeout, ERR_BUFF_SIZE (message kept) if buf is too small, TypeError
        (message kept) if buf is read-only."""
        size = _len(buf)
        if size:
            try:
                buf[0] = buf[0]  # bytes and read-only views refuse this (viper would write anyway)
            except TypeError:
                raise TypeError("buf must be a writable bytes-like object (bytearray, memoryview, array)")
        elif isinstance(buf, (bytes, str)):
            raise TypeError("buf must be a writable bytes-like object (bytearray, memoryview, array)")
        # _wait and _pop written out: this runs for every message.
        head = self._head
        if self._tail == head:
            self._wait(timeout_ms)
        i = head & self._mask
        payloads = self._payloads
        payload = payloads[i]
        n = _len(payload)
        if size < n:
            raise RPMsgError(ERR_BUFF_SIZE, "message of %d bytes does not fit %d (it stays queued)" % (n, size))
        copy(buf, 0, payload, 0, n)
        payloads[i] = None
        self.src = self._srcs[i]
        self._head = (head + 1) & self._wrap
        self.link.release_rx_buffer(payload)
        return n

    def recv(self, buf, timeout_ms=BLOCK):
        """rpmsg_queue_recv: copy the next message into buf; (src, nbytes)."""
        n = self.recv_into(buf, timeout_ms)
        return self.src, n

    def recv_view(self, timeout_ms=BLOCK):
        """The next message as a memoryview inside its shared buffer, sender
        in ``self.src``; give it back with nocopy_free. Allocation-free."""
        self._wait(timeout_ms)
        return self._pop()

    def recv_nocopy(self, timeout_ms=BLOCK):
        """rpmsg_queue_recv_nocopy: (src, payload view); then nocopy_free."""
        payload = self.recv_view(timeout_ms)
        return self.src, payload

    def nocopy_free(self, payload):
        """rpmsg_queue_nocopy_free: give a received buffer back to the peer."""
        self.link.release_rx_buffer(payload)

    def flush(self):
        """Drop every waiting message, giving the buffers back to the peer;
        returns how many were dropped."""
        dropped = 0
        while self._tail != self._head:
            self.link.release_rx_buffer(self._pop())
            dropped += 1
        return dropped
