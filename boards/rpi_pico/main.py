# Raspberry Pi Pico (RP2040) demo: core 1 runs services over RPMsg-Lite and
# the REPL on core 0 talks to them. Both cores run MicroPython (core 1 is
# the _thread), doorbells never touch the SIO FIFO (rl_rp2040_dual).
#
#     >>> import main
#     >>> main.start()              # core 1 up, link up, its services announced
#     >>> main.ping(100)            # echo round trips to core 1, with timing
#     >>> main.core1("sum(range(100))")   # evaluated on core 1, answer comes back
#     >>> main.stop()               # core 1's loop returns (do this before a soft reset)
#
# Core 1 offers two endpoints, announced by name service: "rpmsg-echo" at
# 30 (every message comes back) and "core1-eval" at 31 (a Python expression
# in, repr of its value or of the exception out). Nothing starts at import:
# a soft reset or mpremote never finds core 1 busy unless start() ran.

import time

from rl_rp2040 import dual as dualcore
from rpmsg_lite import Config, Queue, NameService, ADDR_ANY, DONT_BLOCK, RELEASE
from rpmsg_lite.echo import EchoService

CONFIG = Config(buffer_count=4)
EVAL_ADDR = 31


class Evaluator:
    """Core 1's evaluation service (runs in core 1's doorbell loop)."""

    def __init__(self, link):
        self.link = link
        self.ept = link.create_ept(EVAL_ADDR, self)

    def __call__(self, payload, src):
        try:
            answer = repr(eval(bytes(payload).decode(), {}))
        except Exception as e:  # the caller sees what went wrong
            answer = "%s: %s" % (type(e).__name__, e)
        self.link.send(self.ept, src, answer.encode()[: self.link.payload_size], DONT_BLOCK)
        return RELEASE


def core1_main(side):
    """Runs on core 1 before its doorbell loop: endpoints first (a message
    must not find its address empty), announcements once the link is up."""
    link = side.remote()
    echo = EchoService(link)
    evaluator = Evaluator(link)
    if link.wait_for_link_up(5000):
        echo.announce()
        link.ns_announce(evaluator.ept, "core1-eval")


class Session:
    def __init__(self, dual, link, queue, ept):
        self.dual = dual
        self.link = link
        self.queue = queue
        self.ept = ept
        self.services = {}


_session = None


def session():
    if _session is None:
        raise RuntimeError("call main.start() first")
    return _session


def start(timeout_ms=5000):
    """Start core 1 and bring the link up; returns once core 1 announced its
    services."""
    global _session
    if _session is not None:
        return _session
    dual = dualcore.DualCore(CONFIG)  # no PIO doorbell: core 0 polls in wait()
    dual.start_core1(core1_main)
    link = dual.core0.master()  # its init kick brings core 1's link up
    queue = Queue(link)
    s = Session(dual, link, queue, link.create_ept(ADDR_ANY, queue))
    NameService(link, lambda addr, name, flags: s.services.__setitem__(name, addr))
    for _ in range(timeout_ms // 10):
        if len(s.services) == 2:
            break
        dual.core0.wait(10)
    else:
        dual.deinit()
        raise OSError("core 1 did not announce its services: %r" % (dual.stats(),))
    print("core 1 services:", s.services)
    _session = s
    return s


def _ask(s, addr, data, timeout_ms):
    s.link.send(s.ept, addr, data, timeout_ms)
    buf = bytearray(s.link.payload_size)
    n = s.queue.recv_into(buf, timeout_ms)
    return bytes(buf[:n])


def ping(count=100, size=64, timeout_ms=1000):
    """Echo round trips to core 1; prints and returns the median in us."""
    s = session()
    data = bytes(range(size & 0xFF)) if size <= 256 else bytes(size)
    rtts = []
    for _ in range(count):
        t0 = time.ticks_us()
        if _ask(s, s.services["rpmsg-echo"], data, timeout_ms) != data:
            raise ValueError("echo mismatch")
        rtts.append(time.ticks_diff(time.ticks_us(), t0))
    rtts.sort()
    median = rtts[len(rtts) // 2]
    print("%d echoes of %d bytes: median %d us, worst %d us" % (count, size, median, rtts[-1]))
    return median


def core1(expression, timeout_ms=1000):
    """Evaluate a Python expression on core 1; returns the repr it sent."""
    s = session()
    return _ask(s, s.services["core1-eval"], expression.encode(), timeout_ms).decode()


def stop():
    """Stop core 1's loop and drop the link."""
    global _session
    if _session is not None:
        _session.dual.deinit()
        _session = None
