"""Register models of the RP2040 parts the rl_rp2040 ports touch, for tests.
Portable (CPython and MicroPython).

``RP2040()`` holds one chip: the SIO (CPUID per core, the two inter-core
FIFOs, spinlocks, and optionally the RP2350 doorbells), a per-core NVIC
enable/pending model, the PSM (core-1 force-off), two PIO blocks (IRQ
flags, IRQ_FORCE) with an ``rp2.PIO`` stand-in, and two behaviours that
are software on the real chip but decide whether a port works:

Sources (pico-sdk 2.1.1 = the version MicroPython 1.25 pins; "bootrom" =
raspberrypi/pico-bootrom-rp2040 bootrom/bootrom_rt0.S; "MP125" =
MicroPython 1.25):

* MicroPython's multicore-lockout handler (SDK pico_multicore/multicore.c
  L213-226): while a core's SIO IRQ is enabled in its NVIC, any word
  arriving in its RX FIFO is popped and discarded unless it is
  LOCKOUT_MAGIC_START, which is echoed, after which the core "spins" (IRQs
  off) discarding words until LOCKOUT_MAGIC_END, echoed too.
  ``lockout(core)`` plays the initiator (multicore_lockout_handshake,
  multicore.c L260-285): it pushes the magic, pops one word, and pushes
  the magic AGAIN for every word that is not the echo; the chip waits for
  ever, the model gives up after a bound. ``flash_write()`` is MP125
  rp2_flash.c L95-101/L148-176: the lockout runs only while core 1 is a
  lockout victim with a MicroPython thread (``victim[1]`` and
  ``core1_entry``, SDK multicore.c L237-246, MP125 mpthreadport.c L126-150).
* WFE/SEV: each core has an event register; SEV sets it on both cores
  (ARMv6-M Architecture Reference Manual, "Wait For Event and Send Event";
  the RP2040 wires each core's TXEV to the other's RXEV). Code that waits with WFE runs only
  when an event is latched, and consumes it. A FIFO write alone is NOT an
  event: pico-sdk always follows one with SEV (pico/multicore.h L189-192).
* Core 1's boot ROM (bootrom L310-390): after a PSM reset it drains its RX
  FIFO and sends 0 (send_and_then: wait in WFE while core 0's RX is full,
  write, SEV). Then receive_and_check_zero: WFE FIRST, then look at
  FIFO_ST.VLD, WFE again if empty. A 0 at any step goes back to the drain
  and a fresh 0; anything but 1 as the command too; 1, VTOR, SP, entry are
  each echoed. After the entry word it "launches": ``firmware(vtor, sp,
  entry)`` is called, a Python object standing for the firmware.
* Soft reset of MicroPython on core 0 (``soft_reset()``): mp_thread_deinit
  (MP125 mpthreadport.c L83-91) runs multicore_reset_core1 (SDK
  multicore.c L101-134), which forces core 1 off, clears victim[1], lets
  it boot, pops its 0, and puts core 0's FIFO IRQ back as it WAS: a masked
  bit 15 stays masked (mp_thread_init, which enables it, runs once per
  boot: MP125 ports/rp2/main.c L121 vs L183).
* FIFO_ST: any write clears both WOF and ROE (pico/multicore.h L273-276).

Each core has its own ``regbus.Bus`` (``chip.core0`` / ``chip.core1``) on
which the same SIO answers as seen from that core; ``devices(core)`` lists
the same models for the CPython shim's address space. Everything happens
synchronously inside register accesses (the boot ROM answers a word as soon
as it is written), so tests are deterministic; nothing runs by itself.

The steady-state paths (FIFO push/pop, status, PIO force, scheduler queue)
allocate nothing, so heap-lock tests can run through the model.
"""

from array import array

from regbus import Bus, BusFault
from rpmsg_lite import RPMsgLite, RPMsgError
from rpmsg_lite.port import Port

# Register facts: pico-sdk 2.1.1 src/rp2040/hardware_regs/include/hardware/regs/ (file Lnn).
LOCKOUT_MAGIC_START = 0x73A8831E  # SDK pico_multicore/multicore.c L205
LOCKOUT_MAGIC_END = 0x8C577CE1  # ~START (multicore.c L206)

SIO_BASE = 0xD0000000  # addressmap.h L77
SIO_SIZE = 0x200
NVIC_BASE = 0xE000E100  # ISER; ICER at +0x80, ICPR at +0x180 (m0plus.h L153, L174, L221)
NVIC_SIZE = 0x200
PSM_BASE = 0x40010000  # addressmap.h L47
PSM_SIZE = 0x4000  # the register block plus its XOR/SET/CLR aliases
PIO_BASES = (0x50200000, 0x50300000)  # addressmap.h L74-75
PIO_SIZE = 0x40

