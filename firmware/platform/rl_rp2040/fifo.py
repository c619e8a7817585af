"""RP2040 mode (b): the SIO FIFO mailbox. MicroPython runs on core 0 only;
core 1 runs other firmware (e.g. C RPMsg-Lite) that this module can start
through the boot ROM. See rl_rp2040.py for the overview; "pf X" is
platforms.md section X.

Doorbell word (one 32-bit FIFO word per notification, both directions):
    the RPMsg-Lite vector id (link_id << 1) | vring   (rpmsg_lite_spec 6.5)
so a C peer needs three lines (pico-sdk names):
    platform_notify(v):  if (multicore_fifo_wready()) sio_hw->fifo_wr = v;
    SIO_IRQ_PROC1 ISR:   while (multicore_fifo_rvalid()) env_isr(sio_hw->fifo_rd);
                         multicore_fifo_clear_irq();
Dropping a kick on a full FIFO (first line) is safe with consumed-buffer
notifications off: after the init kick each side only ever sends one
vector (the remote 0, the master 1), so 8 unread copies cover it.
Words above 0xFFFF are not vector ids (link ids stop at 0x7FFF, spec 6.5)
and are counted as ``foreign``: e.g. MicroPython's lockout magic.

Why the FIFO IRQ is masked: MicroPython installs the pico-sdk lockout
handler on core 0's SIO FIFO IRQ at boot; it pops and throws away every
word that is not LOCKOUT_MAGIC_START (pf 2.2 items 1, 3). So while this
mailbox lives, core 0's SIO IRQ (NVIC bit 15) stays disabled through ICER,
and deinit() restores it (ISER) if it was enabled. Python cannot attach a
handler to that IRQ, so receiving is polling FIFO_ST.VLD in service() and
wait(ms).

What that costs (pf 2.2 "Who uses the FIFO", 2.3, 7.2):
  * _thread cannot be used: starting a thread resets core 1 (killing the
    firmware) and runs the launch handshake on the same FIFO; soft reset
    resets core 1 too (mp_thread_deinit -> multicore_reset_core1). And a
    Python thread on core 1 could not lock core 0 out for a flash write:
    its LOCKOUT_MAGIC_START would land here, be counted as foreign and
    never echoed, hanging that write (pf 2.2 "Polling can hang").
  * Flash writes on core 0 (filesystem, rp2.Flash) do not stop core 1,
    because non-MicroPython code never registers as a lockout victim
    (pf 2.2 last bullet). Core 1's code and data must therefore live in
    RAM only: anything it runs from XIP flash can crash during a write.
  * The firmware must not lock core 0 out itself (e.g. pico-sdk flash
    writes from core 1): core 0 would never answer.
  * Call deinit() before a soft reset so the IRQ is enabled again (a
    later _thread's flash-write lockout needs core 0's handler).

notify() never waits (RPMsg-Lite issue #7, spec pitfall 17): with FIFO_ST
RDY clear (8 words unread) the vector goes into a backlog bitmask that is
written out (lowest vector first) by the next notify(), service() or
wait() that finds room in the FIFO. Coalescing loses nothing: a
notification only means "look at this vring", and the receiver drains it
completely. Only vectors 30 and up (link ids >= 15) cannot be backlogged:
they are counted as ``dropped``.

Races (pf 2.1 bit semantics): only this core writes its TX FIFO, so RDY
read as 1 stays 1 until our write (no WOF from us); only this core reads
its RX FIFO, so VLD read as 1 stays 1 until our read (no ROE from us).
Sticky WOF/ROE left by anyone else are counted and cleared (write to
clear) in service().
"""

from micropython import const

from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.env import check_timeout, expired, ticks_ms
from . import hw
from .hw import FIFO_VLD, FIFO_RDY, FIFO_WOF, FIFO_ROE, FIFO_STICKY, FIFO_DEPTH

_MAX_VECTOR = const(0xFFFF)  # (0x7FFF << 1) | 1
_BITMASK_VECTORS = const(30)  # vectors kept in small-int bitmasks (backlog, pending)
_SERVICE_ROUNDS = const(32)  # 4 x FIFO_DEPTH: bounded even if the peer keeps pushing
_LAUNCH_WORDS = const(6)


# -- core-1 reset and launch (pf 2.1) -------------------------------------------------


def _wait(regs, addr, mask, start, timeout_ms, idle):
    while not regs.test(addr, mask):
        if expired(start, timeout_ms):
            return False
        if idle is not None:
            idle()
    return True


