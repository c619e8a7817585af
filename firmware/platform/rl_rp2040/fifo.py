"""RP2040 mode (b): the SIO FIFO mailbox. MicroPython runs on core 0 only;
core 1 runs other firmware (e.g. C RPMsg-Lite) that this module starts
through the boot ROM. See the package docstring for the overview; sources
are cited as "SDK file Lnn" (pico-sdk 2.1.1, the version MicroPython 1.25
pins), "bootrom_rt0.S Lnn" (raspberrypi/pico-bootrom-rp2040) and "MP125
file Lnn" (MicroPython 1.25).

Doorbell word (one 32-bit FIFO word per notification, both directions):
    the RPMsg-Lite vector id (link_id << 1) | vring   (rpmsg_lite.c,
    RL_GET_VQ_ID; docs/protocol.md)
followed by SEV, so a C peer needs three lines (pico-sdk names):
    platform_notify(v):  if (multicore_fifo_wready()) { sio_hw->fifo_wr = v; __sev(); }
    SIO_IRQ_PROC1 ISR:   while (multicore_fifo_rvalid()) env_isr(sio_hw->fifo_rd);
                         multicore_fifo_clear_irq();
Every push here is followed by SEV, as the SDK's
multicore_fifo_push_blocking does (pico/multicore.h L189-192): code that
waits with WFE (the boot ROM, bootrom_rt0.S L381-386; any firmware using
multicore_fifo_pop_blocking) looks at its FIFO only after an event, so a
push without SEV can leave it asleep with a word waiting.
Dropping a kick on a full FIFO (first line) is safe with consumed-buffer
notifications off: after the init kick each side only ever sends one
vector (the remote 0, the master 1), so 8 unread copies cover it.
Words above 0xFFFF are not vector ids (link ids stop at 0x7FFF) and are
counted as ``foreign``: e.g. MicroPython's lockout magic.

Why the FIFO IRQ is masked: MicroPython installs the pico-sdk lockout
handler on core 0's SIO FIFO IRQ at boot (MP125 ports/rp2/mpthreadport.c
L70-80); it pops and throws away every word that is not
LOCKOUT_MAGIC_START (SDK multicore.c L213-226). So while this mailbox
lives, core 0's SIO IRQ (NVIC bit 15) stays disabled through ICER, and
deinit() restores it (ISER). Python cannot attach a handler to that IRQ,
so receiving is polling FIFO_ST.VLD in service() and wait(ms).

What that costs:
  * _thread cannot be used: starting a thread resets core 1 (killing the
    firmware) and runs the launch handshake on the same FIFO (MP125
    mpthreadport.c L149-150). launch_core1() refuses to reset a core 1
    that runs MicroPython's _thread: MicroPython would still count it as a
    lockout victim (MP125 rp2_flash.c L95-101), and every flash write would
    then push LOCKOUT_MAGIC_START to the new firmware and wait for ever
    (SDK multicore.c L260-285).
  * Flash writes on core 0 (filesystem, rp2.Flash) do not stop core 1,
    because non-MicroPython code never registers as a lockout victim. Core
    1's code and data must therefore live in RAM only: launch_image() puts
    it in a pinned heap buffer (see its docstring).
  * The firmware must not lock core 0 out itself (e.g. pico-sdk flash
    writes from core 1): core 0 would never answer.
  * A soft reset does not give the IRQ back: MicroPython enables it once
    per boot (MP125 ports/rp2/main.c L121, before the soft-reset loop at
    L183), and its reset of core 1 restores the IRQ's *current* state (SDK
    multicore.c L116-133). Call deinit() before a soft reset. If that was
    forgotten, recover_sio_irq() (run when rl_rp2040 is imported on the
    board, and by every new FifoMailbox) finds bit 15 masked with no
    mailbox open and enables it again.

notify() never waits (RPMsg-Lite issue #7): with FIFO_ST RDY clear (8
words unread) the vector goes into a backlog bitmask that is written out
(lowest vector first) by the next notify(), service() or wait() that finds
room in the FIFO. Coalescing loses nothing: a notification only means
"look at this vring", and the receiver drains it completely. Only vectors
30 and up (link ids >= 15) cannot be backlogged: they are counted as
``dropped``.

FIFO_ST flags (SDK hardware/regs/sio.h L257-297): only this core's
accesses raise its own WOF (its TX written when full) and ROE (its RX read
when empty), and this port checks RDY before each write and VLD before
each read, so it raises neither itself. Writing FIFO_ST clears BOTH flags
whatever the value (pico/multicore.h L273-276): the read that counts them
and the write that clears them run with this core's interrupts off, so a
flag raised by an interrupt handler in between is not wiped uncounted.
"""

