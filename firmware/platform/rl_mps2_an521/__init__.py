"""Platform port for QEMU's mps2-an521: two Cortex-M33 cores of an ARM
SSE-200 with shared SRAM and Message Handling Units (MHU).

Each core runs its own firmware (MicroPython, or C RPMsg-Lite); this port is
the MicroPython side on either core. Doorbells are MHU0 bits rung through
``machine.mem32``: bit v is the RPMsg-Lite vector id v = (link_id << 1) |
vring, so MHU0's four valid bits carry links 0 and 1. Waiting sleeps in WFI
until this core's MHU0 interrupt or SysTick (the timeout) is pending, then
polls: never spin, because under ``-icount`` QEMU runs the two cores in turn
and a spinning core keeps the other one off the CPU.

    import rl_mps2_an521 as an
    port = an.AN521Port()              # Config(buffer_count=16) at SHM_BASE
    port.start_core1()                 # core 0 only: release core 1
    link = port.master()               # or port.remote() on core 1
    port.wait(10)                      # deliver doorbells (sleeps in WFI)

Register facts (secure aliases; the SAU is left disabled as after reset, so
the 0x4... and 0x5... aliases both reach every peripheral) come from QEMU
7.2's model of the board: hw/arm/mps2-tz.c (memory map, IRQ numbers),
hw/arm/armsse.c (SSE-200 layout, MHUs at 0x50003000/0x50004000, IRQ 6/7,
CPU_IDENTITY at 0x5001F000), hw/misc/armsse-mhu.c (MHU registers),
hw/misc/iotkit-sysctl.c (INITSVTOR1, CPUWAIT), and the ARMv8-M architecture
reference (NVIC, SysTick, WFI); each was checked on this machine (README,
"Emulated dual-core board").
"""

from micropython import const
import micropython
import machine
import uctypes

from rpmsg_lite import env
from rpmsg_lite.port import Port, WRAP
from .sleep import sleep as _sleep

# -- memory ------------------------------------------------------------------
# Shared SRAM: the SSE-200's internal SRAM, 4 banks of 32 KiB, secure alias
# (hw/arm/armsse.c "sram" at 0x20000000, alias 0x30000000). Neither core's
# firmware links anything there (boards/qemu_mps2_an521/core*.ld).
SHM_BASE = 0x30000000
SHM_SIZE = const(0x20000)
# Core 1's vector table: code SSRAM1 from 0x10200000 (core1.ld).
CORE1_VTOR = 0x10200000

# -- SSE-200 system control (hw/misc/iotkit-sysctl.c, base 0x50021000) --------
_INITSVTOR1 = 0x50021114  # core 1's secure VTOR at reset (reset 0x10000000)
_CPUWAIT = 0x50021118  # bit n set: CPU n is held at reset (reads 0x2 at boot)
_CPU_IDENTITY = 0x5001F000  # hw/misc/armsse-cpuid.c: 0 on core 0, 1 on core 1

# -- MHU0 (hw/misc/armsse-mhu.c, base 0x50003000) ---------------------------
# CPU0INTR_STAT +0x00, _SET +0x04, _CLR +0x08; CPU1INTR_* at +0x10..+0x18.
# CPUnINTR_STAT != 0 raises MHU0's IRQ (6) on CPU n; the level stays high
# until CPU n writes the bits to _CLR, so a ring is never lost, only merged
# with one that is still pending (a notification means "look at this
# vring", so that is harmless).
_MHU0 = 0x50003000
_MHU_BITS = const(4)
_MHU_IRQ = const(6)

# -- NVIC and SysTick of the core that runs this (ARMv8-M ARM, B3 / B11) -----
_NVIC_ISER0 = 0xE000E100
_NVIC_ICPR0 = 0xE000E280
# SysTick counts the processor clock (CSR.CLKSOURCE = 1): the board's 20 MHz
# SYSCLK (hw/arm/mps2-tz.c), 20 000 ticks per ms; the reload is 24 bits.
_TICKS_PER_MS = const(20000)
_MAX_WAIT_MS = const(800)


@micropython.viper
def _take(stat: int, mask: int) -> int:
    # This core's MHU0 bits in mask, cleared: the MHU bits first (CLR is
    # STAT + 8), then the NVIC pending bit of IRQ 6; in the other order the
    # still-high level pends the IRQ again and WFI stops sleeping. One viper
    # call: service() runs on every wait, and three mem32 accesses from
    # Python cost several times as much.
    bits = ptr32(stat)[0] & mask
    if bits:
        ptr32(stat + 8)[0] = bits
        ptr32(0xE000E280)[0] = 1 << 6  # NVIC ICPR0, IRQ 6
    return bits


def core_id():
    """0 on core 0, 1 on core 1."""
    return machine.mem32[_CPU_IDENTITY] & 1


