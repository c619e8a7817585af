"""RP2040 mode (a): both cores run MicroPython, one shared heap; core 1 is
the single extra _thread (MicroPython 1.25 ports/rp2/mpthreadport.c). See
rl_rp2040/__init__.py for the overview.

    dual = DualCore(Config(buffer_count=4))
    dual.start_core1(core1_main)        # core1_main(side) runs on core 1,
    m = dual.core0.master()             #   e.g. side.remote() + endpoints
    ...                                 # then core 1 serves doorbells
    dual.deinit()                       # stops core 1's loop, cleanly

Shared memory is a bytearray on the shared heap, aligned to VRING_ALIGN
inside a padded allocation (MicroPython's GC never moves blocks, and
they are 16-byte aligned: py/mpconfig.h MICROPY_BYTES_PER_GC_BLOCK). Both
cores see the same addresses and the Cortex-M0+ has no caches, so descriptors hold real addresses as on any MCU.

Doorbell: NOT the SIO FIFO. MicroPython's multicore-lockout handler owns
it on core 0 from boot (and on core 1 once _thread runs), discarding any
foreign word, and flash writes use it (pico-sdk multicore.c
multicore_lockout_handler; MicroPython ports/rp2/rp2_flash.c). Instead:

  * Counters. For each direction a word per vector id in one shared
    array('I'); only the sending core writes its half (increment, wrapping
    at 2**30 so values stay small ints), the receiving core keeps a private
    copy of what it has delivered and calls link.isr(v) when the two differ.
    One writer per word means no lost or torn notification without atomics
    or locks: an aligned word store is single-copy atomic and the
    Cortex-M0+ has no data cache, so only compiler/VM ordering matters
    (ARMv6-M: aligned word accesses are single-copy atomic). The ring writes happen before the increment in
    program order (RPMsgLite notifies after publishing). A counter only
    moves forward, so a notification sent before the receiver's link is
    attached is delivered once it is: the master's single init kick
    cannot be lost (docs/protocol.md#link-up).
  * Waking core 1: a _thread lock used as a binary semaphore ("message
    available": on rp2 a pico mutex_t whose blocking wait uses WFE and
    whose release does SEV: ports/rp2/mpthreadport.h). Core 1's service
    loop blocks in lock.acquire(); core 0 releases it after incrementing.
    Held means "no wake pending". Only core 0 releases and only core 1
    acquires, so "release if locked" never releases an unlocked lock
    (which raises RuntimeError). The check and the release run in one
    viper function, so a scheduled callback on core 0 (which may notify
    too) cannot slip in between (the scheduler runs only between bytecodes,
    never inside native code: docs/reference/speed_python.rst). MicroPython's acquire() ignores a timeout (py/modthread.c
    "TODO support timeout arg"), which is why only the loop blocks on it
    and wait(ms) polls the counters instead.
  * Waking core 0 (optional): core 1 writes 1 << k to a PIO block's
    IRQ_FORCE; rp2.PIO(n).irq(handler, trigger=IRQ_SMk) set up on core 0
    makes MicroPython acknowledge the flag and *schedule* the handler,
    which runs service() on core 0 in scheduler context (ports/rp2/rp2_pio.c
    pio_irq0; scheduled callbacks only run on core 0 without a GIL since
    1.24: py/scheduler.c). Without it core 0 receives when it polls: wait(ms) (which
    RPMsgLite calls while blocked) or service() from the application loop
    (e.g. an asyncio task). The counters stay the source of truth either
    way, so a lost or merged PIO IRQ (full scheduler queue) only delays.
    Core 1 gets no scheduled callbacks at all: it is a plain thread.

No GIL on rp2 (ports/rp2/mpconfigport.h MICROPY_PY_THREAD_GIL = 0): the two cores run Python truly in parallel. Every
attribute either core updates is created before core 1 starts, so across
cores only existing slots are rewritten (no dict or list ever resizes
under the other core), and each counter word has one writer.

Flash writes and soft reset: nothing here touches the SIO FIFO or the
NVIC, claims a spinlock of its own or disables interrupts (the _thread
lock uses one of the SDK's striped spinlocks internally, for a few
instructions: pico-sdk pico_sync mutex.c), so MicroPython's lockout for flash writes works
unchanged, and core 1 waits in WFE where it can take the lockout IRQ. A
soft reset resets core 1 in hardware (mpthreadport.c mp_thread_deinit ->
multicore_reset_core1), which ends the
loop; stop it first anyway (deinit(), e.g. in a try/finally), because
tools hang while a core-1 thread runs (MicroPython issue 13476) and a
reset inside the mutex code could leave that spinlock claimed (inference). The loop thread returns when stopped, so
_thread can start core 1 again afterwards ("core1 in use" is cleared on
return: mpthreadport.c core1_entry_wrapper).
"""

from micropython import const
from array import array
import micropython

from rpmsg_lite import env
from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.vring import route as _route
from rpmsg_lite.env import ticks_ms, ticks_diff
from . import hw

_IDLE = const(0)
_RUNNING = const(1)
_STOPPED = const(2)
_WRAP_VIPER = const(0x3FFFFFFF)  # port.WRAP as a literal: viper needs a compile-time int


