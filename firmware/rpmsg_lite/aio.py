"""asyncio for RPMsg-Lite links: await messages, link-up and free buffers
instead of blocking the whole program.

    from rpmsg_lite import aio            # (or rpmsg_lite.AsyncQueue)

    q = aio.AsyncQueue(link)              # an endpoint callback, like Queue
    ept = link.create_ept(40, q)
    await aio.wait_for_link_up(link, 1000)
    await aio.send(link, ept, 30, b"hi")  # awaits a free buffer, never sleeps the loop
    src, n = await q.recv(buf)            # woken by the doorbell

Doorbells reach ``link.isr`` as before. Where a thread or an interrupt
handler delivers them (``HostPort.start_doorbell_thread()``, a scheduled
IRQ), the AsyncQueue callback sets an ``asyncio.ThreadSafeFlag`` and the
waiting task wakes. On a polling port (loopback, the QEMU boards, a host
port without its thread) run ``aio.serve(port)`` as a task: it calls
``port.service()`` between awaits. Never both for one port: a queue has
one producer (see queue.py).

Free TX buffers and link-up come back without a notification (RPMsg-Lite
sends none for them), so ``send``, ``alloc_tx_buffer`` and
``wait_for_link_up`` look again every ``poll_ms`` while other tasks run.

MicroPython's asyncio has ThreadSafeFlag, sleep_ms and wait_for_ms; on
CPython the shim (tools/cpython_shim/_mpasyncio.py) supplies them. This
module is loaded on first use: ``import rpmsg_lite`` imports no asyncio.
"""

import asyncio

try:
    from asyncio import ThreadSafeFlag, sleep_ms, wait_for_ms  # pyright: ignore[reportAttributeAccessIssue]
except ImportError:
    # CPython: the shim's stand-ins with MicroPython's semantics.
    from _mpasyncio import ThreadSafeFlag, sleep_ms, wait_for_ms  # pyright: ignore[reportMissingImports]

from .env import BLOCK, check_timeout, ticks_ms, ticks_diff
from .errors import RPMsgError, ERR_NO_MEM, ERR_NO_BUFF
from .queue import Queue

DONT_BLOCK = 0


def _left(start, timeout_ms):
    # Milliseconds left of timeout_ms since start (BLOCK: always some).
    if timeout_ms == BLOCK:
        return BLOCK
    return timeout_ms - ticks_diff(ticks_ms(), start)


class AsyncQueue(Queue):
    """A receive queue whose recv methods are coroutines. Pass it as an
    endpoint callback; one task at a time awaits it. Timeouts are in ms as
    in Queue (BLOCK: forever); running out raises RPMsgError(ERR_NO_BUFF).
    ``flush``, ``len`` and ``nocopy_free`` are Queue's."""

    def __init__(self, link):
        Queue.__init__(self, link)
        self._flag = ThreadSafeFlag()

    def __call__(self, payload, src):
        r = Queue.__call__(self, payload, src)
        self._flag.set()  # from the doorbell path: a thread, an IRQ, serve()
        return r

    async def _ready(self, timeout_ms):
        if len(self):
            return
        if timeout_ms == 0:
            raise RPMsgError(ERR_NO_BUFF, "queue is empty")
        check_timeout(timeout_ms)
        flag = self._flag
        start = ticks_ms()
        while not len(self):
            if timeout_ms == BLOCK:
                await flag.wait()
                continue
            left = _left(start, timeout_ms)
            if left <= 0:
                raise RPMsgError(ERR_NO_BUFF, "no message within %d ms" % timeout_ms)
            try:
                await wait_for_ms(flag.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def recv_into(self, buf, timeout_ms=BLOCK):
        """Await the next message, copy it into buf; its length (sender in
        ``self.src``)."""
        await self._ready(timeout_ms)
        return Queue.recv_into(self, buf, DONT_BLOCK)

    async def recv(self, buf, timeout_ms=BLOCK):
        """Await the next message, copy it into buf; (src, nbytes)."""
        n = await self.recv_into(buf, timeout_ms)
        return self.src, n

    async def recv_view(self, timeout_ms=BLOCK):
        """Await the next message as a view of its shared buffer (sender in
        ``self.src``); give it back with nocopy_free."""
        await self._ready(timeout_ms)
        return Queue.recv_view(self, DONT_BLOCK)

    async def recv_nocopy(self, timeout_ms=BLOCK):
        """(src, payload view) of the next message; then nocopy_free."""
        payload = await self.recv_view(timeout_ms)
        return self.src, payload


async def wait_for_link_up(link, timeout_ms=BLOCK, poll_ms=1):
    """True once the link is up, False if timeout_ms passed first; raises
    LayoutError when the cores' layouts differ (see link.fault)."""
    check_timeout(timeout_ms)
    start = ticks_ms()
    while not link.wait_for_link_up(DONT_BLOCK):  # raises on a layout fault
        if _left(start, timeout_ms) <= 0 or not link._alive:
            return False
        await sleep_ms(poll_ms)
    return True


async def _free_buffer(link, timeout_ms, poll_ms, start):
    # Until the peer hands a TX buffer back (it sends no notification for
    # that), letting other tasks run; raises ERR_NO_MEM after timeout_ms.
    # A link that went down returns at once: the caller's next try raises
    # why (NOT_READY, LayoutError).
    while not link.free_tx_buffers() and link.is_link_up():
        if _left(start, timeout_ms) <= 0:
            raise RPMsgError(ERR_NO_MEM, "no free TX buffer within %d ms" % timeout_ms)
        await sleep_ms(poll_ms)


async def send(link, ept, dst, data, timeout_ms=BLOCK, poll_ms=1):
    """link.send that awaits a free TX buffer (up to timeout_ms) while
    other tasks run. Raises what link.send raises."""
    if timeout_ms != BLOCK:
        check_timeout(timeout_ms)
    start = ticks_ms()
    while True:
        try:
            link.send(ept, dst, data, DONT_BLOCK)
            return
        except RPMsgError as e:
            if e.code != ERR_NO_MEM or timeout_ms == 0:
                raise
        await _free_buffer(link, timeout_ms, poll_ms, start)


async def alloc_tx_buffer(link, timeout_ms=BLOCK, poll_ms=1):
    """link.alloc_tx_buffer that awaits a free TX buffer."""
    if timeout_ms != BLOCK:
        check_timeout(timeout_ms)
    start = ticks_ms()
    while True:
        try:
            return link.alloc_tx_buffer(DONT_BLOCK)
        except RPMsgError as e:
            if e.code != ERR_NO_MEM or timeout_ms == 0:
                raise
        await _free_buffer(link, timeout_ms, poll_ms, start)


async def serve(*ports, period_ms=1):
    """Deliver polling ports' doorbells from asyncio: call each port's
    ``service()`` every period_ms, forever (cancel the task to stop)."""
    while True:
        for port in ports:
            port.service()
        await sleep_ms(period_ms)
