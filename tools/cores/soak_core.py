# Soak core (MicroPython or CPython), driven by tools/soak.py.
#
#     soak_core.py FILE [--master] [--messages N] [--progress N] [layout options]
#
# Sends N messages to endpoint 50 of the other core while receiving the
# other core's N there. Message k: k (u32 LE), a checksum (u32 LE) of the
# payload that follows, then 0..payload-8 bytes taken from a table at an
# offset derived from k. The receiver checks the sequence (loss, duplicate,
# reordering) and the checksum of every message. The steady-state loop
# allocates nothing on MicroPython: zero-copy sends filled by viper code
# (every 8th message a copy send of a preallocated view), recv_view and
# nocopy_free on the receive side. Heap (after gc.collect) and open file
# descriptors are reported at start and end as one JSON line.

import sys
import gc
import os
import json
import micropython

import board
from rpmsg_lite import Queue, DONT_BLOCK
from rpmsg_lite.env import ticks_ms, ticks_diff

ADDR = 50
_TABLE = 1024


@micropython.viper
def checksum(buf, start: int, n: int) -> int:
    p = ptr8(buf)
    h = 0x811C
    i = 0
    while i < n:
        h = ((h * 31) + p[start + i]) & 0x3FFFFFFF  # 30 bits: a small int on every port
        i += 1
    return h


@micropython.viper
def put32(buf, off: int, value: int):
    p = ptr8(buf)
    p[off] = value
    p[off + 1] = value >> 8
    p[off + 2] = value >> 16
    p[off + 3] = value >> 24


@micropython.viper
def get32(buf, off: int) -> int:
    p = ptr8(buf)
    return p[off] | (p[off + 1] << 8) | (p[off + 2] << 16) | ((p[off + 3] & 0x3F) << 24)


@micropython.viper
def copy_in(dst, doff: int, src, soff: int, n: int):
    d = ptr8(dst)
    s = ptr8(src)
    i = 0
    while i < n:
        d[doff + i] = s[soff + i]
        i += 1


def fd_count():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


class Soak:
    def __init__(self, link, port, payload):
        self.link = link
        self.port = port
        self.room = payload - 8
        self.q = Queue(link)
        self.ept = link.create_ept(ADDR, self.q)
        table = bytearray(_TABLE)
        x = 2463534242
        for i in range(_TABLE):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            table[i] = x & 0xFF
        self.table = table
        # The copy-send path: one fixed-size view, filled in place.
        self.copy_buf = bytearray(payload)
        self.copy_view = memoryview(self.copy_buf)[: min(64, payload)]
        self.sent = self.received = self.lost = self.duplicates = self.corrupt = 0

    def size_of(self, k):
        return (k * 2654435761 >> 7) % (self.room + 1) if self.room else 0

    def fill(self, buf, k, n):
        off = (k * 40503) % (_TABLE - self.room)
        copy_in(buf, 8, self.table, off, n)
        put32(buf, 0, k)
        put32(buf, 4, checksum(buf, 8, n))

    def send_one(self):
        k = self.sent
        link = self.link
        if k & 7 == 7:
            view = self.copy_view
            n = len(view) - 8
            self.fill(view, k, n)
            link.send(self.ept, ADDR, view, DONT_BLOCK)
        else:
            buf = link.alloc_tx_buffer(DONT_BLOCK)
            n = self.size_of(k)
            self.fill(buf, k, n)
            link.send_nocopy(self.ept, ADDR, buf, n + 8)
        self.sent = k + 1

    def receive_one(self):
        view = self.q.recv_view(DONT_BLOCK)
        n = len(view)
        if n < 8:
            self.corrupt += 1
        else:
            seq = get32(view, 0)
            want = self.received & 0x3FFFFFFF
            if seq == want:
                self.received += 1
            elif seq < want:
                self.duplicates += 1
            else:
                self.lost += seq - want
                self.received += seq - want + 1
            if checksum(view, 8, n - 8) != get32(view, 4):
                self.corrupt += 1
        self.q.nocopy_free(view)

    def run(self, total, progress):
        link = self.link
        port = self.port
        q = self.q
        next_report = progress
        while self.sent < total or self.received < total:
            busy = False
            if self.sent < total and link.free_tx_buffers():
                self.send_one()
                busy = True
            if q.len():
                self.receive_one()
                busy = True
            if not busy:
                port.wait(1)
            if progress and self.received >= next_report:
                next_report += progress
                # On stdout: the unix port's sys.stderr writes there as well.
                print(json.dumps({"progress": self.received}))


def main(argv):
    args, opts = board.parse(argv, extra=("--messages", "--progress"))
    total = int(opts.get("messages", 1000000))
    progress = int(opts.get("progress", 0))
    master = opts.get("master", False)
    port, link = board.open_link(args[0], board.config(opts), master)
    soak = Soak(link, port, link.payload_size)
    if not link.wait_for_link_up(20000):
        raise OSError("no link")
    while not port.peer_alive():  # the other core's endpoint may not exist yet
        port.wait(5)
    port.wait(50)
    gc.collect()
    heap_start = gc.mem_free() if hasattr(gc, "mem_free") else -1
    fds_start = fd_count()
    start = ticks_ms()
    soak.run(total, progress)
    elapsed = ticks_diff(ticks_ms(), start)
    # Stay until the peer has taken everything we sent (or is gone).
    while link.free_tx_buffers() < link.config.buffer_count and port.peer_alive():
        port.wait(5)
    gc.collect()
    print(
        json.dumps(
            {
                "role": "master" if master else "remote",
                "interpreter": sys.implementation.name,
                "sent": soak.sent,
                "received": soak.received,
                "lost": soak.lost,
                "duplicates": soak.duplicates,
                "corrupt": soak.corrupt,
                "heap_free_start": heap_start,
                "heap_free_end": gc.mem_free() if hasattr(gc, "mem_free") else -1,
                "fds_start": fds_start,
                "fds_end": fd_count(),
                "ms": elapsed,
                "doorbells": getattr(port, "doorbells", 0),  # taken from the FIFO
                "stats": link.stats(),
            }
        )
    )
    port.close()


main(sys.argv[1:])
