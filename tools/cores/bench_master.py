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
    """The timed loops. They are the master's per-message cost, as the C
    bench master's loop is its own: everything they call is bound to a
    local first."""

    def __init__(self, link, port, ept, q, zero_copy, payload, window):
        self.link = link
        self.port = port
        self.ept = ept
        self.q = q
        self.zero_copy = zero_copy
        self.data = bytearray(payload)
        self.buf = bytearray(payload)
        self.started = array("I", [0] * window)  # send time of each message in flight
        self.io = None  # (send, recv) for one size: set(size) makes them
        # Bound here: binding in the timed loop would count as allocation.
        self.bound = (q.len, port.wait, link.free_tx_buffers)

    def set(self, size):
        self.io = self._io(size)

    def pingpong(self, n, rtts):
        send, recv = self.io
        for i in range(n):
            t0 = ticks_us()
            send(i, 1000)
            if recv() != i & 0xFFFF:
                raise ValueError("echo out of order at %d" % i)
            rtts[i] = ticks_diff(ticks_us(), t0)

    def stream(self, n, window, rtts):
        send, recv = self.io
        qlen, wait, free = self.bound
        started = self.started
        sent = 0
        done = 0
        # A window smaller than the ring nearly always finds a buffer: send
        # (waiting if need be) without asking first. A larger one is
        # back-pressure: ask, and receive while none is free.
        roomy = window < self.link.config.buffer_count
        while done < n:
            if sent < n and sent - done < window and (roomy or free()):
                started[sent % window] = ticks_us()
                send(sent, 1000)
                sent += 1
            elif sent - done == window or sent == n or qlen():
                if recv() != done & 0xFFFF:
                    raise ValueError("echo out of order at %d" % done)
                rtts[done] = ticks_diff(ticks_us(), started[done % window])
                done += 1
            else:
                wait(1)

    def _io(self, size):
        """(send(seq, timeout), recv() -> seq) for one size, as closures over
        locals: no attribute lookups per message (made before the timed
        loop: making them allocates)."""
        link = self.link
        ept = self.ept
        q = self.q
        if self.zero_copy:
            alloc = link.alloc_tx_buffer
            send_nocopy = link.send_nocopy
            recv_view = q.recv_view
            free = q.nocopy_free

            def send(seq, timeout):
                out = alloc(timeout)
                out[0] = seq & 0xFF
                out[1] = (seq >> 8) & 0xFF
                send_nocopy(ept, ECHO, out, size)

            def recv():
                view = recv_view(5000)
                seq = view[0] | view[1] << 8
                free(view)
                return seq

            return send, recv
        view = memoryview(self.data)[:size]
        buf = self.buf
        lsend = link.send
        recv_into = q.recv_into

        def send(seq, timeout):
            view[0] = seq & 0xFF
            view[1] = (seq >> 8) & 0xFF
            lsend(ept, ECHO, view, timeout)

        def recv():
            recv_into(buf, 5000)
            return buf[0] | buf[1] << 8

        return send, recv


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
        run = bench.pingpong if mode == "pingpong" else (lambda k, r: bench.stream(k, window, r))
        bench.set(size)
        run(min(WARMUP, n), rtts)
        rung0 = port.written
        taken0 = port.doorbells
        gc.collect()
        if micropython:
            gc.disable()
            heap0 = gc.mem_alloc()
        t0 = ticks_us()
        run(n, rtts)
        elapsed_us = ticks_diff(ticks_us(), t0)
        alloc = None
        if micropython:
            alloc = (gc.mem_alloc() - heap0) / n
            gc.enable()
        rung = (port.written - rung0) & 0x3FFFFFFF
        taken = (port.doorbells - taken0) & 0x3FFFFFFF  # (both counters wrap)
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
                    # Doorbells per timed message: written by this master,
                    # and taken from its FIFO (written by the echo).
                    "doorbells_out_per_msg": round(rung / n, 3),
                    "doorbells_in_per_msg": round(taken / n, 3),
                }
            )
        )
    port.close()


try:
    main(sys.argv[1:])
except RPMsgError as e:
    print(json.dumps({"error": str(e)}))
