"""RP2040 (and the RP2350 doorbell) hardware facts used by the rl_rp2040
ports, in one place so each can be checked against its source.

Sources: pico-sdk 2.1.1 (the version MicroPython 1.25 pins), register
headers under src/rp2040/hardware_regs/include/hardware/regs/ (sio.h,
addressmap.h, intctrl.h, m0plus.h, psm.h, pio.h; the rp2350 ones for the
doorbells) and src/rp2_common/pico_multicore/ ("SDK file Lnn"); the RP2040
boot ROM (raspberrypi/pico-bootrom-rp2040, bootrom/bootrom_rt0.S); and
MicroPython 1.25 ("MP125 file Lnn"). Nothing here was read from hardware:
boards/rpi_pico/selftest.py checks them on a board.
"""

from micropython import const

# -- SIO (addressmap.h L77, sio.h) -------------------------------------------
SIO_BASE = 0xD0000000
SIO_CPUID = 0xD0000000  # +0x000: 0 on core 0, 1 on core 1 (sio.h L18-23)
SIO_FIFO_ST = 0xD0000050  # +0x050 (sio.h L257)
SIO_FIFO_WR = 0xD0000054  # +0x054: push to this core's TX FIFO (sio.h L299)
SIO_FIFO_RD = 0xD0000058  # +0x058: pop from this core's RX FIFO (sio.h L308)
SIO_SPINLOCK_ST = 0xD000005C  # +0x05C: bitmap of the 32 spinlocks
SIO_SPINLOCK0 = 0xD0000100  # +0x100..+0x17C: read claims, write releases (sio.h L1155)

# FIFO_ST bits (sio.h L257-297). VLD: RX not empty; RDY: TX not full (both
# read only). WOF: TX written while full; ROE: RX read while empty (both
# sticky). Writing ANY value clears both (pico/multicore.h L273-276,
# multicore_fifo_clear_irq). Reset value 0x2.
FIFO_VLD = const(0x1)
FIFO_RDY = const(0x2)
FIFO_WOF = const(0x4)
FIFO_ROE = const(0x8)
FIFO_STICKY = const(0xC)
FIFO_DEPTH = const(8)  # two FIFOs, one per direction, 8 words deep (sio.h L247-255)

# The core's SIO IRQ is the OR of VLD, WOF and ROE; each core sees its own
# (intctrl.h L31-32).
SIO_IRQ_PROC0 = const(15)
SIO_IRQ_PROC1 = const(16)

# -- per-core NVIC (m0plus.h L153, L174, L221) -------------------------------
NVIC_ISER = 0xE000E100  # write 1: enable; read: enabled set
NVIC_ICER = 0xE000E180  # write 1: disable; read: enabled set
NVIC_ICPR = 0xE000E280  # write 1: clear pending

# -- PSM: forcing core 1 off (addressmap.h L47, psm.h L143-149) --------------
PSM_BASE = 0x40010000
PSM_FRCE_OFF = 0x40010004  # +0x4
PSM_PROC1 = const(0x10000)
# Atomic aliases of APB/AHB registers: +0x1000 XOR, +0x2000 SET, +0x3000 CLR
# (SDK hardware/address_mapped.h REG_ALIAS_*; not for SIO). The SDK resets
# core 1 through them (multicore.c L101-111): the other FRCE_OFF bits stay
# alone even if core 1 touches the PSM at the same moment.
ALIAS_SET = const(0x2000)
ALIAS_CLR = const(0x3000)

# -- core-1 boot ROM launch (SDK multicore.c L171-203) ------------------------
# Core 0 sends 0, 0, 1, VTOR, SP, entry; each word must come back as the
# echo; on a mismatch it starts again. Before each 0 it drains its RX FIFO
# and issues SEV, and every push is followed by SEV (pico/multicore.h
# L189-192): the boot ROM waits in WFE first and looks at its FIFO second
# (bootrom_rt0.S L381-386, receive_and_check_zero). After a PSM reset the
# boot ROM drains its FIFO and pushes one 0 to core 0 (bootrom_rt0.S
# L333-348); it answers any word but 0 and 1 at the command step with a
# fresh 0 (L349-351).

# -- MicroPython's multicore lockout (SDK multicore.c L205-226, L260-285) ----
LOCKOUT_MAGIC_START = 0x73A8831E
LOCKOUT_MAGIC_END = 0x8C577CE1  # the bitwise inverse of START