from micropython import const

from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.vring import route as _route
from rpmsg_lite.env import check_timeout, expired, ticks_ms
from . import hw
from .hw import FIFO_VLD, FIFO_RDY, FIFO_WOF, FIFO_ROE, FIFO_STICKY, FIFO_DEPTH

_MAX_VECTOR = const(0xFFFF)  # (0x7FFF << 1) | 1
_BITMASK_VECTORS = const(30)  # vectors kept in small-int bitmasks (backlog, pending)
_SERVICE_ROUNDS = const(32)  # 4 x FIFO_DEPTH: bounded even if the peer keeps pushing
_LAUNCH_WORDS = const(6)
_PROBE_WORD = const(0x5EA1)  # any word but 0, 1 and the magics
_VTOR_ALIGN = const(256)  # VTOR.TBLOFF is bits 31:8 on the Cortex-M0+ (SDK m0plus.h)

# The mailbox open in this interpreter session (a soft reset starts a new
# session with this module imported afresh: None again).
_open = None


def _open_on(regs):
    # The open mailbox on these registers (tests give each model chip its own).
    if _open is not None and _open._regs is regs and not _open._closed:
        return _open
    return None


def _no_inline_asm():
    raise OSError("SEV needs MicroPython's inline Thumb assembler (rl_rp2040.sev): run this on the board")


def _default_sev():
    try:
        from .sev import sev  # inline Thumb: only where it compiles (the board)

        return sev
    except (ImportError, SyntaxError):
        return _no_inline_asm


def _nop_irq():
    return 0


def _nop_restore(state):
    pass


def _default_irq():
    """(disable, enable) of this core's interrupts: machine.disable_irq /
    enable_irq where they exist, else no-ops (the unix port)."""
    import machine

    off = getattr(machine, "disable_irq", None)
    on = getattr(machine, "enable_irq", None)
    if off is None or on is None:
        return _nop_irq, _nop_restore
    return off, on


# -- core-1 reset and launch -----------------------------------------------------------


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


def _push(regs, word, sev):
    # multicore_fifo_push_blocking: the write, then SEV (pico/multicore.h
    # L189-192). The caller has seen RDY.
    regs.write(hw.SIO_FIFO_WR, word)
    sev()


def _exchange(regs, word, sev, wait_ms, idle):
    """Push ``word`` (waiting for room), SEV, and return the first word that
    comes back within wait_ms, or -1."""
    start = ticks_ms()
    if not _wait(regs, hw.SIO_FIFO_ST, FIFO_RDY, start, wait_ms, idle):
        return -1
    _push(regs, word, sev)
    if not _wait(regs, hw.SIO_FIFO_ST, FIFO_VLD, start, wait_ms, idle):
        return -1
    return regs.read(hw.SIO_FIFO_RD)


def core1_runs_micropython(regs, sev, idle=None, wait_ms=20):
    """True if core 1 answers like MicroPython's multicore-lockout victim
    (a running _thread): it echoes LOCKOUT_MAGIC_START, then swallows
    every other word until LOCKOUT_MAGIC_END, which it echoes too (SDK
    multicore.c L213-226). That is what a flash write does to it, so the
    probe is harmless; core 1 resumes after END. The boot ROM answers START
    with 0 (it restarts its handshake: bootrom_rt0.S L347-351), and code
    that simply echoes also echoes the probe word. The caller's FIFO IRQ
    must be masked; RX is drained first."""
    _drain(regs)
    if _exchange(regs, hw.LOCKOUT_MAGIC_START, sev, wait_ms, idle) != hw.LOCKOUT_MAGIC_START:
        _drain(regs)
        return False
    # A victim now spins with its interrupts off until END, dropping the rest.
    swallowed = _exchange(regs, _PROBE_WORD, sev, wait_ms, idle) == -1
    end = _exchange(regs, hw.LOCKOUT_MAGIC_END, sev, wait_ms, idle)
    _drain(regs)
    return swallowed and end == hw.LOCKOUT_MAGIC_END