DOORBELL_OUT_SET = SIO_BASE + 0x180  # rp2350 sio.h L1936 (IN_CLR: L1984)
DOORBELL_IN_CLR = SIO_BASE + 0x18C
FIFO_ST = SIO_BASE + 0x50  # sio.h L257
FIFO_WR = SIO_BASE + 0x54  # sio.h L299
FIFO_RD = SIO_BASE + 0x58  # sio.h L308
NVIC_ISER = NVIC_BASE
NVIC_ICER = NVIC_BASE + 0x80
NVIC_ICPR = NVIC_BASE + 0x180
PSM_FRCE_OFF = PSM_BASE + 4  # psm.h L143
PSM_PROC1 = 0x10000  # psm.h L149

# FIFO_ST bits (sio.h L265-292)
VLD = 1
RDY = 2
WOF = 4
ROE = 8

SIO_IRQ = (15, 16)  # SIO_IRQ_PROC0/1 (intctrl.h L31-32); the RP2350's SIO_IRQ_FIFO is 25 on both

# Boot ROM states.
ROM_OFF = "off"  # held in reset
ROM_HELLO = "hello"  # draining, about to send 0
ROM_CMD = "cmd"
ROM_VTOR = "vtor"
ROM_SP = "sp"
ROM_ENTRY = "entry"
RUNNING = "running"  # launched (or running MicroPython's _thread)

_SCHED_DEPTH = 8  # MicroPython 1.25 ports/rp2/mpconfigport.h L126 MICROPY_SCHEDULER_DEPTH


class WordFifo:
    """A FIFO of 32-bit words over a fixed array (pushing allocates nothing)."""

    def __init__(self, depth=8):
        self.depth = depth
        self._w = array("I", [0] * depth)
        self._head = 0
        self.count = 0

    def push(self, word):
        if self.count == self.depth:
            return False
        self._w[(self._head + self.count) % self.depth] = word
        self.count += 1
        return True

    def pop(self):
        word = self._w[self._head]
        self._head = (self._head + 1) % self.depth
        self.count -= 1
        return word

    def words(self):
        """Contents, oldest first (allocates: for assertions)."""
        return [self._w[(self._head + i) % self.depth] for i in range(self.count)]

    def clear(self):
        self._head = 0
        self.count = 0


class SioView:
    """The SIO block as core ``core`` sees it (a bus device)."""

    def __init__(self, chip, core):
        self.chip = chip
        self.core = core

    def read(self, offset, width):
        chip = self.chip
        c = self.core
        if offset == 0x000:
            return c  # CPUID
        if offset == 0x050:
            return chip.fifo_status(c)
        if offset == 0x058:
            return chip.fifo_read(c)
        if offset == 0x05C:
            return chip.spinlocks
        if 0x100 <= offset < 0x180:
            return chip.spin_claim((offset - 0x100) >> 2)
        if chip.rp2350 and 0x180 <= offset < 0x190:
            if offset >= 0x188:  # IN_SET / IN_CLR read this core's doorbells
                return chip.bells_in[c]
            return chip.bells_in[1 - c]  # OUT_SET / OUT_CLR: the other core's
        raise BusFault("SIO offset %#x is not modelled" % offset)

    def write(self, offset, width, value):
        chip = self.chip
        c = self.core
        if offset == 0x050:
            chip.fifo_clear_sticky(c, value)
        elif offset == 0x054:
            chip.fifo_write(c, value)
        elif 0x100 <= offset < 0x180:
            chip.spin_release((offset - 0x100) >> 2)
        elif chip.rp2350 and 0x180 <= offset < 0x190:
            chip.bell_write(c, offset, value & 0xFF)
        else:
            raise BusFault("SIO offset %#x is not writable in the model" % offset)


class Nvic:
    """One core's NVIC: enable and pending bits (level-sensitive model)."""

    def __init__(self, chip, core):
        self.chip = chip
        self.core = core
        self.enabled = 0
        self.pending = 0
        self.writes = []  # ("ISER"|"ICER"|"ICPR", value), for assertions

    def read(self, offset, width):
        if offset in (0x000, 0x080):
            return self.enabled
        if offset in (0x100, 0x180):
            return self.pending
        raise BusFault("NVIC offset %#x is not modelled" % offset)

    def write(self, offset, width, value):
        if offset == 0x000:
            self.writes.append(("ISER", value))
            self.enabled |= value
            self.chip.irq_check(self.core)
        elif offset == 0x080:
            self.writes.append(("ICER", value))
            self.enabled &= ~value
        elif offset == 0x180:
            self.writes.append(("ICPR", value))
            self.pending &= ~value
        else:
            raise BusFault("NVIC offset %#x is not writable in the model" % offset)