# -- PIO (addressmap.h L74-75, pio.h L340-353) --------------------------------
PIO_BASES = (0x50200000, 0x50300000)  # PIO0, PIO1
PIO_IRQ_FORCE = const(0x034)  # write 1 << k: set PIO IRQ flag k
# Only flags 0..3 reach the system IRQ lines (pio.h L2139-2166:
# IRQ0_INTE has SM0..SM3 at bits 8-11).
PIO_SYSTEM_FLAGS = const(4)

# -- RP2350 SIO doorbells (rp2350 sio.h L1936-1984, intctrl.h L41-42) ---------
# Writing 1s to DOORBELL_OUT_SET sets them in the other core's DOORBELL_IN,
# which raises its SIO_IRQ_BELL (26); the receiver clears bits by writing 1s
# to DOORBELL_IN_CLR. 8 bits. Neither the SDK nor MicroPython uses them, and
# they do not share the lockout's IRQ (SIO_IRQ_FIFO, 25).
DOORBELL_OUT_SET = 0xD0000180
DOORBELL_OUT_CLR = 0xD0000184
DOORBELL_IN_SET = 0xD0000188
DOORBELL_IN_CLR = 0xD000018C
DOORBELL_BITS = const(8)
RP2350_SIO_IRQ_FIFO = const(25)
RP2350_SIO_IRQ_BELL = const(26)


def is_rp2350():
    """True when MicroPython says it runs on an RP2350. Best effort (an
    inference, not from the docs): sys.implementation._machine reads
    "<board> with <MCU>" and the rp2 port's MCU name is "RP2040" or
    "RP2350"; elsewhere (unix port, CPython) this is False."""
    import sys

    return "RP2350" in getattr(sys.implementation, "_machine", "")


MIN_MICROPYTHON = (1, 25)


def check_micropython(impl=None, platform=None):
    """Refuse MicroPython older than 1.25 on an rp2 board (ImportError).
    Before 1.25 a flash write after a soft reset locks up once core 1 was
    used: the lockout-victim flag of core 1 survives the soft reset
    (MicroPython issue 16619, pico-sdk issue 2201; fixed in 1.25 by
    use_multicore_lockout() with pico-sdk 2.1.1, MP125 ports/rp2/rp2_flash.c
    L95-101), and 1.23 runs scheduled callbacks on either core (main-thread
    only since 1.24, MP125 py/scheduler.c L240-246). Elsewhere (unix port,
    CPython) nothing is checked."""
    import sys

    if impl is None:
        impl = sys.implementation
    if platform is None:
        platform = sys.platform
    if platform != "rp2" or impl.name != "micropython":
        return
    version = tuple(impl.version[:2])
    if version < MIN_MICROPYTHON:
        raise ImportError(
            "rl_rp2040 needs MicroPython >= 1.25 (this is %d.%d): older rp2 firmware locks up flash writes "
            "after a soft reset once core 1 was used (MicroPython issue 16619), and 1.23 may run soft "
            "callbacks on core 1. Update the firmware." % version
        )


def port_defaults(config, regs):
    """(config, regs) with None replaced by what a port on the chip uses:
    the default Config and the real registers (rl_regs.HW)."""
    if regs is None:
        from rpmsg_lite import regs as rl_regs

        regs = rl_regs.HW
    if config is None:
        from rpmsg_lite.config import Config

        config = Config()
    return config, regs


# -- memory -----------------------------------------------------------------------


def pinned_buffer(size, align):
    """A ``size``-byte memoryview whose address is a multiple of ``align``
    (a power of two), inside a bytearray allocated with room to slide.

    MicroPython's GC never moves a block (mark-sweep, no compaction), so
    the address stays valid for as long as the view (which references the
    bytearray) is alive; the bytearray must never be grown. GC blocks are 16
    bytes, so 16-byte alignment is free and larger VRING_ALIGN values need
    the padding. Returns (bytearray, view): keep a reference to either."""
    import uctypes

    if align < 4 or align & (align - 1):
        raise ValueError("align must be a power of two >= 4, got %r" % (align,))
    raw = bytearray(size + align)
    pad = (-uctypes.addressof(raw)) & (align - 1)
    return raw, memoryview(raw)[pad : pad + size]
