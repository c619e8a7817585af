# An asyncio master core of the host board: talks to the echo remote
# (boards/host/main.py) with rpmsg_lite.aio, on MicroPython or CPython.
#
#     micropython boards/host/main.py FILE &          # the echo core (remote)
#     micropython boards/host/aio_demo.py FILE [--messages N] [--poll] [layout options]
#
# (search paths as for main.py: firmware/, firmware/platform, boards/host; a
# unix port built by tools/setup.sh also needs MicroPython's extmod/ for
# asyncio, see tools/hostcores.py; host_tests/test_aio_processes.py runs
# it both ways on both interpreters). Three tasks
# share the loop: a sender that awaits free buffers (aio.send), a receiver
# that awaits each echo (AsyncQueue, woken by the doorbell thread through
# asyncio.ThreadSafeFlag; with --poll by the aio.serve task instead) and a
# ticker showing that the loop never blocks. Prints one report line.

import sys
import asyncio

import board
from rpmsg_lite import NameService, ADDR_ANY, aio


async def run(port, link, total, poll):
    if poll:
        bells = asyncio.create_task(aio.serve(port))
    else:
        port.start_doorbell_thread(period_ms=20)
    names = []
    NameService(link, lambda addr, name, flags: names.append(addr) if name == "rpmsg-echo" else None)
    q = aio.AsyncQueue(link)
    ept = link.create_ept(ADDR_ANY, q)
    await aio.wait_for_link_up(link, 10000)  # the master is up at once
    while not names:  # the remote announces its echo service after link-up
        await aio.sleep_ms(5)
    echo = names[0]
    ticks = [0]

    async def ticker():
        while True:
            ticks[0] += 1
            await aio.sleep_ms(1)

    async def sender():
        for i in range(total):
            await aio.send(link, ept, echo, b"aio %d" % i, 5000)

    tick = asyncio.create_task(ticker())
    send = asyncio.create_task(sender())
    buf = bytearray(link.payload_size)
    good = 0
    for i in range(total):
        n = await q.recv_into(buf, 5000)
        if q.src == echo and bytes(buf[:n]) == b"aio %d" % i:
            good += 1
    await send
    tick.cancel()
    if poll:
        bells.cancel()
    print("aio demo: %d/%d echoes matched from address %d, ticker ran %d times, %s" % (
        good, total, echo, ticks[0], "serve task" if poll else "doorbell thread"))
    return good == total


def main(argv):
    args, opts = board.parse(argv, extra=("--messages",))
    if not args:
        print("usage: aio_demo.py FILE [--messages N] [--poll] [layout options]")
        return 2
    port, link = board.open_link(args[0], board.config(opts), True)
    try:
        ok = asyncio.run(run(port, link, int(opts.get("messages", 200)), opts.get("poll", False)))
    finally:
        port.close()
    return 0 if ok else 1


sys.exit(main(sys.argv[1:]))
