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

Cost (each Python-visible call is hundreds of instructions on a Cortex-M):
the callback is a viper method that records the buffer drain() is
delivering (its number, length and sender, read from the link's ctx) in
one array; recv_into is one viper call that copies the payload and gives
the buffer back; waiting and errors take the slow path.

Threading: one producer (the context that runs link.isr) and one consumer
(the context that calls recv*). Each index is written by one side only and
the slot is filled before the tail moves, so no lock is needed; a lock
would deadlock when a scheduled isr interrupts a recv on the same thread.
"""

import micropython
from micropython import const
from array import array

from .env import BLOCK, check_timeout, expired, ticks_ms, MS_PER_INTERVAL
from .errors import RPMsgError, ERR_NO_BUFF, ERR_BUFF_SIZE, ERR_PARAM
from .config import HEADER_SIZE
from .ringops import _give, copy as _copy, queue_abi

_len = len  # a module global is found faster than a builtin

# The queue's state, one array('I'): indices, then what the viper code
# needs (read once at init), then 3 words per queued message.
_HEAD = const(0)  # written by the consumer only
_TAIL = const(1)  # written by the producer (the callback) only
_MASK = const(2)  # capacity - 1
_WRAP = const(3)  # indices run modulo 2 * capacity: full != empty
_SRC = const(4)  # sender of the message last returned
_N = const(5)  # length of the message last taken
_R = const(6)  # its release result + 8 (when not plain success)
_KICK = const(7)  # 1: consumed-buffer notifications (a kick per release)
_OFF = const(8)  # byte offset of buffer 0's payload in shared memory
_SIZE = const(9)  # buffer size
# 1: CPython or an unknown VM layout: payload views are sliced, not resized
# (views.py), and copied with ringops.copy (the CPython shim's pointers made
# from ints are not the buffers').
_PORTABLE = const(10)
_CUR = const(11)  # ringops.queue_abi(): ctx words, _give's arguments
_LEN = const(12)
_CSRC = const(13)
_RXQ = const(14)
_HELD = const(15)
_SLOTS = const(16)  # per message: buffer | length << 16, src

# _into's results (a length otherwise) and modes.
_EMPTY = const(-1)
_ZERO = const(-2)  # (_CHECK) the next message is empty: buf checked in Python
_AFTER = const(-3)  # taken; finish the release with _finish (kick or error)
_CHECK = const(0)
_CHECKED = const(1)
_DROP = const(2)

_GONE = const(-5)  # vring's result values (link.py keeps the same copies)
_NOT_MINE = const(-6)


def _cut(view, n):
    return view[:n]


@micropython.viper
def _into(q, buf, mode: int) -> int:
    # Take q's next message: copy it into buf (unless _DROP), give its
    # buffer back. Returns its length, _EMPTY, _ZERO or _AFTER. With
    # _CHECK, an empty message or a too small buf is left to the slow path
    # (_ZERO) and a read-only buf raises TypeError, the message kept.
    st = ptr32(q._st)
    h = st[_HEAD]
    if h == st[_TAIL]:
        return _EMPTY
    i = _SLOTS + 2 * (h & st[_MASK])
    b = st[i] & 0xFFFF
    n = int(uint(st[i]) >> 16)
    if mode == _CHECK:
        if n == 0 or int(_len(buf)) < n:
            return _ZERO
        buf[0] = buf[0]  # bytes and read-only views refuse this (viper would write anyway)
    shm = q._shm
    if mode != _DROP:
        d8 = ptr8(buf)  # TypeError for a non-buffer, before anything changes
        p = st[_OFF] + b * st[_SIZE]
        if st[_PORTABLE]:
            _copy(buf, 0, shm, p, n)
        else:
            # Words when the destination is word aligned (the payload always
            # is; Cortex-M0+ faults on unaligned word access), four per
            # round through bumped pointers (constant offsets are viper's
            # cheap loads: a third of an indexed loop's cost), then bytes.
            s8 = ptr8(int(ptr8(shm)) + p)
            k = 0
            if (int(d8) & 3) == 0:
                d = ptr32(d8)
                s = ptr32(s8)
                end = int(d8) + (n & ~15)
                while int(d) < end:
                    d[0] = s[0]
                    d[1] = s[1]
                    d[2] = s[2]
                    d[3] = s[3]
                    d = ptr32(int(d) + 16)
                    s = ptr32(int(s) + 16)
                end = int(d8) + (n & ~3)
                while int(d) < end:
                    d[0] = s[0]
                    d = ptr32(int(d) + 4)
                    s = ptr32(int(s) + 4)
                k = n & ~3
            while k < n:
                d8[k] = s8[k]
                k += 1
    st[_SRC] = st[i + 1]
    st[_N] = n
    st[_HEAD] = (h + 1) & st[_WRAP]
    r = int(_give(shm, q._ctx, q._lock, st[_RXQ], b, st[_HELD]))
    if r >= 0 and st[_KICK] == 0:
        return n
    st[_R] = r + 8
    return _AFTER


@micropython.viper
def _view(q):
    # Take q's next message as its payload view (None: queue empty).
    st = ptr32(q._st)
    h = st[_HEAD]
    if h == st[_TAIL]:
        return None
    i = _SLOTS + 2 * (h & st[_MASK])
    st[_SRC] = st[i + 1]
    b = st[i] & 0xFFFF
    n = int(uint(st[i]) >> 16)
    link = q.link
    if not link._alive:
        return q._gone_view(b, n)
    t = link._table  # [addresses, callbacks..., views...] (link._view)
    v = t[1 + ptr32(t[0])[0] + b]
    st[_HEAD] = (h + 1) & st[_WRAP]
    if st[_PORTABLE]:
        return _cut(v, n)
    return v


class Queue:
    """Pass as an endpoint's callback; read with recv / recv_into /
    recv_nocopy."""

    def __init__(self, link):
        cap = link.layout.buffer_total  # 2N: see above
        self.link = link
        self._mask = cap - 1
        self._shm = link._shm
        self._ctx = link._ctx
        self._lock = link._lock
        # (Made from a range: no temporary list or bytes as large.)
        st = array("I", range(_SLOTS + 2 * cap))
        st[_HEAD] = st[_TAIL] = st[_SRC] = st[_N] = st[_R] = 0
        st[_MASK] = cap - 1
        st[_WRAP] = 2 * cap - 1
        st[_KICK] = 1 if link._consumed_notify else 0
        st[_OFF] = link.layout.buffers + HEADER_SIZE
        st[_SIZE] = link.layout.buffer_size
        st[_CUR], st[_LEN], st[_CSRC], st[_RXQ], st[_HELD], st[_PORTABLE] = queue_abi(link._ctx)
        self._st = st
        link.on_peer_restart(self._forget)

    def _forget(self):
        # The master formatted the rings again: queued buffers belong to the
        # old generation and are no longer ours to release.
        self._st[_HEAD] = self._st[_TAIL] = 0

    @micropython.viper
    def __call__(self, payload, src) -> int:
        # From drain(): the buffer it delivers, its length and sender are in
        # ctx (ringops.queue_abi), cheaper to read than payload and src.
        st = ptr32(self._st)
        c = ptr32(self._ctx)
        t = st[_TAIL]
        b = c[st[_CUR]] - 1
        if b < 0 or ((t - st[_HEAD]) & st[_WRAP]) > st[_MASK]:
            return 0  # RELEASE: not from drain, or full (unreachable, see above)
        i = _SLOTS + 2 * (t & st[_MASK])
        st[i] = b | (c[st[_LEN]] << 16)  # (RPMsg lengths and buffer numbers are 16 bits)
        st[i + 1] = c[st[_CSRC]]
        st[_TAIL] = (t + 1) & st[_WRAP]  # publish after the slot is written
        return 1  # HOLD

    def _finish(self, r):
        # The rest of a release (as link.release_rx_buffer): the
        # consumed-buffer kick, or the error.
        link = self.link
        if r >= 0:
            if link._consumed_notify:
                link._platform.notify(link._rvec)
            return
        if r == _GONE:
            raise link._restarted()
        if not link._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")
        raise RPMsgError(ERR_PARAM, "buffer is not held: released twice, never received, or not of this link")

    @property
    def src(self):
        """Sender of the message last returned by recv_into / recv_view."""
        return self._st[_SRC]

    def __len__(self):
        st = self._st
        return (st[_TAIL] - st[_HEAD]) & st[_WRAP]

    def len(self):
        """Messages waiting (rpmsg_queue_get_current_size)."""
        st = self._st
        return (st[_TAIL] - st[_HEAD]) & st[_WRAP]

    def _wait(self, timeout_ms):
        st = self._st
        if st[_TAIL] != st[_HEAD]:
            return
        if timeout_ms == 0:
            raise RPMsgError(ERR_NO_BUFF, "queue is empty")
        check_timeout(timeout_ms)
        start = ticks_ms()
        platform = self.link._platform
        while st[_TAIL] == st[_HEAD]:
            platform.wait(MS_PER_INTERVAL)
            if expired(start, timeout_ms):
                raise RPMsgError(ERR_NO_BUFF, "no message within %d ms" % timeout_ms)

    def recv_into(self, buf, timeout_ms=BLOCK):
        """Copy the next message into buf and return its length; the sender
        is then in ``self.src``. Allocation-free. Raises ERR_NO_BUFF on
        timeout, ERR_BUFF_SIZE (message kept) if buf is too small, TypeError
        (message kept) if buf is read-only."""
        # (No try here: a bytecode try costs 500 instructions on a
        # Cortex-M3; a frozen @native method hard-faults on ARMv6-M.)
        n = _into(self, buf, _CHECK)
        if n < 0:
            return self._recv_slow(buf, timeout_ms, n)
        return n

    def _recv_slow(self, buf, timeout_ms, n):
        st = self._st
        if n != _AFTER:
            size = _len(buf)
            if size:
                try:
                    buf[0] = buf[0]  # bytes and read-only views refuse this (viper would write anyway)
                except TypeError:
                    raise TypeError("buf must be a writable bytes-like object (bytearray, memoryview, array)")
            elif isinstance(buf, (bytes, str)):
                raise TypeError("buf must be a writable bytes-like object (bytearray, memoryview, array)")
            self._wait(timeout_ms)
            n = st[_SLOTS + 2 * (st[_HEAD] & st[_MASK])] >> 16
            if size < n:
                raise RPMsgError(ERR_BUFF_SIZE, "message of %d bytes does not fit %d (it stays queued)" % (n, size))
            n = _into(self, buf, _CHECKED)
        if n == _AFTER:
            self._finish(st[_R] - 8)
            n = st[_N]
        return n

    def recv(self, buf, timeout_ms=BLOCK):
        """rpmsg_queue_recv: copy the next message into buf; (src, nbytes)."""
        n = self.recv_into(buf, timeout_ms)
        return self.src, n

    def _gone_view(self, b, n):
        # The link was deinitialised and dropped its views: a fresh one.
        st = self._st
        p = st[_OFF] + b * st[_SIZE]
        st[_HEAD] = (st[_HEAD] + 1) & st[_WRAP]
        return memoryview(self._shm)[p : p + n]

    def recv_view(self, timeout_ms=BLOCK):
        """The next message as a memoryview inside its shared buffer, sender
        in ``self.src``; give it back with nocopy_free. Allocation-free."""
        v = _view(self)
        if v is None:
            self._wait(timeout_ms)
            v = _view(self)
        return v

    def recv_nocopy(self, timeout_ms=BLOCK):
        """rpmsg_queue_recv_nocopy: (src, payload view); then nocopy_free."""
        payload = self.recv_view(timeout_ms)
        return self.src, payload

    @micropython.viper
    def nocopy_free(self, payload):
        """rpmsg_queue_nocopy_free: give a received buffer back to the peer."""
        st = ptr32(self._st)
        shm = self._shm
        # Its buffer, found as ringops.release does, given back with _give
        # directly (one call less).
        off = int(ptr8(payload)) - int(ptr8(shm)) - st[_OFF]
        r = _NOT_MINE
        if off >= 0:
            size = st[_SIZE]
            b = off // size
            if b <= st[_MASK] and off == b * size:
                r = int(_give(shm, self._ctx, self._lock, st[_RXQ], b, st[_HELD]))
        if r < 0 or st[_KICK]:
            self._finish(r)

    def flush(self):
        """Drop every waiting message, giving the buffers back to the peer;
        returns how many were dropped."""
        dropped = 0
        while True:
            n = _into(self, None, _DROP)
            if n == _EMPTY:
                return dropped
            dropped += 1
            if n == _AFTER:
                self._finish(self._st[_R] - 8)