@micropython.viper
def _ring(bells, index: int, wake):
    # Single writer: read, increment, store one aligned word. Then wake
    # core 1 if its lock is held (a held lock means no wake is pending).
    p = ptr32(bells)
    p[index] = (p[index] + 1) & _WRAP_VIPER
    if wake:
        if wake.locked():
            wake.release()


class PioDoorbell:
    """Core 1 -> core 0 interrupt through PIO IRQ flag ``flag`` (0..3) of
    PIO block ``index`` (0 or 1). The block's irq() becomes ours: no
    StateMachine.irq or PIO.irq of its own may be used on that block, and
    no PIO program may use flag ``flag``.

    pio   an rp2.PIO-like object (irq(handler, trigger, hard)); default
          rp2.PIO(index), imported only here.
    """

    def __init__(self, index=1, flag=3, pio=None, regs=None):
        if index not in (0, 1):
            raise ValueError("PIO block must be 0 or 1, got %r" % (index,))
        if not isinstance(flag, int) or not 0 <= flag < hw.PIO_SYSTEM_FLAGS:
            raise ValueError("PIO IRQ flag must be 0..3 (only those reach the NVIC), got %r" % (flag,))
        if pio is None:
            import rp2

            pio = rp2.PIO(index)
        if regs is None:
            from rpmsg_lite import regs as rl_regs

            regs = rl_regs.HW
        self.index = index
        self.flag = flag
        self._pio = pio
        self._regs = regs
        self.force_addr = hw.PIO_BASES[index] + hw.PIO_IRQ_FORCE
        self.mask = 1 << flag

    def listen(self, handler):
        """On core 0: enable the (soft, scheduled) IRQ for our flag."""
        # The trigger is rp2.PIO.IRQ_SMk, the INTE bit of flag k: 0x100 << k
        # (MicroPython ports/rp2/rp2_pio.c, rp2_pio_locals_dict_table).
        self._pio.irq(handler, (0x100, 0x200, 0x400, 0x800)[self.flag], False)

    def ring(self):
        """On core 1: raise the flag (core 0's MicroPython acknowledges it)."""
        self._regs.write(self.force_addr, self.mask)

    def close(self):
        self._pio.irq(None)


class CoreSide(Port):
    """The port of one core (a ``rpmsg_lite.port.Port``): ``dual.core0``
    and ``dual.core1``; each is used by the code running on that core."""

    def __init__(self, dual, core, idle):
        Port.__init__(self, dual.config)
        n = 2 * dual.link_count
        self.dual = dual
        self.core = core
        self._bells = dual._bells
        self._out = core * n  # my half of the counter array (only I write it)
        self._in = (1 - core) * n  # the peer's half
        self._slots = n
        self._seen = array("I", [0] * n)  # what I have delivered of the peer's counters
        self._wake = dual._wake if core == 0 else None
        self._pio = dual._pio if core == 1 else None
        if idle is not None:
            self.idle = idle
        self._depth = 0  # service() nesting on this core
        self._again = False  # a PIO doorbell came in while service() ran
        self.notified = 0
        self.delivered = 0
        self.pio_calls = 0

    # -- the platform contract --------------------------------------------------

    def notify(self, vector_id):
        if not 0 <= vector_id < self._slots:
            raise ValueError("vector %r is outside this DualCore's %d links" % (vector_id, self.dual.link_count))
        _ring(self._bells, self._out + vector_id, self._wake)
        self.notified = (self.notified + 1) & WRAP
        if self._pio is not None:
            self._pio.ring()

    def attach(self, link):
        self.dual.region(link.link_id)  # raises for an id without a region
        if self.dual.closed:
            raise ValueError("the DualCore was deinitialised")
        Port.attach(self, link)

    def region(self, link_id):
        return self.dual.region(link_id)

    def service(self):
        """Deliver every notification the other core has sent, without
        waiting. Returns how many vectors were delivered. Allocation-free."""
        self._depth += 1
        try:
            done = 0
            while True:
                self._again = False
                done += self._scan()
                if not self._again:
                    return done
        finally:
            self._depth -= 1

    def _scan(self):
        bells = self._bells
        seen = self._seen
        links = self.links
        base = self._in
        done = 0
        for v in range(self._slots):
            count = bells[base + v]
            if count != seen[v]:
                link = links.get(v >> 1)
                if link is not None:  # otherwise kept until it is attached
                    seen[v] = count
                    self.delivered = (self.delivered + 1) & WRAP
                    _route(self._routes, v)  # (its link: drain() straight away)
                    done += 1
        return done

    def _on_pio(self, pio):
        # Scheduled by MicroPython on core 0 after the PIO IRQ. If it fell
        # between two bytecodes of a service() already running on this
        # core, let that one rescan instead of re-entering callbacks.
        self.pio_calls = (self.pio_calls + 1) & WRAP
        if self._depth:
            self._again = True
        else:
            self.service()

    # -- conveniences -----------------------------------------------------------------



    def attached(self):
        """The links attached to this side."""
        return list(self.links.values())

    def run(self, main=None):
        """Core 1's service loop (the body of start_core1's thread): run
        main(self) first, then deliver doorbells as they come, asleep in the
        wake lock in between, until dual.stop_core1()."""
        dual = self.dual
        if self.core != 1:
            raise RuntimeError("run() is core 1's loop")
        dual.core1_state = _RUNNING
        try:
            if main is not None:
                main(self)
            wake = dual._wake
            while not dual._stopping:
                wake.acquire()  # WFE until core 0 notifies or stops us
                if dual._stopping:
                    break
                self.service()
        except Exception as e:
            dual.core1_error = e
            raise
        finally:
            dual.core1_state = _STOPPED

    def stats(self):
        return {"notified": self.notified, "delivered": self.delivered, "pio_calls": self.pio_calls}

    def __repr__(self):
        return "<rl_rp2040 core %d side>" % self.core


