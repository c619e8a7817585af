"""Host port: two processes ("cores") share a file exactly as two cores share
SRAM, with named FIFOs as their doorbells.

Transport contract (other implementations speak it too; see README):
  FILE        the shared region: config.shm_size bytes, mapped MAP_SHARED.
              The master creates it (or truncates it to that size) and
              zeroes it before init.
  FILE.m2r    FIFO of master->remote notifications, FILE.r2m the reverse.
              A notification is the vector id (2*link_id + vring) as a
              little-endian u32. Both sides open both FIFOs read-write, so
              a notification sent before the peer listens stays in the
              pipe like a pending mailbox interrupt.
  FILE.ready  created by the master once its rings are formatted, removed
              when it starts and when it exits; the remote waits for it.
  Liveness    (optional) each side holds flock(LOCK_EX) on the FIFO it
              writes for as long as it runs; a LOCK_SH|LOCK_NB probe that
              succeeds on the peer's FIFO means the peer is gone.
Nothing is negotiated: both sides are given the same configuration, with
descriptor addresses based at pa_base 0x20200000 by default so images are
position independent.
"""

from micropython import const
from rpmsg_lite import env
from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.config import Config
from rpmsg_lite.vring import pending, deliver as _deliver, route as _route
from time import ticks_us, ticks_diff  # (after rpmsg_lite.env: on CPython the shim adds them)
try:
    from _thread import get_ident
except ImportError:  # a build without threads: one context, always the owner

    def get_ident():
        return 0

from .hostos import host_os, LOCK_EX, LOCK_SH, LOCK_NB, LOCK_UN

DEFAULT_PA_BASE = const(0x20200000)
_BATCH = const(256)  # bytes of doorbells read at once: 64 notifications
# How long wait() watches the rings before it sleeps in poll, while the
# peer is active (see wait): a round trip between two awake processes is a
# few microseconds, a wake-up through the FIFO 10-40.
_SPIN_US = const(50)


