# The QEMU board's asyncio demo: both ends of a link in one firmware
# (loopback platform), each served by asyncio tasks (rpmsg_lite.aio).
# Run it from the host with
#     python3 tools/qemu.py run     then: mpremote connect PTY run boards/qemu_mps2_an385/aio_demo.py
# Doorbells here are delivered by polling: the aio.serve task polls both
# sides between awaits. The remote runs an echo task (await recv, await
# send), the master a sender and a receiver task; a ticker task shows the
# loop stays free. Time is this firmware's virtual clock (lib/time.py).

import asyncio

from rpmsg_lite import RPMsgLite, Config, ADDR_ANY, aio
from rl_loopback import Loopback


async def echo(link, q, ept):
    buf = bytearray(link.payload_size)
    while True:
        src, n = await q.recv(buf)
        await aio.send(link, ept, src, buf[:n])


async def main(messages=48):
    cfg = Config(buffer_count=4)
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    master = RPMsgLite.master(shm, loop.master, cfg)
    remote = RPMsgLite.remote(shm, loop.remote, cfg)
    rq = aio.AsyncQueue(remote)
    rept = remote.create_ept(30, rq)
    mq = aio.AsyncQueue(master)
    mept = master.create_ept(ADDR_ANY, mq)
    bells = asyncio.create_task(aio.serve(loop.master, loop.remote))
    up = await aio.wait_for_link_up(remote, 1000)
    print("aio: remote link up", up)
    server = asyncio.create_task(echo(remote, rq, rept))
    ticks = [0]

    async def ticker():
        while True:
            ticks[0] += 1
            await aio.sleep_ms(1)

    async def sender():
        for i in range(messages):
            await aio.send(master, mept, 30, bytes([i]) * (1 + i * 7 % cfg.payload_size))

    tick = asyncio.create_task(ticker())
    send = asyncio.create_task(sender())
    buf = bytearray(cfg.payload_size)
    good = 0
    for i in range(messages):
        src, n = await mq.recv(buf, 1000)
        if src == 30 and bytes(buf[:n]) == bytes([i]) * (1 + i * 7 % cfg.payload_size):
            good += 1
    await send
    for task in (server, tick, bells):
        task.cancel()
    await asyncio.sleep_ms(0)
    print("aio: %d/%d echoes matched, ticker ran %d times" % (good, messages, ticks[0]))
    print("aio: free tx buffers %d %d" % (master.free_tx_buffers(), remote.free_tx_buffers()))
    print("aio demo done")


asyncio.run(main())
