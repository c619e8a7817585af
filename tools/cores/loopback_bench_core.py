"""Both ends of one link in this interpreter over the loopback port: how
many messages per second a copy send + delivery + callback reaches
(run by tools/loopback_bench.py; MicroPython's unix port or CPython).

Each message is one link.send() (a queued doorbell vector) and one
delivery of that vector (the remote's loopback mailbox, as an interrupt
would), which calls the endpoint callback. Prints one JSON line.
"""

import json
import sys
import time

from rpmsg_lite import RPMsgLite, Config, DONT_BLOCK
from rl_loopback import Loopback


def _release(payload, src):
    return 0


def run(size, messages):
    cfg = Config(buffer_count=4, payload_size=496)
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    master = RPMsgLite.master(shm, loop.master, cfg)
    remote = RPMsgLite.remote(shm, loop.remote, cfg)
    loop.remote.deliver()
    ept = master.create_ept(30, _release)
    remote.create_ept(40, _release)
    data = bytes(size)
    send = master.send
    deliver = loop.remote.deliver
    for _ in range(100):  # warm-up
        send(ept, 40, data, DONT_BLOCK)
        deliver()
    start = time.ticks_us()
    for _ in range(messages):
        send(ept, 40, data, DONT_BLOCK)
        deliver()
    us = time.ticks_diff(time.ticks_us(), start)
    stats = master.stats()
    return {
        "size": size,
        "messages": messages,
        "msgs_per_s": int(messages * 1000000 // max(us, 1)),
        "us_per_msg": us / messages,
        "doorbells_per_msg": stats["tx_doorbells"] / stats["tx_messages"] if "tx_doorbells" in stats else None,
    }


def main(argv):
    messages = int(argv[1]) if len(argv) > 1 else 200000
    out = {"interpreter": sys.implementation.name, "results": [run(size, messages) for size in (64, 496)]}
    print(json.dumps(out))


main(sys.argv)