class HostPort(Port):
    """The port of one side (a ``rpmsg_lite.port.Port``).

    Create with ``HostPort.create(path, size)`` (the master's side, which
    makes the files) or ``HostPort.open(path, size)`` (the remote's side,
    which waits for them); ``port.shm`` is the mapped region, and
    ``port.master()`` / ``port.remote()`` build a link on it.

    Doorbells cost system calls and wake-ups, so the port saves them where
    the protocol allows: wait() watches the rings for up to _SPIN_US before
    it sleeps while the peer is active (_spin); the answers callbacks send
    during one delivery ring once at its end (_deliver); a doorbell the peer
    has not read yet is not written again (_write). Counters: ``written``,
    ``coalesced``, ``doorbells`` (taken), ``dropped``.
    """

    rests = True  # wait(), service() and the doorbell thread call rest() before sleeping

    # Each process maps the file at its own address: descriptors hold the
    # contract's pa_base, also for a Config that leaves pa_base None.
    pa_base = DEFAULT_PA_BASE

    def __init__(self, path, size, creator, config=None):
        Port.__init__(self, config)
        self.path = path
        self.creator = creator  # this side made the files (the master's side)
        self.size = size
        self.dropped = 0  # notifications lost to a full FIFO (the peer is far behind)
        self.doorbells = 0  # notifications taken from the FIFO (wraps at WRAP)
        self.coalesced = 0  # notifications not written: the peer had not taken the last one (wraps)
        self.written = 0  # notifications written to the FIFO (wraps)
        self._last = -1  # the vector written last
        self._defer = None  # the thread whose delivery is deferring doorbells
        self._deferred = 0  # bit v: vector v to ring when that delivery ends
        self._me = get_ident
        self._os = host_os()
        self._rx = bytearray(_BATCH)
        self._words = tuple(bytes((v, 0, 0, 0)) for v in range(32))  # vector -> its FIFO word
        self._thread = None
        self._closed = False
        self._hot = False  # the last wait found work: spin before sleeping
        self._rings = ()  # (link, shm, ctx) of each attached link
        ros = self._os
        for suffix in (".m2r", ".r2m"):
            ros.make_fifo(path + suffix)
        self.shm, self._map = ros.map_file(path, size, creator)
        self._out = ros.open_fifo(path + (".m2r" if creator else ".r2m"))
        self._in = ros.open_fifo(path + (".r2m" if creator else ".m2r"))
        ros.flock(self._out, LOCK_EX | LOCK_NB)
        self._ring = ros.notifier(self._out)
        self._poll = ros.poller(self._in)
        self._yield = ros.sched_yield
        self._unread = ros.unread_counter(self._out)

    @classmethod
    def create(cls, path, size, config=None):
        """The master's side: (re)creates and zeroes FILE and the FIFOs."""
        ros = host_os()
        ros.remove(path + ".ready")
        port = cls(path, size, True, config)
        # Zero through the mapping rather than by truncating to 0: a remote
        # still mapped would fault on pages past a shrunken end of file.
        port.shm[:] = bytes(size)
        return port

    @classmethod
    def open(cls, path, size, timeout_ms=env.BLOCK, config=None):
        """The remote's side: waits for FILE.ready, then maps FILE."""
        ros = host_os()
        start = env.ticks_ms()
        while not ros.exists(path + ".ready"):
            if env.expired(start, timeout_ms):
                raise OSError("no master: %s.ready did not appear within %d ms" % (path, timeout_ms))
            env.sleep_ms(10)
        return cls(path, size, False, config)

    # -- the platform contract -----------------------------------------------

    def _deliver(self, link):
        # Doorbells rung by the callbacks of this delivery (an echo answering
        # each message) are written once, when it ends: a batch of k
        # messages wakes the peer once, not k times. Only this thread's:
        # another thread's send rings at once. Bounded by the delivery
        # (microseconds); a callback that blocks goes through wait(),
        # which writes them first.
        self._defer = self._me()
        try:
            _deliver(link)  # (link.isr of its RX vector, without the bytecode call)
        finally:
            self._defer = None
            if self._deferred:
                self._flush()

    def _flush(self):
        bits = self._deferred
        self._deferred = 0
        v = 0
        while bits:
            if bits & 1:
                self._write(v)
            bits >>= 1
            v += 1

    def notify(self, vector_id):
        if self._defer is not None and vector_id < 30 and self._defer == self._me():
            self._deferred |= 1 << vector_id
            return
        # Coalescing (as the RT1170 MU does with a flag the peer has not
        # cleared yet): if the doorbell written last is this vector and the
        # pipe still holds bytes, that word is unread (we are the only
        # writer, the peer reads whole words in order), so the peer will
        # still take it and then drain the ring, which already holds what
        # the caller published. One ioctl instead of a write that would
        # wake the peer again.
        if vector_id == self._last and self._unread():
            self.coalesced = (self.coalesced + 1) & WRAP
            return
        self._write(vector_id)

    def _write(self, vector_id):
        self._last = vector_id
        words = self._words
        if vector_id < len(words):
            word = words[vector_id]
        else:
            word = bytes((vector_id & 0xFF, (vector_id >> 8) & 0xFF, (vector_id >> 16) & 0xFF, vector_id >> 24))
        # Non-blocking: a dead or stalled peer must not hang the sender
        # (RPMsg-Lite issue #7). A full pipe already holds 16384 pending
        # notifications, so dropping one loses nothing: the peer will scan
        # the rings when it gets to them.
        if self._ring(word):
            self.written = (self.written + 1) & WRAP
        else:
            self.dropped += 1

    def region(self, link_id):
        return self.shm

    def link_config(self, link_id):
        # Each process maps the file at its own address, so descriptors must
        # hold the contract's pa_base, not an address of this process.
        return self.config or Config(pa_base=DEFAULT_PA_BASE)

    def attach(self, link):
        Port.attach(self, link)
        if self.creator:
            self._os.touch(self.path + ".ready")

    def _linked(self):
        Port._linked(self)
        # What the spin of wait() looks at: the RX ring of every link.
        self._rings = tuple((x, x._shm, x._ctx) for x in self._seq)

    def wait(self, ms):
        """Wait up to ms for doorbells and deliver them; returns how many
        notifications were taken (1 for messages found without one)."""
        if self._thread is not None:
            env.sleep_ms(ms)  # the doorbell thread delivers
            return 0
        if self._deferred and self._defer == self._me():
            self._flush()  # (a callback waits: ring for what it sent first)
        if self._hot:
            for link, shm, ctx in self._rings:  # (the spin's first round, inline)
                if pending(shm, ctx, 1):
                    self._deliver(link)
                    return 1
            if self._spin():
                return 1
        if self.rest():
            self._hot = True
            return 1  # messages came while the peer did not ring
        if not self._os.readable(self._poll, ms):
            self._hot = False  # the peer went quiet: the next wait sleeps at once
            # No doorbell for ms: look at the rings anyway. With doorbell
            # suppression (Config.doorbell_suppression) a doorbell can be
            # lost in the race between clearing NO_NOTIFY and the peer's
            # publish (no full barrier in between); this poll turns that
            # into a delay of at most one wait, never a hang.
            for link in self._seq:  # (a tuple: iterating allocates nothing)
                link.poll()
            return 0
        return self.service()

    def _spin(self):
        """While the peer is active its next message is usually microseconds
        away, and sleeping in poll costs a wake-up through the FIFO (tens of
        microseconds, and a doorbell write on the peer's side). So watch the
        RX rings for up to _SPIN_US first, with NO_NOTIFY still set from the
        last drain (doorbell suppression: the peer does not ring meanwhile).
        Each round yields the CPU: when both processes share one core, the
        peer must run for anything to come. Bounded, and only right after
        work was found (_hot), so an idle core sleeps in poll at once."""
        rings = self._rings
        yld = self._yield
        start = ticks_us()
        while True:
            for link, shm, ctx in rings:
                if pending(shm, ctx, 1):
                    # (As a doorbell would: service() dispatches the RX
                    # vector whatever the link's state. _hot is first set
                    # by a delivery, which on a remote follows the init
                    # kick that brings it up: the FIFO keeps order.)
                    self._deliver(link)
                    return True
            if ticks_diff(ticks_us(), start) >= _SPIN_US:
                return False
            yld()

    def service(self):
        """Deliver every doorbell waiting in the FIFO, without blocking."""
        total = 0
        rx = self._rx
        while True:
            n = self._os.read_into(self._in, rx)
            if n <= 0:
                if not total:
                    self.rest()  # no doorbell: maybe suppressed, look anyway
                return total
            total += n >> 2
            self._hot = True
            self.doorbells = (self.doorbells + (n >> 2)) & WRAP
            # A notification means "look at this vring": drain takes it
            # completely, so repeats of a vector within one batch are
            # served by a single call (bit k of seen: vector k < 30).
            seen = 0
            i = 0
            while i + 3 < n:
                v = rx[i] | rx[i + 1] << 8 | rx[i + 2] << 16 | rx[i + 3] << 24
                i += 4
                if v < 30:
                    if seen & (1 << v):
                        continue
                    seen |= 1 << v
                _route(self._routes, v)  # (read each time: a callback may detach a link)
            if n < len(rx):
                return total

    # -- liveness, threads, teardown -------------------------------------------

    def peer_alive(self):
        """True while the peer process holds its FIFO lock (see contract)."""
        if self._os.flock(self._in, LOCK_SH | LOCK_NB):
            self._os.flock(self._in, LOCK_UN)
            return False
        return True

    def start_doorbell_thread(self, period_ms=100):
        """Deliver doorbells from a thread of their own (where _thread
        exists); the caller's blocking calls then just sleep."""
        import _thread

        def run():
            try:
                while not self._closed:
                    if self.rest():
                        continue
                    if self._os.readable(self._poll, period_ms):
                        self.service()
            except (OSError, ValueError):
                if not self._closed:
                    raise  # a real failure, not the port closing under us

        self._thread = True
        _thread.start_new_thread(run, ())

    def close(self):
        """Detach, unmap and close; the master also removes FILE.ready."""
        if self._closed:
            return
        self._closed = True
        self.deinit()
        if self.creator:
            self._os.remove(self.path + ".ready")
        self._os.close(self._out)
        self._os.close(self._in)
        self.shm = None
        self._os.unmap(self._map)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