def _drain(regs):
    # Pop what is in our RX FIFO (at most its depth, plus what the peer
    # pushes meanwhile: bounded).
    n = 0
    while n < 2 * FIFO_DEPTH and regs.test(hw.SIO_FIFO_ST, FIFO_VLD):
        regs.read(hw.SIO_FIFO_RD)
        n += 1
    return n


def reset_core1(regs, timeout_ms=100):
    """Hold core 1 off through PSM FRCE_OFF, then let it go: it restarts in
    the boot ROM, which pushes a 0 to core 0 (pf 2.1, 2.2 item 5). Uses the
    SET/CLR aliases and reads the bit back before releasing it."""
    regs.write(hw.PSM_FRCE_OFF + hw.ALIAS_SET, hw.PSM_PROC1)
    if not _wait(regs, hw.PSM_FRCE_OFF, hw.PSM_PROC1, ticks_ms(), timeout_ms, None):
        raise OSError("PSM FRCE_OFF.PROC1 did not read back as set within %d ms" % timeout_ms)
    regs.write(hw.PSM_FRCE_OFF + hw.ALIAS_CLR, hw.PSM_PROC1)


def check_launch_words(entry, sp, vtor):
    """Refuse values core 1 could not start from (raises ValueError)."""
    for name, value in (("entry", entry), ("sp", sp), ("vtor", vtor)):
        # 0 cannot be sent: it is the handshake's resynchronisation word, and
        # the boot ROM goes back to the start on a 0 at any step (pf 2.1;
        # pico-bootrom-rp2040 bootrom_rt0.S, core 1 launch code).
        if not isinstance(value, int) or not 0 < value <= 0xFFFFFFFF:
            raise ValueError("%s must be a non-zero 32-bit address, got %r" % (name, value))
    # The next three are ARMv6-M facts, not in the project docs (checked
    # against the pico-sdk sources named, still to verify on a board):
    if not entry & 1:
        # The boot ROM enters with BLX (bootrom_rt0.S); ARMv6-M only has
        # Thumb state, so bit 0 must be set (a C function pointer has it).
        raise ValueError("entry %#x is not a Thumb address (bit 0 clear)" % entry)
    if sp & 3:
        # The boot ROM loads it into MSP, whose bits 1:0 are always zero.
        raise ValueError("sp %#x is not word aligned" % sp)
    if vtor & 0xFF:
        # VTOR.TBLOFF is bits 31:8 on the Cortex-M0+ (SDK m0plus.h).
        raise ValueError("vtor %#x is not 256-byte aligned" % vtor)


def launch_core1(regs, entry, sp, vtor, timeout_ms=1000, sev=None, idle=None):
    """Reset core 1 and start it at ``entry`` with stack ``sp`` and vector
    table ``vtor`` through the boot ROM's FIFO handshake (pf 2.1):
    0, 0, 1, vtor, sp, entry, each echoed; on a wrong echo start again with
    a drain, SEV and 0. The caller's SIO IRQ must be masked (FifoMailbox
    does it), or MicroPython's lockout handler eats the echoes. Returns the
    number of attempts; raises OSError if core 1 does not answer within
    timeout_ms."""
    check_launch_words(entry, sp, vtor)
    check_timeout(timeout_ms)
    if sev is None:
        from .sev import sev  # inline Thumb: only on the board
    start = ticks_ms()
    reset_core1(regs, timeout_ms)
    # The boot ROM's greeting 0 (the SDK pops it the same way); a missing
    # one means core 1 did not come out of reset.
    if not _wait(regs, hw.SIO_FIFO_ST, FIFO_VLD, start, timeout_ms, idle):
        raise OSError("core 1 sent nothing after its reset within %d ms" % timeout_ms)
    regs.read(hw.SIO_FIFO_RD)
    words = (0, 0, 1, vtor, sp, entry)
    attempts = 1
    seq = 0
    while seq < _LAUNCH_WORDS:
        if expired(start, timeout_ms):
            break  # (a peer echoing garbage at once would never time out a _wait)
        cmd = words[seq]
        if cmd == 0:
            _drain(regs)
            sev()  # core 1 sleeps in WFE (datasheet 2.8.1)
        if not _wait(regs, hw.SIO_FIFO_ST, FIFO_RDY, start, timeout_ms, idle):
            break
        regs.write(hw.SIO_FIFO_WR, cmd)
        if not _wait(regs, hw.SIO_FIFO_ST, FIFO_VLD, start, timeout_ms, idle):
            break
        if regs.read(hw.SIO_FIFO_RD) == cmd:
            seq += 1
        else:
            seq = 0
            attempts += 1
    if seq < _LAUNCH_WORDS:
        raise OSError(
            "core 1 did not complete the boot ROM handshake within %d ms (%d attempts, at word %d)"
            % (timeout_ms, attempts, seq)
        )
    return attempts


