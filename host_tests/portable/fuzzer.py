"""A hostile-peer fuzzer for both ends of a link (portable).

Each step is (op, a, b): ordinary traffic (sends both ways, deliveries,
releases of held buffers, zero-copy) mixed with corruption of shared
memory: random values written over ring fields (indices, ring entries,
descriptor addresses, lengths, flags) or message headers, as a crashed or
compromised core would. After every step the invariants are checked:

* nothing but RPMsgError escapes a send, and nothing at all escapes a
  delivery (isr): on CPython the shim's bounds-checked pointers turn any
  access outside the shared region into an exception that would escape;
* every payload handed to a callback is one of that link's own buffers:
  a view of exactly its length inside the region's buffer area, at a
  payload start;
* the drop counters only grow.

Run by hypothesis on CPython (host_tests/test_fuzz.py) and by a seeded
generator on both interpreters (test_robustness.py).
"""

from rpmsg_lite import RPMsgError, DONT_BLOCK, HOLD, RELEASE
import uctypes

from linkpair import Pair, small_config

# Traffic outweighs damage so that corrupted links keep being exercised.
OPS = (
    "send_m",
    "send_r",
    "send_m",
    "send_r",
    "zc_m",
    "zc_r",
    "deliver",
    "deliver",
    "deliver",
    "release",
    "poll",
    "corrupt_ring",
    "corrupt_header",
    "corrupt_desc",
    "corrupt_any",
    "restart_master",
    "recover",
)
COUNTERS = ("bad_desc", "bad_addr", "bad_len", "bad_header", "duplicate", "index_jumps")


class Checker:
    """Endpoint callback that checks every payload it is given."""

    def __init__(self, link, shm, held):
        self.link = link
        self.held = held
        lay = link.layout
        self.base = uctypes.addressof(shm)
        self.first = lay.buffers + 16
        self.size = lay.buffer_size
        self.count = lay.buffer_total
        self.payload = link.payload_size
        self.received = 0
        self.hold_next = False

    def __call__(self, payload, src):
        off = uctypes.addressof(payload) - self.base - self.first
        assert off >= 0 and off % self.size == 0 and off // self.size < self.count, "foreign buffer"
        assert 0 <= len(payload) <= self.payload, "payload longer than the buffer"
        bytes(payload)  # reading it must stay inside the region
        self.received += 1
        if self.hold_next and len(self.held) < 8:
            self.hold_next = False
            self.held.append((self.link, payload))
            return HOLD
        return RELEASE


