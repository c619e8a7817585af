"""asyncio with RPMsg-Lite (rpmsg_lite.aio): awaitable receive woken from the
doorbell path, awaitable link-up, a send that awaits a free buffer while
other tasks run. Portable (MicroPython's asyncio; CPython's with the shim's
ThreadSafeFlag)."""

import asyncio

from rpmsg_lite import aio, AsyncQueue, LayoutError, RPMsgError, DONT_BLOCK, ERR_NO_MEM, ERR_NO_BUFF, BLOCK, NOT_READY
from rpmsg_lite import Config, RPMsgLite, Queue
from rl_loopback import Loopback

from linkpair import Pair, Inbox, small_config, pattern


def _run(main):
    try:
        return asyncio.run(main())
    finally:
        # MicroPython keeps tasks a run left behind in its one loop.
        asyncio.new_event_loop()


async def _stop(task):
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def test_recv_awaits_a_message_delivered_by_the_serve_task():
    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())
    buf = bytearray(496)

    async def main():
        bells = asyncio.create_task(aio.serve(p.loop.master, p.loop.remote))
        got = []

        async def reader():
            for _ in range(3):
                got.append(await q.recv(buf, 1000))
                got.append(bytes(buf[: got[-1][1]]))

        task = asyncio.create_task(reader())
        await aio.sleep_ms(5)
        assert got == []  # nothing sent yet: the reader waits, the loop runs
        for i in range(3):
            await aio.send(p.master, ept, 40, pattern(10 + i, i))
        await task
        await _stop(bells)
        return got

    got = _run(main)
    assert got == [(30, 10), pattern(10), (30, 11), pattern(11, 1), (30, 12), pattern(12, 2)], got
    assert p.master.free_tx_buffers() == 4 and p.remote.stats()["rx_pending"] == 0


def test_recv_view_and_nocopy_free_and_timeouts():
    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())

    async def main():
        out = []
        e = None
        try:
            await q.recv_view(DONT_BLOCK)
        except RPMsgError as err:
            e = err
        out.append(e.code)
        try:
            await q.recv_into(bytearray(8), 20)  # nobody delivers: times out
        except RPMsgError as err:
            out.append((err.code, str(err)))
        p.master.send(ept, 40, b"zero-copy view")
        p.loop.deliver()
        src, view = await q.recv_nocopy(100)
        out.append((src, bytes(view)))
        q.nocopy_free(view)
        return out

    out = _run(main)
    assert out[0] == ERR_NO_BUFF
    assert out[1] == (ERR_NO_BUFF, "RL_ERR_NO_BUFF (-5006): no message within 20 ms"), out[1]
    assert out[2] == (30, b"zero-copy view")
    assert p.remote.stats()["rx_pending"] == 0 and p.master.free_tx_buffers() == 4


def test_wait_for_link_up_awaits_the_init_kick():
    p = Pair(up=False)

    async def main():
        early = await aio.wait_for_link_up(p.remote, 10)  # nobody delivers yet
        bells = asyncio.create_task(aio.serve(p.loop.remote))
        up = await aio.wait_for_link_up(p.remote, 1000)
        await _stop(bells)
        return early, up

    assert _run(main) == (False, True)


def test_wait_for_link_up_raises_on_a_layout_mismatch():
    loop = Loopback()
    a = small_config()
    b = small_config(buffer_count=8)
    shm = bytearray(b.shm_size)
    RPMsgLite.master(shm, loop.master, a)
    r = RPMsgLite.remote(shm, loop.remote, b)

    async def main():
        bells = asyncio.create_task(aio.serve(loop.remote))
        try:
            await aio.wait_for_link_up(r, 1000)
        except LayoutError as e:
            return str(e)
        finally:
            await _stop(bells)

    assert "layout mismatch" in _run(main)


def test_send_awaits_a_free_buffer_while_other_tasks_run():
    # The remote reads slowly; the master sends three times its buffers.
    # Each send that finds no buffer yields instead of sleeping the loop.
    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())
    n = 3 * p.config.buffer_count
    buf = bytearray(64)
    ticks = [0]

    async def ticker():
        while True:
            ticks[0] += 1
            await aio.sleep_ms(1)

    async def main():
        bells = asyncio.create_task(aio.serve(p.loop.master, p.loop.remote))
        tick = asyncio.create_task(ticker())
        got = []

        async def reader():
            while len(got) < n:
                k = await q.recv_into(buf, 1000)
                got.append(bytes(buf[:k]))
                await aio.sleep_ms(3)

        r = asyncio.create_task(reader())
        waited = 0
        for i in range(n):
            if not p.master.free_tx_buffers():
                waited += 1
            await aio.send(p.master, ept, 40, b"m%d" % i, 2000)
        await r
        await _stop(bells)
        await _stop(tick)
        return got, waited

    got, waited = _run(main)
    assert got == [b"m%d" % i for i in range(n)]
    assert waited > 0 and ticks[0] > waited  # the loop kept running while sends waited


