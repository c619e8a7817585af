# The MicroPython master of the dual-core board (core 0), opposite an echo
# remote on core 1 (C: cfirmware/remote.c, or MicroPython: an521_echo.py).
#
#     import an521_master as m
#     c1 = m.Core1()              # master link, releases core 1, waits for its announcement
#     c1.ask(b"hello core 1")     # -> the remote's echo
#     m.run()                     # the CI scenario: prints one JSON line
#
# run(): link-up and the name-service announcement, a checked ping-pong
# (copy), zero-copy both ways, a stress of n messages each way through the
# checking endpoint (every echo checked for sequence, length and payload
# here, every message checked on the remote), the instructions per 64-byte
# round trip (both cores, virtual-time timer) and the remote's counters.

import json
import struct

import rl_mps2_an521 as an
from rpmsg_lite import NameService, Queue, ADDR_ANY, BLOCK, RELEASE
import an521_pattern as pattern

ECHO = 30
CHECKED = 31
STATS = 32
STOP = 33  # a MicroPython remote returns to its REPL


class Core1:
    """The master end of link 0 on core 0, talking to core 1's echo remote."""

    def __init__(self, port=None, start=True, timeout_ms=10000):
        self.port = port or an.AN521Port()
        self.names = []
        self.link = self.port.master()  # formats shared SRAM, rings core 1
        self.ns = NameService(self.link, self._announced)
        self.q = Queue(self.link)
        self.ept = self.link.create_ept(ADDR_ANY, self.q)
        self.buf = bytearray(self.link.payload_size)
        self.started = self.port.start_core1() if start else False
        for _ in range(timeout_ms // 10):
            if self.names:
                break
            self.port.wait(10)

    def _announced(self, addr, name, flags):
        self.names.append((name, addr))

    def ask(self, data, dst=ECHO, timeout_ms=1000):
        """Send data to core 1's endpoint dst and return its answer."""
        self.link.send(self.ept, dst, data, timeout_ms)
        n = self.q.recv_into(self.buf, timeout_ms)
        return bytes(self.buf[:n])

    def peer_stats(self):
        """The remote's counters: checked, bad, echoed, held at most."""
        return struct.unpack("<4I", self.ask(b"?", STATS))


def pingpong(c, n=100):
    ok = 0
    data = bytearray(496)
    for seq in range(n):
        size = pattern.length(seq)
        pattern.fill(data, seq, size)
        if c.ask(data[:size]) == data[:size]:
            ok += 1
    return ok


def zero_copy(c, n=100):
    ok = 0
    link = c.link
    for seq in range(n):
        size = pattern.length(seq)
        buf = link.alloc_tx_buffer(BLOCK)
        pattern.fill(buf, seq, size)
        link.send_nocopy(c.ept, ECHO, buf, size)
        src, view = c.q.recv_nocopy(1000)
        if src == ECHO and len(view) == size and pattern.check(view, size) == seq:
            ok += 1
        c.q.nocopy_free(view)
    return ok


class _Sink:
    def __init__(self):
        self.received = 0
        self.bad = 0

    def __call__(self, payload, src):
        n = len(payload)
        seq = pattern.check(payload, n)
        if seq != self.received or n != 4 + (seq * 37) % 493:
            self.bad += 1
        self.received += 1
        return RELEASE


def stress(c, n=20000):
    """n messages to the checking endpoint, zero-copy, as fast as TX
    buffers come back; returns (sent, echoes received, bad echoes)."""
    link = c.link
    port = c.port
    sink = _Sink()
    ept = link.create_ept(ADDR_ANY, sink)
    fill = pattern.fill
    sent = 0
    stalls = 0
    while sink.received < n and stalls < 500:
        while sent < n and link.free_tx_buffers():
            size = 4 + (sent * 37) % 493
            buf = link.alloc_tx_buffer(0)
            fill(buf, sent, size)
            link.send_nocopy(ept, CHECKED, buf, size)
            sent += 1
        before = sink.received
        port.wait(10)
        stalls = stalls + 1 if sink.received == before else 0
    link.destroy_ept(ept)
    return sent, sink.received, sink.bad


def round_trip(c, rounds=1000):
    """Instructions (both cores) per 64-byte copy round trip to the echo
    endpoint, measured on the virtual-time timer."""
    data = bytes(range(64))
    for _ in range(10):
        c.ask(data)
    link, ept, q, buf = c.link, c.ept, c.q, c.buf
    pattern.timer_restart()
    for _ in range(rounds):
        link.send(ept, ECHO, data, BLOCK)
        q.recv_into(buf, BLOCK)
    return pattern.timer_ticks() * pattern.INSTRUCTIONS_PER_TICK // rounds


def run(messages=20000, rounds=1000, start=True, stop=True):
    c = Core1(start=start)
    out = {"master": "micropython", "core": c.port.core, "link_up": c.link.is_link_up(), "names": c.names}
    out["pingpong_ok"] = pingpong(c)
    out["zero_copy_ok"] = zero_copy(c)
    sent, received, bad = stress(c, messages)
    out["stress_sent"] = sent
    out["stress_received"] = received
    out["stress_bad"] = bad
    out["rt64_instructions"] = round_trip(c, rounds)
    checked, peer_bad, echoed, held = c.peer_stats()
    out["peer_checked"] = checked
    out["peer_bad"] = peer_bad
    out["peer_echoed"] = echoed
    out["peer_held_max"] = held
    s = c.link.stats()
    out["dropped"] = s["rx_bad_entries"] + s["tx_bad_entries"]
    if stop:
        c.link.send(c.ept, STOP, b"stop", 100)
    print(json.dumps(out))
    return c