def core1_held():
    """True while core 1 is still held at reset (CPUWAIT bit 1)."""
    return bool(machine.mem32[_CPUWAIT] & 2)


def start_core1(vtor=CORE1_VTOR):
    """Release core 1 from reset with its vector table at vtor (SP and PC
    are loaded from it). Returns False if core 1 was already running: it
    cannot be reset from here, only QEMU's restart does that."""
    if not core1_held():
        return False
    machine.mem32[_INITSVTOR1] = vtor
    machine.mem32[_CPUWAIT] = machine.mem32[_CPUWAIT] & ~2
    return True


class AN521Port(Port):
    """The port of one core (a ``rpmsg_lite.port.Port``): MHU0 doorbells,
    WFI waits, the shared SRAM as ``region(link_id)``. ``config`` is the
    links' rpmsg_lite Config (default: 16 buffers of 496 bytes, VRING_ALIGN
    0x10), which must match the other core's (RL_BUFFER_COUNT,
    RL_BUFFER_PAYLOAD_SIZE, VRING_ALIGN of a C peer)."""

    def __init__(self, config=None, core=None):
        if config is None:
            from rpmsg_lite import Config

            config = Config(buffer_count=16)
        Port.__init__(self, config)
        self.core = core_id() if core is None else core
        other = 1 - self.core
        self._stat = _MHU0 + 0x10 * self.core  # our CPUnINTR_STAT
        self._clr = self._stat + 8
        self._set = _MHU0 + 0x10 * other + 4  # the other core's CPUnINTR_SET
        self._attached = 0  # bit v set: vector v has a link to go to
        self.notified = 0
        self.received = 0
        self.sleeps = 0
        self.wakeups = 0  # WFI returns while sleeping: about one per sleep
        # Our MHU0 IRQ may pend (and so end WFI); PRIMASK keeps it from
        # being taken (the firmware has no handler for it).
        machine.mem32[_NVIC_ISER0] = 1 << _MHU_IRQ

    def region(self, link_id):
        """The shared memory of link link_id: consecutive regions from
        SHM_BASE, each the config's shm_size."""
        size = self.config.shm_size
        if not 0 <= link_id < _MHU_BITS // 2 or (link_id + 1) * size > SHM_SIZE:
            raise ValueError("shared SRAM holds links 0..%d of %d bytes" % (min(SHM_SIZE // size, 2) - 1, size))
        return uctypes.bytearray_at(SHM_BASE + link_id * size, size)

    def notify(self, vector_id):
        if not 0 <= vector_id < _MHU_BITS:
            raise ValueError("MHU0 carries vectors 0..3 (links 0 and 1), not %r" % (vector_id,))
        machine.mem32[self._set] = 1 << vector_id
        self.notified = (self.notified + 1) & WRAP

    def attach(self, link):
        if not 0 <= link.link_id < _MHU_BITS // 2:
            raise ValueError("MHU0 carries links 0 and 1, not %d" % link.link_id)
        Port.attach(self, link)
        self._attached |= 3 << (2 * link.link_id)

    def detach(self, link):
        if self.links.get(link.link_id) is link:
            self._attached &= ~(3 << (2 * link.link_id))
        Port.detach(self, link)

    def service(self):
        """Deliver the rung doorbells of attached links (allocation-free).
        Bits of links not attached yet stay set until they are: the
        master's init kick waits in the MHU for a remote that starts late."""
        bits = _take(self._stat, self._attached)
        if not bits:
            return 0
        done = 0
        v = 0
        while bits:
            if bits & 1 and self.dispatch(v):
                done += 1
            bits >>= 1
            v += 1
        self.received = (self.received + done) & WRAP
        return done

    def wait(self, ms):
        """Deliver doorbells; if there were none, sleep in WFI until one
        rings or ms pass (at most 800 ms per call), then deliver."""
        if self.service() or ms <= 0:
            return
        self.sleeps = (self.sleeps + 1) & WRAP
        r = _sleep(self.core, (ms if ms < _MAX_WAIT_MS else _MAX_WAIT_MS) * _TICKS_PER_MS)
        self.wakeups = (self.wakeups + (r >> 4)) & WRAP
        if r & 0xF:
            self.service()
        else:
            # A timeout: let the stack's clock see the time pass (this
            # firmware has no time module, so rpmsg_lite.env's clock only
            # moves when the stack sleeps, and sleeping there costs nothing).
            env.sleep_ms(ms)

    def pending(self):
        """This core's MHU0 bits, delivered or not."""
        return machine.mem32[self._stat] & 0xF

    def start_core1(self, vtor=CORE1_VTOR):
        return start_core1(vtor)

    def stats(self):
        return {
            "notified": self.notified,
            "received": self.received,
            "sleeps": self.sleeps,
            "wakeups": self.wakeups,
            "pending": self.pending(),
        }