def reset_core1(regs, timeout_ms=100):
    """Hold core 1 off through PSM FRCE_OFF, then let it go: it restarts in
    the boot ROM, which drains its FIFO and pushes a 0 to core 0 (SDK
    multicore.c L101-125; bootrom_rt0.S L333-348). Uses the SET/CLR
    aliases and reads the bit back before releasing it, as the SDK does."""
    regs.write(hw.PSM_FRCE_OFF + hw.ALIAS_SET, hw.PSM_PROC1)
    if not _wait(regs, hw.PSM_FRCE_OFF, hw.PSM_PROC1, ticks_ms(), timeout_ms, None):
        raise OSError("PSM FRCE_OFF.PROC1 did not read back as set within %d ms" % timeout_ms)
    regs.write(hw.PSM_FRCE_OFF + hw.ALIAS_CLR, hw.PSM_PROC1)


def check_launch_words(entry, sp, vtor):
    """Refuse values core 1 could not start from (raises ValueError)."""
    for name, value in (("entry", entry), ("sp", sp), ("vtor", vtor)):
        # 0 cannot be sent: it is the handshake's resynchronisation word, and
        # the boot ROM goes back to the start on a 0 at any step
        # (bootrom_rt0.S L381-390, receive_and_check_zero).
        if not isinstance(value, int) or not 0 < value <= 0xFFFFFFFF:
            raise ValueError("%s must be a non-zero 32-bit address, got %r" % (name, value))
    if not entry & 1:
        # The boot ROM enters with BLX (bootrom_rt0.S L368); ARMv6-M only has
        # Thumb state, so bit 0 must be set (a C function pointer has it).
        raise ValueError("entry %#x is not a Thumb address (bit 0 clear)" % entry)
    if sp & 3:
        # The boot ROM loads it into MSP (bootrom_rt0.S L358), whose bits 1:0 are zero.
        raise ValueError("sp %#x is not word aligned" % sp)
    if vtor & (_VTOR_ALIGN - 1):
        raise ValueError("vtor %#x is not 256-byte aligned" % vtor)


def launch_core1(regs, entry, sp, vtor, timeout_ms=1000, sev=None, idle=None, force=False):
    """Reset core 1 and start it at ``entry`` with stack ``sp`` and vector
    table ``vtor`` through the boot ROM's FIFO handshake (SDK multicore.c
    L171-203): 0, 0, 1, vtor, sp, entry, each pushed with SEV and echoed;
    on a wrong echo start again with a drain, SEV and 0. The caller's SIO
    IRQ must be masked (FifoMailbox does it), or MicroPython's lockout
    handler eats the echoes. Refuses (RuntimeError) while core 1 runs
    MicroPython's _thread (core1_runs_micropython), unless force. Returns
    the number of attempts; raises OSError if core 1 does not answer within
    timeout_ms."""
    check_launch_words(entry, sp, vtor)
    check_timeout(timeout_ms)
    if sev is None:
        sev = _default_sev()
    if not force and core1_runs_micropython(regs, sev, idle):
        raise RuntimeError(
            "core 1 runs MicroPython (_thread): it answers the multicore lockout. Resetting it under "
            "MicroPython would leave core 0's flash writes waiting for ever for a lockout echo from the "
            "new firmware (MP125 rp2_flash.c use_multicore_lockout). Stop the thread, soft-reset "
            "(Ctrl-D), then launch"
        )
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
            sev()  # core 1 may wait for FIFO room in WFE (SDK multicore.c L191-195)
        if not _wait(regs, hw.SIO_FIFO_ST, FIFO_RDY, start, timeout_ms, idle):
            break
        _push(regs, cmd, sev)
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


