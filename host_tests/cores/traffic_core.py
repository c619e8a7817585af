# A test core: sends and checks a seeded stream of messages in both
# directions over the host port, on MicroPython or CPython.
#
#     traffic_core.py FILE [--master] [--messages N] [--seed S] [layout options]
#
# Each side announces a "traffic" endpoint by name service and learns the
# peer's address from the peer's announcement. It then sends N messages of
# pseudo-random size (4..payload) while receiving the peer's N, alternating
# copy and zero-copy on both the sending and the receiving side. Message k
# starts with k (u32 LE) followed by bytes the receiver can regenerate, so
# loss, duplication, reordering and corruption are all detected. Prints one
# JSON line with the counts.
#
# The generator is xorshift32, written out here, so both interpreters
# produce the same stream (their random modules differ).

import sys
import json

import board
from rpmsg_lite import NameService, Queue, ADDR_ANY, DONT_BLOCK
from rpmsg_lite.env import ticks_ms, ticks_diff


def xorshift(x):
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def table(seed):
    out = bytearray(1024)
    x = seed or 1
    for i in range(1024):
        x = xorshift(x)
        out[i] = x & 0xFF
    return bytes(out)


class Stream:
    """Sizes and contents of one direction's messages."""

    def __init__(self, seed, payload):
        self.bytes = table(seed)
        self.state = seed or 1
        self.payload = payload

    def next(self):
        """(size, offset into bytes) of the next message."""
        self.state = xorshift(self.state)
        size = 4 + self.state % (self.payload - 3)
        return size, (self.state >> 8) % (1024 - self.payload)


def main(argv):
    args, opts = board.parse(argv, extra=("--messages", "--seed"))
    path = args[0]
    master = opts.get("master", False)
    total = int(opts.get("messages", 10000))
    seed = int(opts.get("seed", 1234))
    cfg = board.config(opts)
    port, link = board.open_link(path, cfg, master)
    peer = []
    NameService(link, lambda addr, name, flags: peer.append(addr) if name == "traffic" else None)
    q = Queue(link)
    ept = link.create_ept(ADDR_ANY, q)
    if not link.wait_for_link_up(20000):
        raise OSError("no link")
    link.ns_announce(ept, "traffic")
    start = ticks_ms()
    while not peer:
        port.wait(5)
        if ticks_diff(ticks_ms(), start) > 20000:
            raise OSError("no announcement from the peer")
    dst = peer[0]
    mine = Stream(seed + (0 if master else 1), cfg.payload_size)
    theirs = Stream(seed + (1 if master else 0), cfg.payload_size)
    data = bytearray(cfg.payload_size)
    buf = bytearray(cfg.payload_size)
    sent = received = errors = 0
    tx_full = 0  # times a message was ready but every TX buffer was taken
    zero_copy_sent = zero_copy_received = 0
    first_error = None
    while sent < total or received < total:
        busy = False
        if sent < total and link.free_tx_buffers():
            size, off = mine.next()
            if sent & 1:
                out = link.alloc_tx_buffer(DONT_BLOCK)
                zero_copy_sent += 1
            else:
                out = data
            out[0] = sent & 0xFF
            out[1] = (sent >> 8) & 0xFF
            out[2] = (sent >> 16) & 0xFF
            out[3] = sent >> 24
            out[4:size] = mine.bytes[off : off + size - 4]
            if sent & 1:
                link.send_nocopy(ept, dst, out, size)
            else:
                link.send(ept, dst, memoryview(data)[:size], DONT_BLOCK)
            sent += 1
            busy = True
        elif sent < total:
            tx_full += 1
        if q.len():
            if received & 1:
                view = q.recv_view(DONT_BLOCK)
                zero_copy_received += 1
            else:
                n = q.recv_into(buf, DONT_BLOCK)
                view = memoryview(buf)[:n]
            size, off = theirs.next()
            seq = view[0] | view[1] << 8 | view[2] << 16 | view[3] << 24
            if len(view) != size or seq != received or bytes(view[4:]) != theirs.bytes[off : off + size - 4]:
                errors += 1
                if first_error is None:
                    first_error = "message %d: got seq %d, %d bytes (expected %d)" % (received, seq, len(view), size)
            if received & 1:
                q.nocopy_free(view)
            received += 1
            busy = True
        if not busy:
            port.wait(1)
    elapsed = ticks_diff(ticks_ms(), start)
    # Stay until the peer has read everything we sent (our buffers are
    # back) or is gone, so closing never pulls the file from under it.
    while link.free_tx_buffers() < cfg.buffer_count and port.peer_alive():
        port.wait(5)
    print(
        json.dumps(
            {
                "role": "master" if master else "remote",
                "interpreter": sys.implementation.name,
                "sent": sent,
                "received": received,
                "zero_copy_sent": zero_copy_sent,
                "zero_copy_received": zero_copy_received,
                "errors": errors,
                "tx_full": tx_full,
                "first_error": first_error,
                "stats": link.stats(),
                "doorbells_in": port.doorbells,  # notifications the peer rang
                "ms": elapsed,
            }
        )
    )
    port.close()


main(sys.argv[1:])