# -- the mailbox ---------------------------------------------------------------------


class FifoMailbox(Port):
    """The port of the MicroPython core (core 0) when core 1 runs other
    firmware: a ``rpmsg_lite.port.Port`` over the SIO FIFOs.

    config  rpmsg_lite Config of the links (default Config()).
    regs    register accessor (default rl_regs.HW).
    idle    called between polls while waiting (default sleep_ms(0));
            tests step the simulated core 1 here.
    sev     SEV for the launch handshake (default: inline Thumb code).

    Creating it masks this core's SIO FIFO IRQ; deinit() restores it.
    """

    def __init__(self, config=None, regs=None, idle=None, sev=None):
        if regs is None and hw.is_rp2350():
            # Its FIFO IRQ is 25 on both cores, not 15/16, and its PSM is
            # elsewhere (pf 2.1): masking bit 15 would leave the lockout
            # handler on. rl_rp2040_bell uses the RP2350's doorbells.
            raise NotImplementedError("rl_rp2040_fifo knows the RP2040 only; on an RP2350 see rl_rp2040_bell")
        config, regs = hw.port_defaults(config, regs)
        Port.__init__(self, config)
        self._regs = regs
        if idle is not None:
            self.idle = idle
        self._sev = sev
        self.core = regs.field(hw.SIO_CPUID, 0, 1)
        # Hot-path addresses as attributes: long ints on 32-bit ports, made once.
        self._st = hw.SIO_FIFO_ST
        self._wr = hw.SIO_FIFO_WR
        self._rd = hw.SIO_FIFO_RD
        self._irq_bit = 1 << (hw.SIO_IRQ_PROC0 + self.core)
        self._backlog = 0  # vectors waiting for room in the TX FIFO (bit v)
        self._pending = 0  # vectors that arrived before their link was attached (bit v)
        self._closed = False
        # Counters (stats()); the hot-path ones wrap at 2**30.
        self.notified = 0  # notify() calls
        self.deferred = 0  # notifications that found the TX FIFO full (backlogged)
        self.dropped = 0  # vectors >= 30 that found it full (lost)
        self.received = 0  # words read from the RX FIFO
        self.unrouted = 0  # vectors with no attached link (kept in _pending if < 30)
        self.foreign = 0  # words that are not vector ids
        self.last_foreign = -1  # the last of them (low 30 bits)
        self.wof = 0  # sticky WOF found set (and cleared)
        self.roe = 0  # sticky ROE found set (and cleared)
        self.launch_attempts = 0
        # Mask before anything can arrive for us (pf 2.2: the lockout handler
        # would pop our doorbells); remember whether MicroPython had it on.
        self.irq_was_enabled = bool(regs.test(hw.NVIC_ISER, self._irq_bit))
        regs.write(hw.NVIC_ICER, self._irq_bit)
        self._clear_sticky()

    # -- the platform contract --------------------------------------------------

    def notify(self, vector_id):
        """Push vector_id to core 1 without waiting (backlogged if full)."""
        regs = self._regs
        self.notified = (self.notified + 1) & WRAP
        if self._backlog:
            self._flush()
        if not self._backlog and regs.test(self._st, FIFO_RDY):
            regs.write(self._wr, vector_id)
        elif vector_id < _BITMASK_VECTORS:
            self._backlog |= 1 << vector_id
            self.deferred = (self.deferred + 1) & WRAP
        else:
            self.dropped = (self.dropped + 1) & WRAP

    def attach(self, link):
        if self._closed:
            raise ValueError("the mailbox was deinitialised")
        Port.attach(self, link)

    def service(self):
        """Deliver every doorbell waiting in the RX FIFO, write out the
        backlog, without waiting. Returns the number of notifications
        delivered. Allocation-free."""
        regs = self._regs
        st = self._st
        if regs.test(st, FIFO_STICKY):
            self._clear_sticky()
        done = 0
        rounds = _SERVICE_ROUNDS
        while rounds and regs.test(st, FIFO_VLD):
            rounds -= 1
            # The low 30 bits, so a stray large word cannot allocate a long
            # int (vector ids are 16 bits; the lockout magics stay > 0xFFFF).
            done += self._dispatch(regs.field(self._rd, 0, 30))
        if self._pending:
            done += self._deliver_pending()
        if self._backlog:
            self._flush()
        return done

    # -- internals ------------------------------------------------------------------

    def _dispatch(self, word):
        self.received = (self.received + 1) & WRAP
        if word > _MAX_VECTOR:
            self.foreign = (self.foreign + 1) & WRAP
            self.last_foreign = word
            return 0
        link = self.links.get(word >> 1)
        if link is None:
            # Kept for a link attached later (a remote created after the
            # master's init kick still comes up: spec 6.3 race).
            self.unrouted = (self.unrouted + 1) & WRAP
            if word < _BITMASK_VECTORS:
                self._pending |= 1 << word
            return 0
        link.isr(word)
        return 1

    def _deliver_pending(self):
        done = 0
        v = 0
        bits = self._pending
        while bits:
            if bits & 1:
                link = self.links.get(v >> 1)
                if link is not None:
                    self._pending &= ~(1 << v)
                    link.isr(v)
                    done += 1
            bits >>= 1
            v += 1
        return done

    def _flush(self):
        regs = self._regs
        v = 0
        bits = self._backlog
        while bits:
            if bits & 1:
                if not regs.test(self._st, FIFO_RDY):
                    return
                regs.write(self._wr, v)
                self._backlog &= ~(1 << v)
            bits >>= 1
            v += 1

    def _clear_sticky(self):
        regs = self._regs
        flags = regs.field(self._st, 0, 4) & FIFO_STICKY
        if flags:
            if flags & FIFO_WOF:
                self.wof = (self.wof + 1) & WRAP
            if flags & FIFO_ROE:
                self.roe = (self.roe + 1) & WRAP
            regs.write(self._st, flags)  # write to clear (pf 2.1)

    # -- core 1 ---------------------------------------------------------------------

    def launch_core1(self, entry, sp, vtor, timeout_ms=1000):
        """Reset core 1 and start it at ``entry`` (Thumb address, bit 0 set)
        with stack pointer ``sp`` and vector table ``vtor``, all in RAM that
        nothing else uses (flash writes do not stop core 1). Call it before
        creating links: the handshake shares the FIFO with the doorbells.
        Raises OSError if core 1 does not answer."""
        if self._closed:
            raise ValueError("the mailbox was deinitialised")
        if self.core != 0:
            raise RuntimeError("core 1 can only be launched from core 0")
        if self.links:
            raise RuntimeError("launch core 1 before creating links (the handshake uses the FIFO)")
        self._backlog = 0
        self._pending = 0
        self.launch_attempts = launch_core1(self._regs, entry, sp, vtor, timeout_ms, self._sev, self.idle)
        self._clear_sticky()
        return self.launch_attempts

    def post(self, word, timeout_ms=100):
        """Write one raw 32-bit word to core 1, waiting up to timeout_ms for
        room: start-up data for the firmware before any link exists (e.g.
        the shared-memory address). Returns False on timeout."""
        check_timeout(timeout_ms)
        if not 0 <= word <= 0xFFFFFFFF:
            raise ValueError("a FIFO word is 32 bits")
        if not _wait(self._regs, self._st, FIFO_RDY, ticks_ms(), timeout_ms, self.idle):
            return False
        self._regs.write(self._wr, word)
        return True

    # -- teardown and diagnostics -------------------------------------------------

    def deinit(self):
        """Deinit the attached links, drop what is left in the RX FIFO, clear
        the sticky flags and give the SIO IRQ back to MicroPython's lockout
        handler if it had it (ICPR, then ISER)."""
        if self._closed:
            return
        self._closed = True
        Port.deinit(self)
        regs = self._regs
        self.unrouted += _drain(regs)
        self._clear_sticky()
        if self.irq_was_enabled:
            regs.write(hw.NVIC_ICPR, self._irq_bit)
            regs.write(hw.NVIC_ISER, self._irq_bit)




    def stats(self):
        return {
            "notified": self.notified,
            "deferred": self.deferred,
            "backlog": self._backlog,
            "dropped": self.dropped,
            "received": self.received,
            "unrouted": self.unrouted,
            "pending": self._pending,
            "foreign": self.foreign,
            "last_foreign": self.last_foreign,
            "wof": self.wof,
            "roe": self.roe,
            "launch_attempts": self.launch_attempts,
            "irq_was_enabled": self.irq_was_enabled,
        }

    def __repr__(self):
        return "<FifoMailbox core %d %s>" % (self.core, "closed" if self._closed else "open")