def recover_sio_irq(regs=None):
    """Give core 0's SIO FIFO IRQ back to MicroPython's lockout handler if
    a FifoMailbox of an earlier session left it masked (no deinit() before
    a soft reset): with no mailbox open in this session, NVIC bit 15 off
    can only mean that, since MicroPython enables it at boot. Drains the RX
    FIFO, clears FIFO_ST, clears the pending bit and enables the IRQ.
    Returns True if it did. Core 0 only; does nothing while a mailbox is
    open."""
    if regs is None:
        from rpmsg_lite import regs as rl_regs

        regs = rl_regs.HW
    if _open_on(regs) is not None or regs.field(hw.SIO_CPUID, 0, 1) != 0:
        return False
    bit = 1 << hw.SIO_IRQ_PROC0
    if regs.test(hw.NVIC_ISER, bit):
        return False
    _drain(regs)
    regs.write(hw.SIO_FIFO_ST, FIFO_STICKY)
    regs.write(hw.NVIC_ICPR, bit)
    regs.write(hw.NVIC_ISER, bit)
    return True


# -- core-1 images -----------------------------------------------------------------------


def relocate_image(image, base):
    """Check a core-1 image linked at address 0 and relocate it for
    ``base``: returns (vtor, sp, entry) and patches ``image`` (a writable
    buffer at ``base``) in place.

    Image format (what boards/rpi_pico/core1_echo builds): an ARMv6-M vector
    table at offset 0 whose words are offsets from the image start: word 0
    the initial stack pointer (inside the image, word aligned), word 1 the
    reset handler (Thumb bit set), words 2-15 the other handlers or 0
    (left as 0). The code itself must be position-independent (no absolute
    addresses of its own symbols), which the example's build checks."""
    n = len(image)
    if n < 64:
        raise ValueError("a core-1 image starts with a 16-word vector table (got %d bytes)" % n)
    if not 0 < base <= 0xFFFFFFFF - n:
        raise ValueError("%#x is not a 32-bit core-1 address" % base)
    if base & (_VTOR_ALIGN - 1):
        raise ValueError("a core-1 image must sit at a 256-byte aligned address (VTOR), not %#x" % base)
    words = []
    for i in range(16):
        words.append(image[4 * i] | image[4 * i + 1] << 8 | image[4 * i + 2] << 16 | image[4 * i + 3] << 24)
    sp, reset = words[0], words[1]
    if sp & 3 or not 0 < sp <= n:
        raise ValueError("word 0 (stack top %#x) is not a word-aligned offset inside the %d-byte image" % (sp, n))
    if not reset & 1 or not 64 <= reset - 1 < n:
        raise ValueError("word 1 (reset %#x) is not a Thumb offset past the vector table" % reset)
    for i in range(16):
        w = words[i]
        if w:
            if i and (not w & 1 or w - 1 >= n):
                raise ValueError("vector %d (%#x) is not a Thumb offset inside the image" % (i, w))
            w += base
            image[4 * i : 4 * i + 4] = bytes((w & 0xFF, (w >> 8) & 0xFF, (w >> 16) & 0xFF, w >> 24))
    return base, base + sp, base + reset


# -- the mailbox ---------------------------------------------------------------------