def test_send_and_alloc_time_out_with_err_no_mem():
    p = Pair()
    q = AsyncQueue(p.remote)  # never read: the master's buffers stay held
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())

    async def main():
        bells = asyncio.create_task(aio.serve(p.loop.master, p.loop.remote))
        for i in range(4):
            await aio.send(p.master, ept, 40, b"x", 100)
        await aio.sleep_ms(5)
        errors = []
        for call in (aio.send(p.master, ept, 40, b"x", 20), aio.alloc_tx_buffer(p.master, 20)):
            try:
                await call
            except RPMsgError as e:
                errors.append((e.code, str(e)))
        # Once the application reads, the buffers come back and both work.
        q.flush()
        await aio.send(p.master, ept, 40, b"after", 100)
        buf = await aio.alloc_tx_buffer(p.master, 100)
        buf[:2] = b"zc"
        p.master.send_nocopy(ept, 40, buf, 2)
        await aio.sleep_ms(5)
        await _stop(bells)
        return errors

    errors = _run(main)
    assert errors == [(ERR_NO_MEM, "RL_ERR_NO_MEM (-5001): no free TX buffer within 20 ms")] * 2, errors
    assert len(q) == 2


def test_a_doorbell_thread_wakes_the_waiting_task():
    # ThreadSafeFlag: the doorbell arrives on another thread (as with
    # HostPort.start_doorbell_thread), no serve task polls.
    import _thread

    from rpmsg_lite.env import sleep_ms

    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())
    done = []

    def doorbell_thread():
        sleep_ms(20)
        p.loop.remote.deliver()  # link.isr on this thread: the queue's flag is set here
        done.append(1)

    async def main():
        p.master.send(ept, 40, b"from another thread")
        _thread.start_new_thread(doorbell_thread, ())
        buf = bytearray(64)
        n = await q.recv_into(buf, BLOCK)
        return bytes(buf[:n])

    assert _run(main) == b"from another thread"
    for _ in range(1000):  # the thread finishes its isr call after the wake-up
        if done:
            break
        sleep_ms(1)
    assert done == [1]


def test_bad_arguments_raise_before_anything_happens():
    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)
    ept = p.master.create_ept(30, Inbox())

    async def main():
        out = []
        for call in (q.recv(bytearray(8), -1), aio.send(p.master, ept, 40, b"x", "soon"),
                     aio.wait_for_link_up(p.remote, -5)):
            try:
                await call
            except ValueError as e:
                out.append(str(e).startswith("timeout_ms must be"))
        return out

    assert _run(main) == [True, True, True]
    assert p.master.free_tx_buffers() == 4


def test_config_unchanged():
    # (the queue keeps Config's buffer count as its capacity)
    assert AsyncQueue(Pair(config=Config(buffer_count=8)).remote)._mask == 15


def _deliver_into_async_queue(rig, i):
    rig.master.send(rig.ept, 40, rig.data, DONT_BLOCK)
    rig.loop.remote.deliver()  # isr -> AsyncQueue callback -> ThreadSafeFlag.set
    rig.q.recv_into_now(rig.buf)


def test_the_doorbell_side_of_an_async_queue_allocates_nothing():
    # The callback (hold the buffer, set the flag) runs in the doorbell
    # path, maybe a hard-IRQ-adjacent context: it must not allocate.
    import micropython

    from support import IS_MICROPYTHON, skip

    if not IS_MICROPYTHON:
        skip("CPython cannot lock the heap")
    p = Pair()
    q = AsyncQueue(p.remote)
    p.remote.create_ept(40, q)

    class Rig:
        pass

    rig = Rig()
    rig.master, rig.loop, rig.q = p.master, p.loop, q
    rig.ept = p.master.create_ept(30, Inbox())
    rig.data = b"no allocation"
    rig.buf = bytearray(64)
    # The synchronous Queue read drains it without the coroutine machinery.
    q.recv_into_now = lambda buf: Queue.recv_into(q, buf, DONT_BLOCK)
    _deliver_into_async_queue(rig, 0)
    micropython.heap_lock()
    try:
        for i in range(100):
            _deliver_into_async_queue(rig, i)
    finally:
        micropython.heap_unlock()
    assert q._flag.state == 1 and len(q) == 0


def test_waits_end_when_the_link_is_deinitialised():
    p = Pair(up=False)
    q = AsyncQueue(p.master)
    ept = p.master.create_ept(30, q)

    async def main():
        async def kill():
            await aio.sleep_ms(5)
            p.remote.deinit()

        asyncio.create_task(kill())
        up = await aio.wait_for_link_up(p.remote, BLOCK)  # would wait forever
        for i in range(4):
            p.master.send(ept, 40, b"x", DONT_BLOCK)  # nobody takes them
        asyncio.create_task(kill2())
        try:
            await aio.send(p.master, ept, 40, b"x", BLOCK)
        except RPMsgError as e:
            return up, e.code

    async def kill2():
        await aio.sleep_ms(5)
        p.master.deinit()

    assert _run(main) == (False, NOT_READY)