class Psm:
    """PSM FRCE_OFF with the atomic aliases; PROC1 holds core 1 in reset."""

    def __init__(self, chip):
        self.chip = chip
        self.frce_off = 0
        self.writes = []  # (alias, value): alias 0 plain, 0x1000 XOR, 0x2000 SET, 0x3000 CLR

    def read(self, offset, width):
        if offset & 0xFFF == 0x004:
            return self.frce_off
        raise BusFault("PSM offset %#x is not modelled" % offset)

    def write(self, offset, width, value):
        if offset & 0xFFF != 0x004:
            raise BusFault("PSM offset %#x is not modelled" % offset)
        alias = offset & 0x3000
        self.writes.append((alias, value))
        old = self.frce_off
        if alias == 0x0000:
            new = value
        elif alias == 0x1000:
            new = old ^ value
        elif alias == 0x2000:
            new = old | value
        else:
            new = old & ~value
        self.frce_off = new
        if (old ^ new) & PSM_PROC1:
            self.chip.core1_power(not new & PSM_PROC1)


class PioBlock:
    """A PIO block's IRQ flags (IRQ +0x030, write 1 to clear) and IRQ_FORCE
    (+0x034), plus what MicroPython does with PIOn_IRQ_0 on core 0: its
    handler acknowledges the flags and schedules the Python handler
    (MicroPython 1.25 ports/rp2/rp2_pio.c L77-101 pio_irq0). ``rp2`` is the rp2.PIO
    stand-in to inject into the port."""

    IRQ_SM0 = 0x100

    def __init__(self, chip, index):
        self.chip = chip
        self.index = index
        self.flags = 0
        self.forced = 0  # IRQ_FORCE writes
        self.handler = None
        self.trigger = 0
        self.hard = False
        self.rp2 = _Rp2Pio(self)

    def read(self, offset, width):
        if offset == 0x030:
            return self.flags
        raise BusFault("PIO offset %#x is not modelled" % offset)

    def write(self, offset, width, value):
        if offset == 0x030:
            self.flags &= ~value
        elif offset == 0x034:
            self.forced += 1
            self.flags |= value & 0xFF
            self._interrupt()
        else:
            raise BusFault("PIO offset %#x is not modelled" % offset)

    def _interrupt(self):
        ints = (self.flags << 8) & self.trigger & 0xF00
        if self.handler is None or not ints:
            return
        self.flags &= ~(ints >> 8)  # pio_irq0: pio->irq = ints >> 8
        self.chip.schedule(self.handler, self.rp2)


class _Rp2Pio:
    """Stands in for rp2.PIO(n) (irq(handler=None, trigger=0xF00, hard=False))."""

    IRQ_SM0 = 0x100
    IRQ_SM1 = 0x200
    IRQ_SM2 = 0x400
    IRQ_SM3 = 0x800

    def __init__(self, block):
        self.block = block

    def irq(self, handler=None, trigger=0xF00, hard=False):
        b = self.block
        b.handler = handler
        b.trigger = trigger if handler is not None else 0
        b.hard = hard
        if handler is not None:
            b._interrupt()
        return self