class FifoMailbox(Port):
    """The port of the MicroPython core (core 0) when core 1 runs other
    firmware: a ``rpmsg_lite.port.Port`` over the SIO FIFOs.

    config  rpmsg_lite Config of the links (default Config()).
    regs    register accessor (default rl_regs.HW).
    idle    called between polls while waiting (default sleep_ms(0));
            tests step the simulated core 1 here.
    sev     SEV after each FIFO write (default: inline Thumb code).
    irq     (disable_irq, enable_irq) of this core (default machine's).

    Creating it masks this core's SIO FIFO IRQ; deinit() restores it.
    One mailbox at a time.
    """

    def __init__(self, config=None, regs=None, idle=None, sev=None, irq=None):
        global _open
        if regs is None and hw.is_rp2350():
            # Its FIFO IRQ is 25 on both cores, not 15/16, and its PSM is
            # elsewhere (SDK rp2350 intctrl.h, addressmap.h): masking bit 15
            # would leave the lockout handler on. bell.BellMailbox uses the
            # RP2350's doorbells.
            raise NotImplementedError("rl_rp2040.FifoMailbox knows the RP2040 only; on an RP2350 see BellMailbox")
        config, regs = hw.port_defaults(config, regs)
        if _open_on(regs) is not None:
            raise RuntimeError("a FifoMailbox is already open (%r): deinit() it first" % (_open,))
        Port.__init__(self, config)
        self._regs = regs
        if idle is not None:
            self.idle = idle
        self._sev = sev if sev is not None else _default_sev()
        self._irq_off, self._irq_on = irq if irq is not None else _default_irq()
        self.core = regs.field(hw.SIO_CPUID, 0, 1)
        # Hot-path addresses as attributes: long ints on 32-bit ports, made once.
        self._st = hw.SIO_FIFO_ST
        self._wr = hw.SIO_FIFO_WR
        self._rd = hw.SIO_FIFO_RD
        self._irq_bit = 1 << (hw.SIO_IRQ_PROC0 + self.core)
        self._backlog = 0  # vectors waiting for room in the TX FIFO (bit v)
        self._pending = 0  # vectors that arrived before their link was attached (bit v)
        self._closed = False
        self.image = None  # the pinned buffer core 1 runs from (launch_image / launch_core1 ram=)
        self._image_raw = None
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
        # An earlier session's mailbox may have left the IRQ masked over a
        # soft reset: give it back first, so irq_was_enabled is the truth.
        self.recovered = recover_sio_irq(regs)
        # Mask before anything can arrive for us (the lockout handler would
        # pop our doorbells); remember whether MicroPython had it on.
        self.irq_was_enabled = bool(regs.test(hw.NVIC_ISER, self._irq_bit))
        regs.write(hw.NVIC_ICER, self._irq_bit)
        _open = self
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
            self._sev()
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
            # master's init kick still comes up).
            self.unrouted = (self.unrouted + 1) & WRAP
            if word < _BITMASK_VECTORS:
                self._pending |= 1 << word
            return 0
        _route(self._routes, word)  # (its link: drain() straight away)
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
                    _route(self._routes, v)
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
                self._sev()
                self._backlog &= ~(1 << v)
            bits >>= 1
            v += 1

    def _clear_sticky(self):
        # Read and clear with interrupts off: the write clears WOF and ROE
        # both (pico/multicore.h L273-276), so nothing may raise one between.
        regs = self._regs
        state = self._irq_off()
        flags = regs.field(self._st, 0, 4) & FIFO_STICKY
        if flags:
            regs.write(self._st, FIFO_STICKY)
        self._irq_on(state)
        if flags & FIFO_WOF:
            self.wof = (self.wof + 1) & WRAP
        if flags & FIFO_ROE:
            self.roe = (self.roe + 1) & WRAP

    # -- core 1 ---------------------------------------------------------------------

    def launch_core1(self, entry, sp, vtor, timeout_ms=1000, ram=None, force=False):
        """Reset core 1 and start it at ``entry`` (Thumb address, bit 0 set)
        with stack pointer ``sp`` and vector table ``vtor``.

        ``ram``: the pinned buffer (rl_rp2040.pinned_buffer) the firmware
        was linked or relocated for; entry, sp and vtor must lie in it, and
        the mailbox keeps it alive (stock MicroPython gives all striped RAM
        to the GC heap: a buffer is the only RAM that is yours). Pass None
        only for code at addresses you manage yourself. Flash writes do not
        stop core 1, so nothing it runs may be in flash.
        Call it before creating links (the handshake uses the FIFO).
        Raises OSError if core 1 does not answer, RuntimeError if it runs
        MicroPython's _thread (see core1_runs_micropython; force skips it)."""
        if self._closed:
            raise ValueError("the mailbox was deinitialised")
        if self.core != 0:
            raise RuntimeError("core 1 can only be launched from core 0")
        if self.links:
            raise RuntimeError("launch core 1 before creating links (the handshake uses the FIFO)")
        if ram is not None:
            import uctypes

            lo = uctypes.addressof(ram)
            hi = lo + len(ram)
            for name, value in (("entry", entry & ~1), ("sp", sp - 4), ("vtor", vtor)):
                if not lo <= value < hi:
                    raise ValueError("%s %#x is outside the firmware's buffer [%#x, %#x)" % (name, value, lo, hi))
        self._backlog = 0
        self._pending = 0
        self.image = ram  # referenced from before core 1 can run from it
        try:
            self.launch_attempts = launch_core1(self._regs, entry, sp, vtor, timeout_ms, self._sev, self.idle, force)
        except Exception:
            self.image = None
            raise
        self._clear_sticky()
        return self.launch_attempts

    def launch_image(self, image, timeout_ms=1000, force=False, ram=None):
        """Copy a core-1 image linked at address 0 (see relocate_image) into
        a 256-byte aligned pinned heap buffer, relocate its vector table for
        that address and launch it there. Returns (vtor, sp, entry).

        Where it lives: a stock RP2040 MicroPython gives all striped RAM
        (0x20000000-0x20040000) to the GC heap (MP125
        ports/rp2/memmap_mp_rp2040.ld L215-250) and SCRATCH_X/Y to the
        stacks, so the only free RAM is a heap buffer that Python keeps
        referenced: the mailbox holds it until deinit(), which puts core 1
        back into the boot ROM before the buffer can be freed. A soft reset
        resets core 1 too (MP125 mpthreadport.c L83-91).

        ``ram``: a buffer of your own to use instead (256-byte aligned, at
        least the image's size, kept alive by you as well)."""
        if ram is None:
            raw, buf = hw.pinned_buffer(len(image), _VTOR_ALIGN)
        else:
            if len(ram) < len(image):
                raise ValueError("ram holds %d bytes, the image needs %d" % (len(ram), len(image)))
            raw = ram
            buf = memoryview(ram)[: len(image)]
        buf[:] = image
        import uctypes

        vtor, sp, entry = relocate_image(buf, uctypes.addressof(buf))
        self.launch_core1(entry, sp, vtor, timeout_ms, buf, force)
        self._image_raw = raw
        return vtor, sp, entry

    def post(self, word, timeout_ms=100):
        """Write one raw 32-bit word to core 1 (then SEV), waiting up to
        timeout_ms for room: start-up data for the firmware before any link
        exists (e.g. the shared-memory address). Returns False on timeout."""
        check_timeout(timeout_ms)
        if not 0 <= word <= 0xFFFFFFFF:
            raise ValueError("a FIFO word is 32 bits")
        if not _wait(self._regs, self._st, FIFO_RDY, ticks_ms(), timeout_ms, self.idle):
            return False
        _push(self._regs, word, self._sev)
        return True

    def read_word(self, timeout_ms=100):
        """Pop one raw word from core 1, waiting up to timeout_ms; None on
        timeout. For start-up exchanges before any link exists (after that
        service() owns the FIFO)."""
        check_timeout(timeout_ms)
        if not _wait(self._regs, self._st, FIFO_VLD, ticks_ms(), timeout_ms, self.idle):
            return None
        return self._regs.read(self._rd)

    # -- teardown and diagnostics -------------------------------------------------

    def deinit(self):
        """Deinit the attached links; if core 1 runs from a heap buffer, put
        it back into the boot ROM (the buffer is about to be freed); drop
        what is left in the RX FIFO, clear the sticky flags and give the SIO
        IRQ back to MicroPython's lockout handler if it had it (ICPR, then
        ISER)."""
        global _open
        if self._closed:
            return
        self._closed = True
        Port.deinit(self)
        regs = self._regs
        if self.image is not None:
            reset_core1(regs)
            self.image = None
            self._image_raw = None
        self.unrouted += _drain(regs)
        self._clear_sticky()
        if self.irq_was_enabled:
            regs.write(hw.NVIC_ICPR, self._irq_bit)
            regs.write(hw.NVIC_ISER, self._irq_bit)
        if _open is self:
            _open = None

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
            "recovered": self.recovered,
        }

    def __repr__(self):
        return "<FifoMailbox core %d %s>" % (self.core, "closed" if self._closed else "open")