class DualCore:
    """Both RP2040 cores running MicroPython: shared regions, doorbell
    counters and the core-1 loop. ``core0`` / ``core1`` are the two
    platform objects.

    config  rpmsg_lite Config for every link (default Config(); keep
            pa_base None: both cores use real addresses).
    links   number of links (each gets its own region, ids 0..links-1).
    pio     a PioDoorbell for core 1 -> core 0 interrupts, or None (core 0
            then receives by polling: wait()/service()).
    lock    the wake lock (default _thread.allocate_lock()).
    idle    called between polls in wait() (default sleep_ms(0),
            which also runs scheduled callbacks on core 0).
    """

    def __init__(self, config=None, links=1, pio=None, lock=None, idle=None):
        if config is None:
            from rpmsg_lite.config import Config

            config = Config()
        if not isinstance(links, int) or not 1 <= links <= 0x8000:
            raise ValueError("links must be 1..32768, got %r" % (links,))
        if lock is None:
            import _thread

            lock = _thread.allocate_lock()
        self.config = config
        self.link_count = links
        self._regions = []
        for _ in range(links):
            self._regions.append(hw.pinned_buffer(config.shm_size, max(config.vring_align, 4)))
        self.shm = self._regions[0][1]
        self._bells = array("I", [0] * (4 * links))
        self._wake = lock
        if not lock.locked():
            lock.acquire()  # held = no wake pending
        self._pio = pio
        self._stopping = False
        self.closed = False
        self.core1_state = _IDLE
        self.core1_error = None
        self.core0 = CoreSide(self, 0, idle)
        self.core1 = CoreSide(self, 1, idle)
        if pio is not None:
            pio.listen(self.core0._on_pio)  # a bound method, made once

    def region(self, link_id):
        """The aligned shared memory of link ``link_id``."""
        if not isinstance(link_id, int) or not 0 <= link_id < self.link_count:
            raise ValueError("link id %r: this DualCore has links 0..%d" % (link_id, self.link_count - 1))
        return self._regions[link_id][1]

    # -- core 1 --------------------------------------------------------------------------

    def start_core1(self, main=None, stack_size=None, thread=None):
        """Start core 1's loop in a _thread (from core 0): main(core1) runs
        there first, then doorbells are served until stop_core1().
        stack_size goes to _thread.stack_size() (it stays set for later
        threads; MicroPython's default for core 1 is 4 KiB: mpthreadport.c).
        ``thread`` is the _thread module (tests may pass their own)."""
        if self.closed:
            raise ValueError("the DualCore was deinitialised")
        if self.core1_state == _RUNNING:
            raise RuntimeError("core 1's loop is already running")
        if thread is None:
            import _thread as thread
        if stack_size is not None:
            thread.stack_size(stack_size)
        self._stopping = False
        self.core1_error = None
        self.core1_state = _RUNNING  # set before the thread runs: stop_core1 may follow at once
        try:
            thread.start_new_thread(self.core1.run, (main,))
        except BaseException:
            self.core1_state = _IDLE
            raise

    def core1_running(self):
        return self.core1_state == _RUNNING

    def stop_core1(self, timeout_ms=1000):
        """Ask core 1's loop to return and wait up to timeout_ms for it.
        True once it has stopped (or never ran)."""
        self._stopping = True
        _wake_core1(self._wake)
        start = ticks_ms()
        while self.core1_state == _RUNNING:
            if ticks_diff(ticks_ms(), start) >= timeout_ms:
                return False
            env.sleep_ms(1)
        return True

    # -- teardown ----------------------------------------------------------------------------

    def deinit(self, timeout_ms=1000):
        """From core 0: stop core 1's loop, release the PIO IRQ and deinit
        every link on both sides. Returns False if core 1 did not stop in
        time (its links are then deinitialised anyway)."""
        if self.closed:
            return True
        stopped = self.stop_core1(timeout_ms)
        self.closed = True
        if self._pio is not None:
            self._pio.close()
        for side in (self.core0, self.core1):
            for link in side.attached():
                link.deinit()
        return stopped


    def stats(self):
        return {"core0": self.core0.stats(), "core1": self.core1.stats(), "core1_state": self.core1_state}


@micropython.viper
def _wake_core1(wake):
    # The check-and-release of _ring, without a counter.
    if wake.locked():
        wake.release()