class RP2040:
    """One chip. ``core0``/``core1``: each core's Bus. ``firmware``: called
    as firmware(vtor, sp, entry) when the boot ROM launches core 1.

    micropython     MicroPython runs on core 0: its lockout handler is
                    installed and SIO_IRQ_PROC0 enabled from boot.
    core1           "rom": in the boot ROM, waiting for a launch (as after
                    MicroPython's boot; it consumes words sent to it);
                    "python": running MicroPython's _thread (mode (a)), a
                    lockout victim too (SIO_IRQ_PROC1 enabled);
                    "halted": running code that never reads its FIFO.
    rp2350          add the RP2350 SIO doorbell registers.
    """

    def __init__(self, firmware=None, micropython=True, core1="rom", rp2350=False):
        if core1 not in ("rom", "python", "halted"):
            raise ValueError("core1 must be 'rom', 'python' or 'halted'")
        self.firmware = firmware
        self.rp2350 = rp2350
        self.sio_irq = (25, 25) if rp2350 else SIO_IRQ
        self.fifos = (WordFifo(8), WordFifo(8))  # fifos[c]: written by core c
        self.wof = [0, 0]
        self.roe = [0, 0]
        self.spinlocks = 0
        self.bells_in = [0, 0]
        self.nvic = (Nvic(self, 0), Nvic(self, 1))
        self.psm = Psm(self)
        self.pio = (PioBlock(self, 0), PioBlock(self, 1))
        # The lockout handler's state per core (True: spinning, IRQs off).
        self.locked_out = [False, False]
        self.swallowed = [0, 0]  # words the lockout handler threw away
        self.swallowed_words = ([], [])
        self.lockout_echoes = [0, 0]
        # Core 1: boot ROM state (after MicroPython's boot it waits for a
        # command with empty FIFOs) or RUNNING.
        self.rom = ROM_CMD if core1 == "rom" else RUNNING
        self._rom_out = -1  # word the boot ROM is trying to send, -1 none
        self._rom_launch = False
        self._rom_words = [0, 0, 0]
        self.rom_echoes = 0
        self.corrupt_echoes = ()  # indices (1-based) of boot ROM echoes to corrupt
        self.launched = []  # (vtor, sp, entry) per launch
        self.resets = 0
        self.event = [0, 0]  # WFE event registers
        self._fw_wake = None
        self.sevs = [0, 0]  # SEVs executed per core
        # MicroPython/SDK state that decides flash lockouts (see flash_write).
        self.victim = [micropython, core1 == "python"]  # lockout_victim_initialized[]
        self.core1_entry = core1 == "python"  # MicroPython's core1_entry != NULL
        self.flash_writes = 0
        self.lockout_pushes = 0  # magic words pushed by lockout initiators
        # Interrupts of core 0 (PRIMASK) and a test hook: a "hard IRQ" on core
        # 0 that runs just before the next FIFO_ST write by core 0 if its
        # interrupts are enabled, else when they are enabled again.
        self.irq_disabled = [0, 0]
        self.irq_before_st_write = None
        self._deferred_irq = None
        # MicroPython's scheduler on core 0 (soft IRQ handlers), depth 8.
        self._sched_f = [None] * _SCHED_DEPTH
        self._sched_a = [None] * _SCHED_DEPTH
        self._sched_head = 0
        self._sched_n = 0
        self.sched_overflows = 0
        if micropython:
            self.nvic[0].enabled |= 1 << self.sio_irq[0]
        if core1 == "python":
            self.nvic[1].enabled |= 1 << self.sio_irq[1]
        self.core0 = self._bus(0)
        self.core1 = self._bus(1)

    def _bus(self, core):
        bus = Bus("core%d" % core)
        for base, size, device, _ in self.devices(core):
            bus.map(base, size, device)
        return bus

    def devices(self, core):
        """(base, size, device, name) of every model as core ``core`` sees it."""
        return [
            (SIO_BASE, SIO_SIZE, SioView(self, core), "SIO (core %d)" % core),
            (NVIC_BASE, NVIC_SIZE, self.nvic[core], "NVIC (core %d)" % core),
            (PSM_BASE, PSM_SIZE, self.psm, "PSM"),
            (PIO_BASES[0], PIO_SIZE, self.pio[0], "PIO0"),
            (PIO_BASES[1], PIO_SIZE, self.pio[1], "PIO1"),
        ]

    # -- FIFOs -------------------------------------------------------------------

    def fifo_status(self, core):
        st = 0
        if self.fifos[1 - core].count:
            st |= VLD
        if self.fifos[core].count < self.fifos[core].depth:
            st |= RDY
        if self.wof[core]:
            st |= WOF
        if self.roe[core]:
            st |= ROE
        return st

    def fifo_write(self, core, word):
        if not self.fifos[core].push(word):
            self.wof[core] = 1  # the write is ignored
            return
        self._arrived(1 - core)

    def fifo_read(self, core):
        fifo = self.fifos[1 - core]
        if not fifo.count:
            self.roe[core] = 1
            return 0
        return fifo.pop()  # (no event: a core 1 waiting for room stays in WFE)

    def fifo_clear_sticky(self, core, value):
        # "Write any value to clear the error flags" (pico/multicore.h
        # L273-276): the value does not matter, both go.
        hook = self.irq_before_st_write
        if hook is not None and core == 0:
            self.irq_before_st_write = None
            if self.irq_disabled[0]:
                self._deferred_irq = hook
            else:
                hook()
        self.wof[core] = 0
        self.roe[core] = 0

    def irq_functions(self, core):
        """(disable_irq, enable_irq) of core ``core``, as machine's."""

        def disable():
            state = self.irq_disabled[core]
            self.irq_disabled[core] = 1
            return state

        def enable(state):
            self.irq_disabled[core] = state
            if not state and core == 0 and self._deferred_irq is not None:
                hook = self._deferred_irq
                self._deferred_irq = None
                hook()

        return disable, enable

    # -- events (WFE/SEV) --------------------------------------------------------

    def sev(self, core):
        """Core ``core`` executes SEV: both event registers are set, and code
        asleep in WFE on the other core runs."""
        self.sevs[core] += 1
        self.event[0] = 1
        self.event[1] = 1
        if core == 0:
            self._core1_wake()

    def _core1_wake(self):
        if self.rom == RUNNING:
            if self._fw_wake is not None:
                self._fw_wake()  # (bound once at launch: heap-lock tests SEV through here)
        elif self.rom != ROM_OFF:
            self._rom_run()

    def push_from(self, core, word):
        """Core ``core`` writes FIFO_WR directly (for the models' own code)."""
        self.fifo_write(core, word)

    def rx_words(self, core):
        """What waits in core ``core``'s RX FIFO, oldest first."""
        return self.fifos[1 - core].words()

    def _arrived(self, core):
        # A word is now in core ``core``'s RX FIFO.
        if self.locked_out[core] or self.nvic[core].enabled & (1 << self.sio_irq[core]):
            self._lockout_handler(core)
        else:
            self.nvic[core].pending |= 1 << self.sio_irq[core]

    def irq_check(self, core):
        # Level-sensitive: enabling the IRQ with VLD/WOF/ROE set runs it.
        if self.nvic[core].enabled & (1 << self.sio_irq[core]) and self.fifo_status(core) & (VLD | WOF | ROE):
            self._lockout_handler(core)

    # -- MicroPython's lockout handler (SDK multicore.c L213-226) ---------------------

    def _lockout_handler(self, core):
        if core == 1 and self.rom != RUNNING:
            return  # the boot ROM runs with no such handler
        self.wof[core] = 0  # multicore_fifo_clear_irq
        self.roe[core] = 0
        rx = self.fifos[1 - core]
        while rx.count:
            word = rx.pop()
            if self.locked_out[core]:
                if word == LOCKOUT_MAGIC_END:
                    self.locked_out[core] = False
                    self._echo(core, word)
                else:
                    self._swallow(core, word)
            elif word == LOCKOUT_MAGIC_START:
                self.locked_out[core] = True
                self._echo(core, word)
            else:
                self._swallow(core, word)

    def _swallow(self, core, word):
        self.swallowed[core] += 1
        if len(self.swallowed_words[core]) < 64:
            self.swallowed_words[core].append(word)

    def _echo(self, core, word):
        self.lockout_echoes[core] += 1
        self.fifo_write(core, word)

    def lockout(self, initiator, bound=64):
        """Play multicore_lockout_start_blocking + ..._end_blocking from
        ``initiator`` against the other core, as a flash write does:
        multicore_lockout_handshake (SDK multicore.c L260-285) pushes the
        magic (with SEV), pops one word, and pushes the magic again for
        every word that is not the echo. True if both echoes came back; the
        chip would wait for ever otherwise (the model stops after ``bound``
        rounds or when nothing comes back). The initiator's own FIFO IRQ is
        off during the handshakes and restored afterwards."""
        bit = 1 << self.sio_irq[initiator]
        own = self.nvic[initiator].enabled & bit
        self.nvic[initiator].enabled &= ~bit
        ok = True
        for magic in (LOCKOUT_MAGIC_START, LOCKOUT_MAGIC_END):
            if not self._handshake(initiator, magic, bound):
                ok = False  # on the chip: waiting "until the end of time"
                break
        self.nvic[initiator].enabled |= own
        if own:
            self.irq_check(initiator)
        return ok

    def _handshake(self, initiator, magic, bound):
        rx = self.fifos[1 - initiator]
        for _ in range(bound):
            if self.fifos[initiator].count < self.fifos[initiator].depth:
                self.lockout_pushes += 1
                self.fifo_write(initiator, magic)
            self.sev(initiator)
            if not rx.count:
                return False  # multicore_fifo_pop_timeout_us: waits for ever
            if rx.pop() == magic:
                return True
        return False

    def flash_write(self):
        """A flash write or erase from core 0 (MP125 rp2_flash.c L148-176):
        core 1 is locked out first when use_multicore_lockout() (L95-101):
        it is a lockout victim and MicroPython's core1_entry is set. True if
        the write completes (no lockout needed, or both echoes came back)."""
        self.flash_writes += 1
        if not (self.victim[1] and self.core1_entry):
            return True
        return self.lockout(0)

    def start_thread(self):
        """MicroPython's _thread.start_new_thread (MP125 mpthreadport.c
        L126-150): multicore_reset_core1, then the launch of
        core1_entry_wrapper, which makes core 1 a lockout victim (SDK
        multicore.c L237-246) with core1_entry set."""
        self._reset_core1_sdk()
        self.rom = RUNNING
        self._fw_wake = None
        self.nvic[1].enabled |= 1 << self.sio_irq[1]
        self.victim[1] = True
        self.core1_entry = True

    def thread_done(self):
        """The thread function returned: core1_entry = NULL (MP125
        mpthreadport.c L116-117); core 1 stays a victim."""
        self.core1_entry = False

    def _reset_core1_sdk(self):
        # multicore_reset_core1 (SDK multicore.c L101-134).
        psm = self.psm
        psm.write(0x2004, 4, PSM_PROC1)  # SET alias, read back (L110-111)
        bit = 1 << self.sio_irq[0]
        enabled = self.nvic[0].enabled & bit
        self.nvic[0].enabled &= ~bit
        self.victim[1] = False
        psm.write(0x3004, 4, PSM_PROC1)  # CLR alias: core 1 boots (L125)
        if self.fifos[1].count:
            self.fifos[1].pop()  # multicore_fifo_pop_blocking: the boot ROM's 0 (L128)
        self.nvic[0].enabled |= enabled  # restore the state it had (L133)

    def soft_reset(self):
        """MicroPython's soft reset on core 0 (see the module docstring):
        mp_thread_deinit -> multicore_reset_core1, core1_entry = NULL."""
        self._reset_core1_sdk()
        self.core1_entry = False
        self.soft_resets = getattr(self, "soft_resets", 0) + 1

    # -- spinlocks ------------------------------------------------------------------

    def spin_claim(self, n):
        bit = 1 << n
        if self.spinlocks & bit:
            return 0
        self.spinlocks |= bit
        return bit

    def spin_release(self, n):
        self.spinlocks &= ~(1 << n)

    # -- RP2350 doorbells (SDK rp2350 sio.h L1936-1984) ---------------------------------

    def bell_write(self, core, offset, bits):
        other = 1 - core
        if offset == 0x180:  # OUT_SET
            self.bells_in[other] |= bits
        elif offset == 0x184:  # OUT_CLR
            self.bells_in[other] &= ~bits
        elif offset == 0x188:  # IN_SET
            self.bells_in[core] |= bits
        else:  # IN_CLR: write 1 to clear
            self.bells_in[core] &= ~bits

    # -- core 1: reset and boot ROM -------------------------------------------------------

    def core1_power(self, on):
        if not on:
            self.resets += 1
            self.rom = ROM_OFF
            self._rom_out = -1
            self._rom_launch = False
            self.locked_out[1] = False
            self.nvic[1].enabled = 0
            self.nvic[1].pending = 0
            self.event[1] = 0
            if self.firmware is not None and hasattr(self.firmware, "stopped"):
                self.firmware.stopped()
        else:
            self.rom = ROM_HELLO
            self._rom_run()

    def _rom_run(self):
        # Run the boot ROM until it sleeps in WFE with no event latched
        # (bootrom_rt0.S L310-390; see the module docstring).
        rx = self.fifos[0]
        while self.rom != ROM_OFF and self.rom != RUNNING:
            if self._rom_out >= 0:
                # send_and_then (L318-325): RDY clear -> WFE, look again.
                if self.fifos[1].count == self.fifos[1].depth:
                    if not self.event[1]:
                        return  # asleep until an event
                    self.event[1] = 0
                    continue
                self.fifos[1].push(self._rom_out)
                self._rom_out = -1
                launch = self._rom_launch
                self._rom_launch = False
                self._arrived(0)
                self.sevs[1] += 1  # SEV (L323): both event registers
                self.event[0] = 1
                self.event[1] = 1
                if launch:
                    self._launch()
                    return
                continue
            if self.rom == ROM_HELLO:
                # core_0_handshake_loop (L340-351): drain, then send 0.
                rx.clear()
                self._rom_out = 0
                self.rom = ROM_CMD
                continue
            # receive_and_check_zero (L381-390): WFE first, then FIFO_ST.VLD.
            if not self.event[1]:
                return  # asleep in WFE
            self.event[1] = 0
            if not rx.count:
                continue  # nothing yet: back to WFE
            word = rx.pop()
            if word == 0:
                self.rom = ROM_HELLO
            elif self.rom == ROM_CMD:
                if word == 1:
                    self._rom_echo(word, ROM_VTOR)
                else:
                    self.rom = ROM_HELLO
            elif self.rom == ROM_VTOR:
                self._rom_words[0] = word
                self._rom_echo(word, ROM_SP)
            elif self.rom == ROM_SP:
                self._rom_words[1] = word
                self._rom_echo(word, ROM_ENTRY)
            else:
                self._rom_words[2] = word
                self._rom_echo(word, ROM_ENTRY)
                self._rom_launch = True

    def _rom_echo(self, word, next_state):
        self.rom_echoes += 1
        if self.rom_echoes in self.corrupt_echoes:
            word ^= 0x40  # a glitch on the way back: the sender must start again
        self._rom_out = word
        self.rom = next_state

    def _launch(self):
        vtor, sp, entry = self._rom_words
        self.rom = RUNNING
        self.launched.append((vtor, sp, entry))
        self._fw_wake = getattr(self.firmware, "wake", None)
        if self.firmware is not None:
            self.firmware(vtor, sp, entry)

    # -- MicroPython's scheduler on core 0 ----------------------------------------------

    def schedule(self, func, arg):
        if self._sched_n == _SCHED_DEPTH:
            self.sched_overflows += 1
            return
        i = (self._sched_head + self._sched_n) % _SCHED_DEPTH
        self._sched_f[i] = func
        self._sched_a[i] = arg
        self._sched_n += 1

    def run_scheduled(self):
        """Run the queued soft-IRQ handlers (as core 0's VM would between
        bytecodes); returns how many ran."""
        ran = 0
        while self._sched_n:
            i = self._sched_head
            func = self._sched_f[i]
            arg = self._sched_a[i]
            self._sched_f[i] = None
            self._sched_a[i] = None
            self._sched_head = (i + 1) % _SCHED_DEPTH
            self._sched_n -= 1
            func(arg)
            ran += 1
        return ran

    def scheduled(self):
        return self._sched_n


