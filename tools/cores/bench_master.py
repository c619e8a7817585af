# Benchmark master core (MicroPython or CPython), driven by tools/bench.py.
#
#     bench_master.py FILE [--mode pingpong|stream] [--window W]
#         [--sizes 16,64,256,496] [--messages N] [--zero-copy] [layout options]
#
# Creates the shared file as master and measures against an echo at
# address 30 on the other core (boards/host/main.py or any program speaking
# the host transport contract). Prints one JSON line per payload size.
#
# pingpong: one message in flight; each round trip timed.
# stream:   up to W messages in flight; the echo comes back in order, so each
#           message's round trip is measured from its own send.
# --zero-copy: alloc_tx_buffer/send_nocopy (only the 4-byte sequence number
#           is written) and recv_view/nocopy_free; otherwise copy send and
#           recv_into.
# On MicroPython the heap allocated during the timed loop is reported per
# message (the GC is disabled for the loop so nothing is hidden).

import sys
import gc
import json
from array import array

import board
from rpmsg_lite import Queue, RPMsgError, ADDR_ANY, DONT_BLOCK
import rpmsg_lite.env  # noqa: F401  (on CPython: the shim adds time.ticks_*)
from time import ticks_us, ticks_diff, ticks_ms

ECHO = 30
WARMUP = 100


def wait_for_echo(link, port, ept, q, buf):
    """Probe address 30 until something echoes (the peer may still be
    starting; it need not announce anything)."""
    start = ticks_ms()
    while ticks_diff(ticks_ms(), start) < 30000:
        if link.is_link_up() and link.free_tx_buffers():
            link.send(ept, ECHO, b"probe", DONT_BLOCK)
            t = ticks_ms()
            while ticks_diff(ticks_ms(), t) < 200:
                port.wait(5)
                if q.len():
                    # Echoes of earlier probes may still be on their way
                    # (a slow peer): drain until 200 ms pass without one,
                    # or the first timed echo would be a probe's.
                    quiet = ticks_ms()
                    while ticks_diff(ticks_ms(), quiet) < 200:
                        if q.len():
                            q.recv_into(buf, DONT_BLOCK)
                            quiet = ticks_ms()
                        else:
                            port.wait(5)
                    return True
        port.wait(20)
    return False


class Bench:
    def __init__(self, link, port, ept, q, zero_copy, payload, window):
        self.link = link
        self.port = port
        self.ept = ept
        self.q = q
        self.zero_copy = zero_copy
        self.data = bytearray(payload)
        self.buf = bytearray(payload)
        self.views = {}  # size -> view of data: slicing per send would allocate
        self.started = array("I", [0] * window)  # send time of each message in flight
        # Bound once here: binding in the timed loop would count as allocation.
        self.bound = (link.free_tx_buffers, q.len, self.send, self.recv, port.wait)

    def send(self, seq, size):
        link = self.link
        if self.zero_copy:
            out = link.alloc_tx_buffer(1000)
            out[0] = seq & 0xFF
            out[1] = (seq >> 8) & 0xFF
            link.send_nocopy(self.ept, ECHO, out, size)
        else:
            view = self.views.get(size)
            if view is None:
                view = self.views[size] = memoryview(self.data)[:size]
            view[0] = seq & 0xFF
            view[1] = (seq >> 8) & 0xFF
            link.send(self.ept, ECHO, view, 1000)

    def recv(self):
        """Wait for the next echo; returns its sequence number (16 bits)."""
        q = self.q
        while not q.len():
            self.port.wait(1)
        if self.zero_copy:
            view = q.recv_view(DONT_BLOCK)
            seq = view[0] | view[1] << 8
            q.nocopy_free(view)
            return seq
        q.recv_into(self.buf, DONT_BLOCK)
        return self.buf[0] | self.buf[1] << 8

    def pingpong(self, n, size, rtts):
        for i in range(n):
            t0 = ticks_us()
            self.send(i, size)
            if self.recv() != i & 0xFFFF:
                raise ValueError("echo out of order at %d" % i)
            rtts[i] = ticks_diff(ticks_us(), t0)

    def stream(self, n, size, window, rtts):
        # Methods bound once: the loop is the master's per-message cost, as
        # the C bench master's loop is its own.
        started = self.started
        sent = 0
        done = 0
        free, queued, send, recv, wait = self.bound
        while done < n:
            if sent < n and sent - done < window and free():
                started[sent % window] = ticks_us()
                send(sent, size)
                sent += 1
            elif queued() or sent - done == window or sent == n:
                seq = recv()
                if seq != done & 0xFFFF:
                    raise ValueError("echo out of order at %d" % done)
                rtts[done] = ticks_diff(ticks_us(), started[done % window])
                done += 1
            else:
                wait(1)


def percentile(values, p):
    k = int(p * (len(values) - 1) / 100 + 0.5)
    return values[min(k, len(values) - 1)]


def main(argv):
    args, opts = board.parse(argv, extra=("--mode", "--window", "--sizes", "--messages"))
    cfg = board.config(opts)
    mode = opts.get("mode", "pingpong")
    window = int(opts.get("window", 8))
    sizes = [int(s) for s in opts.get("sizes", "16,64,256,496").split(",")]
    n = int(opts.get("messages", 2000))
    zero_copy = bool(opts.get("zero_copy", False))
    micropython = sys.implementation.name == "micropython"
    port, link = board.open_link(args[0], cfg, True)
    q = Queue(link)
    ept = link.create_ept(ADDR_ANY, q)
    bench = Bench(link, port, ept, q, zero_copy, cfg.payload_size, window)
    if not wait_for_echo(link, port, ept, q, bench.buf):
        print(json.dumps({"error": "no echo from address 30 on the peer"}))
        port.close()
        return
    rtts = array("I", [0] * n)
    for size in sizes:
        if size > cfg.payload_size:
            continue
        run = bench.pingpong if mode == "pingpong" else (lambda k, s, r: bench.stream(k, s, window, r))
        run(min(WARMUP, n), size, rtts)
        gc.collect()
        if micropython:
            gc.disable()
            heap0 = gc.mem_alloc()
        t0 = ticks_us()
        run(n, size, rtts)
        elapsed_us = ticks_diff(ticks_us(), t0)
        alloc = None
        if micropython:
            alloc = (gc.mem_alloc() - heap0) / n
            gc.enable()
        ordered = sorted(rtts)
        print(
            json.dumps(
                {
                    "mode": mode,
                    "window": window if mode == "stream" else 1,
                    "size": size,
                    "zero_copy": zero_copy,
                    "master": sys.implementation.name,
                    "messages": n,
                    "msgs_per_s": round(n * 1e6 / elapsed_us),
                    "mb_per_s": round(n * size / elapsed_us, 3),
                    "rtt_median_us": percentile(ordered, 50),
                    "rtt_p99_us": percentile(ordered, 99),
                    "alloc_bytes_per_msg": alloc,
                }
            )
        )
    port.close()


try:
    main(sys.argv[1:])
except RPMsgError as e:
    print(json.dumps({"error": str(e)}))