class Fuzzer:
    def __init__(self, count=4):
        self.p = Pair(small_config(buffer_count=count, payload_size=64))
        self.held = []
        self.checkers = [None, None]
        self.epts = [None, None]
        for side in (0, 1):
            self._endpoint(side)
        lay = self.p.master.layout
        self.vring_fields = []  # (offset, width) of every ring field
        for v in lay.vrings:
            for i in range(lay.count):
                d = v.desc + 16 * i
                self.vring_fields += [(d, 4), (d + 4, 4), (d + 8, 4), (d + 12, 2), (d + 14, 2)]
                self.vring_fields += [(v.avail + 4 + 2 * i, 2), (v.used + 4 + 8 * i, 4), (v.used + 8 + 8 * i, 4)]
            self.vring_fields += [(v.avail, 2), (v.avail + 2, 2), (v.used, 2), (v.used + 2, 2)]
        self.steps = 0
        self.restarts = 0
        self.recoveries = 0
        self.last = self.counters()

    def _endpoint(self, side):
        link = (self.p.master, self.p.remote)[side]
        self.checkers[side] = Checker(link, self.p.shm, self.held)
        self.epts[side] = link.create_ept(40, self.checkers[side])

    def _restart_master(self):
        # The master core restarts and formats the rings again; the remote
        # must notice and carry on with the new generation.
        from rpmsg_lite import RPMsgLite

        p = self.p
        p.master.deinit()
        self.held[:] = [h for h in self.held if h[0] is not p.master]
        p.master = RPMsgLite.master(p.shm, p.loop.master, p.config)
        self._endpoint(0)
        self.restarts += 1

    def _recover(self):
        # Whatever happened before, a master restart gives a clean link: one
        # message each way gets through and every TX buffer comes back.
        self._restart_master()
        p = self.p
        for link in (p.master, p.remote):
            for side in (0, 1):
                self.checkers[side].hold_next = False
        for link, payload in self.held:
            try:
                link.release_rx_buffer(payload)
            except RPMsgError:
                pass  # a buffer of the old generation
        self.held[:] = []
        p.loop.deliver()  # the init kick: the remote resets if it has to
        before = (self.checkers[0].received, self.checkers[1].received)
        p.master.send(self.epts[0], 40, b"after restart", DONT_BLOCK)
        p.remote.send(self.epts[1], 40, b"after restart", DONT_BLOCK)
        p.loop.deliver()
        assert (self.checkers[0].received, self.checkers[1].received) == (before[0] + 1, before[1] + 1)
        n = p.config.buffer_count
        assert p.master.free_tx_buffers() == n and p.remote.free_tx_buffers() == n, "a buffer leaked"
        self.recoveries += 1

    def counters(self):
        out = []
        for link in (self.p.master, self.p.remote):
            s = link.stats()
            for prefix in ("rx_", "tx_"):
                for name in COUNTERS:
                    out.append(s[prefix + name])
        return out

    def _poke(self, off, width, value):
        shm = self.p.shm
        for k in range(width):
            shm[off + k] = (value >> (8 * k)) & 0xFF

    def _send(self, side, size, zero_copy):
        link = (self.p.master, self.p.remote)[side]
        try:
            if zero_copy:
                buf = link.alloc_tx_buffer(DONT_BLOCK)
                n = size % (len(buf) + 1)
                link.send_nocopy(self.epts[side], 40, buf, n)
            else:
                link.send(self.epts[side], 40, bytes(size % 65), DONT_BLOCK)
        except RPMsgError:
            pass  # no buffer, link down (restart seen), ...: allowed

    def step(self, op, a, b):
        p = self.p
        self.steps += 1
        if op == "send_m" or op == "send_r":
            self._send(0 if op == "send_m" else 1, a, False)
        elif op == "zc_m" or op == "zc_r":
            self._send(0 if op == "zc_m" else 1, a, True)
        elif op == "deliver":
            self.checkers[a & 1].hold_next = bool(b & 1)
            p.loop.deliver()
        elif op == "poll":
            (p.master, p.remote)[a & 1].poll()
        elif op == "release":
            if self.held:
                link, payload = self.held.pop(a % len(self.held))
                try:
                    link.release_rx_buffer(payload)
                except RPMsgError:
                    pass  # the buffer went back with a restart
        elif op == "corrupt_ring":
            off, width = self.vring_fields[a % len(self.vring_fields)]
            self._poke(off, width, b)
        elif op == "corrupt_desc":
            # Plausible but wrong descriptors are the dangerous ones: buffer
            # starts just outside the area, inside a buffer, in the vrings.
            lay = p.master.layout
            v = lay.vrings[a & 1]
            d = v.desc + 16 * ((a >> 1) % lay.count)
            kind = (a >> 8) % 4
            start = lay.pa_base + lay.buffers
            if kind == 0:  # a buffer start, k in -2N .. 4N
                addr = start + lay.buffer_size * ((b % (6 * lay.buffer_total)) - 2 * lay.buffer_total)
            elif kind == 1:  # inside a buffer
                addr = start + b % (lay.buffer_total * lay.buffer_size)
            elif kind == 2:  # the vrings
                addr = lay.pa_base + b % lay.buffers
            else:  # a length instead of an address
                d += 8
                addr = b % (2 * lay.buffer_size)
            self._poke(d, 4, addr & 0xFFFFFFFF)
        elif op == "corrupt_header":
            lay = p.master.layout
            h = lay.buffer_offset(a % lay.buffer_total)
            self._poke(h + (4 * ((a >> 8) % 4)), 4, b)
        elif op == "corrupt_any":
            off = a % (len(p.shm) - 3) & ~1
            self._poke(off, 2, b)
        elif op == "restart_master":
            if a % 4 == 0:  # rarer than the other operations
                self._restart_master()
                self.last = self.counters()  # the new master starts at 0
        elif op == "recover":
            if a % 4 == 0:
                self._recover()
                self.last = self.counters()
        else:
            raise ValueError(op)
        now = self.counters()
        for k in range(len(now)):
            assert now[k] >= self.last[k], "a drop counter went down"
        self.last = now

    def damage(self):
        return sum(self.last)


class Totals:
    def __init__(self):
        self.steps = self.damage = self.received = self.restarts = self.remote_resets = 0
        self.recoveries = 0

    def add(self, f):
        self.steps += f.steps
        self.damage += f.damage()
        self.received += f.checkers[0].received + f.checkers[1].received
        self.restarts += f.restarts
        self.remote_resets += f.p.remote.peer_restarts
        self.recoveries += f.recoveries


def run_seeded(seed, steps, episode=64):
    """Fuzz with a xorshift32 stream (the same on both interpreters), in
    episodes of ``episode`` steps, each on a fresh pair. Returns Totals."""
    x = seed or 1
    totals = Totals()
    done = 0
    while done < steps:
        f = Fuzzer()
        for _ in range(min(episode, steps - done)):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            a = x
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            f.step(OPS[a % len(OPS)], a >> 4, x)
        done += f.steps
        totals.add(f)
    return totals