class CFirmware(Port):
    """Stands for C RPMsg-Lite firmware on core 1 (mode (b)). The boot ROM
    model calls it with (vtor, sp, entry); it then runs this project's
    RPMsgLite (``role`` "remote" or "master") on ``shm`` over core 1's bus,
    with a platform written as a C port would be (three lines each way):
    notify writes FIFO_WR if FIFO_ST.RDY (a full FIFO drops the kick,
    counted), step() is the SIO IRQ handler: while VLD, isr(FIFO_RD); then
    clear the sticky flags. ``app(fw)`` runs once the link exists; by
    default endpoint 30 echoes every message back to its sender and is
    announced to the name service as ``name`` once the link is up. Nothing
    happens between step() calls, and a PSM reset stops it (stopped()).

    transport="bell" (RP2350 model): kicks are DOORBELL_OUT_SET bits
    instead, and step() reads DOORBELL_IN_CLR, clears what it read, then
    calls isr(v) for each bit v. Call start() then: nothing launches it.

    wfe=True: firmware that reads its FIFO from a main loop that sleeps in
    WFE (multicore_fifo_pop_blocking, pico/multicore.h) instead of an IRQ
    handler: it runs step() only when an SEV reaches it (wake()), and its
    notify() issues SEV after the write as the SDK does."""

    def __init__(
        self, chip, shm, config, role="remote", link_id=0, app=None, name="rp2040-echo", transport="fifo", wfe=False
    ):
        Port.__init__(self, config)
        self.chip = chip
        self.bus = chip.core1
        self.shm = shm
        self.config = config
        self.role = role
        self.link_id = link_id
        self.app = app
        self.name = name
        self.bell = transport == "bell"
        self.wfe = wfe
        self.wakes = 0
        self.boots = []
        self.alive = False
        self.link = None
        self.ept = None
        self.announced = False
        self.dropped = 0
        self.kicks_in = 0
        self.echoed = 0

    # -- launched by the boot ROM ------------------------------------------------

    def __call__(self, vtor, sp, entry):
        self.boots.append((vtor, sp, entry))
        self.start()

    def start(self):
        """Run the firmware's init (the boot ROM does it after a launch)."""
        self.alive = True
        self.announced = False
        if self.role == "remote":
            self.link = RPMsgLite.remote(self.shm, self, self.config, self.link_id)
        else:
            self.link = RPMsgLite.master(self.shm, self, self.config, self.link_id)
        if self.app is not None:
            self.app(self)
        else:
            self.ept = self.link.create_ept(30, self._echo)

    def stopped(self):
        self.alive = False
        self.link = None

    def wake(self):
        """An SEV reached core 1 (only a WFE main loop reacts)."""
        if self.wfe and self.alive:
            self.wakes += 1
            self.chip.event[1] = 0
            self.step()

    def _echo(self, payload, src):
        self.link.send(self.ept, src, payload, 0)
        self.echoed += 1
        return 0

    # -- the "C" platform ------------------------------------------------------

    def notify(self, vector_id):
        if self.bell:
            self.bus[DOORBELL_OUT_SET] = 1 << vector_id
        elif self.bus[FIFO_ST] & RDY:
            self.bus[FIFO_WR] = vector_id
            if self.wfe:
                self.chip.sev(1)
        else:
            self.dropped += 1

    def step(self):
        """Take the SIO IRQ once: deliver every word waiting for core 1."""
        if not self.alive:
            return 0
        bus = self.bus
        n = 0
        if self.bell:
            bits = bus[DOORBELL_IN_CLR] & 0xFF
            bus[DOORBELL_IN_CLR] = bits
            v = 0
            while bits:
                if bits & 1:
                    self.link.isr(v)
                    n += 1
                bits >>= 1
                v += 1
        else:
            while bus[FIFO_ST] & VLD:
                self.link.isr(bus[FIFO_RD])
                n += 1
            bus[FIFO_ST] = WOF | ROE  # multicore_fifo_clear_irq
        self.kicks_in += n
        if self.ept is not None and not self.announced and self.link.is_link_up():
            try:
                self.link.ns_announce(self.ept, self.name, 0, 0)  # never blocks the simulation
                self.announced = True
            except RPMsgError:
                pass  # no TX buffer now: try again at the next step
        return n


