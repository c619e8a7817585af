#!/usr/bin/env python3
"""The host demo: two "cores" on this machine talking RPMsg-Lite.

This process is the master (CPython running the firmware through the shim);
the remote core is boards/host/main.py on MicroPython (or CPython when
MicroPython is missing). The demo waits for link-up and the remote's
name-service announcements, runs an echo ping-pong of random-sized
messages, checks every echo, and prints a report.

usage: tools/demo [--messages N] [--remote micropython|cpython]
                  [--count N] [--payload N] [--align N] [--vring-size N]
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

hostcores.use_firmware()
import board  # noqa: E402
from rpmsg_lite import RPMsgLite, NameService, Queue, RPMsgError, ADDR_ANY  # noqa: E402
from rl_host import HostPort  # noqa: E402


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Progress:
    """A one-line progress report for runs longer than a second."""

    def __init__(self, total):
        self.total = total
        self.start = time.monotonic()
        self.last = self.start
        self.shown = False

    def update(self, done):
        now = time.monotonic()
        if now - self.last >= 0.5 and now - self.start >= 1.0:
            self.last = now
            self.shown = True
            rate = done / (now - self.start)
            print("\r  %d/%d messages, %.0f msg/s " % (done, self.total, rate), end="", flush=True)

    def finish(self):
        if self.shown:
            print("\r" + " " * 60 + "\r", end="")


def wait_for(port, condition, timeout_s, core):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline or not core.running():
            return False
        port.wait(10)
    return True


def parse_args(argv):
    parser = cli.Parser("tools/demo", __doc__.split("\n\nusage")[0])
    parser.add_argument("--messages", type=cli.int_range(1), default=5000, metavar="N",
                        help="echo round trips (default 5000)")
    parser.add_argument("--dump", metavar="FILE",
                        help="at the end, copy the shared region to FILE (for tools/inspect)")
    parser.add_argument("--remote", choices=("micropython", "cpython"),
                        help="interpreter of the remote core (default: micropython if found)")
    cli.add_layout(parser)
    args = parser.parse_args(argv)
    opts, cfg = cli.layout(parser, args)
    if args.remote == "micropython" and hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    return args, opts, cfg


def main(argv):
    args, opts, cfg = parse_args(argv)
    messages = args.messages
    interpreter = args.remote
    if interpreter is None:
        interpreter = "micropython" if hostcores.find_micropython() else "cpython"
        if interpreter == "cpython":
            print("MicroPython not found (tools/setup.sh builds it): the remote core runs on CPython instead")
    workdir = hostcores.Workdir("rpmsg-demo-")
    try:
        return run_demo(workdir, messages, interpreter, opts, cfg, args.dump)
    finally:
        workdir.close()


def run_demo(workdir, messages, interpreter, opts, cfg, dump=None):
    log_path = os.path.join(workdir.path, "remote.log")
    port = HostPort.create(workdir.shm, cfg.shm_size)
    link = RPMsgLite.master(port.shm, port, cfg)
    services = {}

    def announced(addr, name, flags):
        services[name] = addr
        print("  name service: %r %s at address %d" % (name, "created" if flags == 0 else "destroyed", addr))

    NameService(link, announced)
    print("rpmsg-lite host demo")
    print("  master: this process (CPython %s), %r" % (sys.version.split()[0], cfg))
    print("  shared memory: %s (%d bytes), doorbells %s.m2r / .r2m" % (workdir.shm, cfg.shm_size, workdir.shm))
    argv_core, env = hostcores.core_command(interpreter, hostcores.REMOTE_MAIN, [workdir.shm] + board.layout_args(opts))
    log = open(log_path, "wb")
    core = hostcores.Core(argv_core, env=env, stdout=log, stderr=subprocess_stdout())
    code = 1
    try:
        print("  remote: %s core started (pid %d)" % (interpreter, core.proc.pid))
        if not wait_for(port, lambda: "rpmsg-echo" in services, 30, core):
            print("  the remote core did not announce rpmsg-echo; its output:")
            log.flush()
            print(open(log_path).read())
            return 1
        print("  link is up; echo service at address %d" % services["rpmsg-echo"])
        code = ping_pong(link, port, services["rpmsg-echo"], messages, cfg.payload_size)
        if dump:
            with open(dump, "wb") as f:
                f.write(bytes(port.shm))
            print("  shared region copied to %s (tools/inspect %s)" % (dump, dump))
    finally:
        port.close()
        core.close()
        log.close()
    return code


def subprocess_stdout():
    import subprocess

    return subprocess.STDOUT


def ping_pong(link, port, echo_addr, messages, payload_size):
    q = Queue(link)
    ept = link.create_ept(ADDR_ANY, q)
    rng = random.Random(2024)
    buf = bytearray(payload_size)
    rtts = []
    sent_bytes = 0
    bad = 0
    progress = Progress(messages)
    start = time.perf_counter()
    for i in range(messages):
        size = rng.randint(1, payload_size)
        data = rng.randbytes(size)
        t0 = time.perf_counter_ns()
        link.send(ept, echo_addr, data, 1000)
        try:
            n = q.recv_into(buf, 2000)
        except RPMsgError as e:
            print("\n  no echo for message %d: %s" % (i, e))
            return 1
        rtts.append(time.perf_counter_ns() - t0)
        if buf[:n] != data or q.src != echo_addr:
            bad += 1
        sent_bytes += size
        progress.update(i + 1)
    elapsed = time.perf_counter() - start
    progress.finish()
    rtts.sort()
    print("report:")
    print("  messages: %d sent, %d echoed back, %d mismatched" % (messages, len(rtts), bad))
    print("  bytes: %d each way (%d to %d per message)" % (sent_bytes, 1, payload_size))
    print(
        "  round trip: median %.1f us, p99 %.1f us"
        % (percentile(rtts, 50) / 1000.0, percentile(rtts, 99) / 1000.0)
    )
    print(
        "  throughput: %.0f round trips/s, %.2f MB/s each way"
        % (messages / elapsed, sent_bytes / elapsed / 1e6)
    )
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    cli.run(main, "tools/demo")