class EchoImage:
    """Core-1 firmware built from boards/rpi_pico/core1_echo (a real
    Cortex-M0+ image): the boot ROM model launches it with (vtor, sp,
    entry). It does not emulate Thumb: it checks what the boot ROM and the
    core would use (the vector table at VTOR holds sp and entry, both
    inside the image, entry a Thumb address of code that contains WFE and
    SEV) and then behaves as the C source says: a main loop that waits
    with WFE for FIFO_ST.VLD, pops a word, waits with WFE for RDY, pushes
    the word back and executes SEV.

    ``memory(addr, n)`` returns n bytes at a core-1 address (the pinned
    buffer the port put the image in). ``fault`` says why it did not run."""

    WFE = b"\x20\xbf"  # Thumb WFE, 0xBF20 (ARMv6-M ARM, WFE encoding T1)
    SEV = b"\x40\xbf"  # Thumb SEV, 0xBF40

    def __init__(self, chip, memory, size):
        self.chip = chip
        self.memory = memory
        self.size = size
        self.boots = []
        self.fault = None
        self.alive = False
        self.word = -1  # popped, waiting for room
        self.echoed = 0

    def __call__(self, vtor, sp, entry):
        self.boots.append((vtor, sp, entry))
        table = self.memory(vtor, 64)
        word0 = int.from_bytes(table[0:4], "little")
        word1 = int.from_bytes(table[4:8], "little")
        code = self.memory(vtor, self.size)
        if word0 != sp or word1 != entry:
            self.fault = "vector table at %#x holds sp %#x entry %#x, launched with %#x %#x" % (
                vtor, word0, word1, sp, entry)
        elif not (entry & 1 and vtor + 64 <= entry - 1 < vtor + self.size and vtor < sp <= vtor + self.size):
            self.fault = "sp %#x / entry %#x outside the image at %#x+%#x" % (sp, entry, vtor, self.size)
        elif self.WFE not in code or self.SEV not in code:
            self.fault = "no WFE/SEV in the image"
        if self.fault is None:
            self.alive = True
            self.run()

    def stopped(self):
        self.alive = False
        self.word = -1

    def wake(self):
        if self.alive:
            self.run()

    def run(self):
        chip = self.chip
        bus = chip.core1
        while True:
            if self.word < 0:
                if bus[FIFO_ST] & VLD:
                    self.word = bus[FIFO_RD]
                    continue
            elif bus[FIFO_ST] & RDY:
                bus[FIFO_WR] = self.word
                self.word = -1
                self.echoed += 1
                chip.sev(1)
                continue
            if not chip.event[1]:
                return  # asleep in WFE
            chip.event[1] = 0
