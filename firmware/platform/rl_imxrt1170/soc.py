"""i.MX RT1170 system-level set-up for the RPMsg-Lite port, CM7 side: the
openamp conflict check, the MPU region that makes shared memory
non-cacheable, D-cache maintenance by address, and starting the CM4.
Used by rl_imxrt1170 (the platform port); usable on its own too.

Every register access goes through a ``regs`` accessor (rl_regs.HW on the
board, a register-model bus in tests). Nothing here is on a hot path.

Sources (cited next to each fact):
  MP125         = MicroPython 1.25 source (ports/mimxrt).
  hal_nxp       = NXP RT1170 device headers and drivers as in
                  zephyrproject-rtos/hal_nxp mcux/mcux-sdk-ng/devices/RT/RT1170
                  (PERI_MU.h, PERI_SRC.h, PERI_CCM.h, PERI_IOMUXC_LPSR_GPR.h,
                  drivers/fsl_clock.h, fsl_mu.h).
  MCMGR         = NXP mcux-sdk-middleware-multicore 4.1.5, mcmgr/src.
  CMSIS         = Arm CMSIS core_cm7.h (SCB_Type, MPU_Type).
  CM7-GUG       = Arm Cortex-M7 generic user guide, MPU and SCB chapters
                  (sections 2.7.4.1-2.7.4.6): architecture facts to
                  re-check against Arm's own manuals.
"(unverified)" marks what no source confirmed; nothing here was ever run
on hardware.
"""

from micropython import const
import sys

# -- System Control Space (CM7 private peripheral bus) ----------------------
# Addresses are plain globals, not const(): on 32-bit MicroPython a value
# >= 2**30 is a long int, which const() cannot inline.
SCB_BASE = 0xE000ED00  # CMSIS core_cm7.h SCB_Type
MPU_TYPE = 0xE000ED90  # CM7-GUG 2.7.4.1 (DREGION = bits 15:8)
MPU_CTRL = 0xE000ED94  # CMSIS core_cm7.h MPU_Type; MP125 ports/mimxrt/mpmetalport.c L57-65
MPU_RNR = 0xE000ED98  # CMSIS core_cm7.h MPU_Type; MP125 ports/mimxrt/mpmetalport.c L57-65
MPU_RBAR = 0xE000ED9C  # CMSIS core_cm7.h MPU_Type; MP125 ports/mimxrt/mpmetalport.c L57-65
MPU_RASR = 0xE000EDA0  # CMSIS core_cm7.h MPU_Type; MP125 ports/mimxrt/mpmetalport.c L57-65
DCIMVAC = 0xE000EF5C  # invalidate D-cache line by address, CMSIS core_cm7.h SCB_Type
DCCMVAC = 0xE000EF68  # clean D-cache line by address, CMSIS core_cm7.h SCB_Type
DCCIMVAC = 0xE000EF70  # clean and invalidate by address, CMSIS core_cm7.h SCB_Type
CACHE_LINE = const(32)  # D-cache line size, CMSIS core_cm7.h SCB_Type

# MPU_CTRL bits, CM7-GUG 2.7.4.2.
MPU_CTRL_ENABLE = const(1)
MPU_CTRL_HFNMIENA = const(2)
MPU_CTRL_PRIVDEFENA = const(4)
# MPU_RASR fields, CM7-GUG 2.7.4.5 and the TEX/C/B table of 2.7.4.6:
# XN bit 28, AP bits 26:24, TEX bits 21:19, S bit 18, C bit 17, B bit 16,
# SRD bits 15:8, SIZE bits 5:1 (region = 2**(SIZE+1) bytes), ENABLE bit 0.
# TEX=001 C=0 B=0 is "Normal, outer and inner non-cacheable" (S=0: not
# shareable), the same attributes MicroPython's openamp gives its region
# (MP125 ports/mimxrt/mpmetalport.c L63: ARM_MPU_RASR(0, AP_FULL, 1, 0, 0, 0,
# 0, size)). AP=011 is full access. XN=1: nothing executes from shared data.
RASR_ENABLE = const(1)
RASR_XN = const(1 << 28)
RASR_AP_FULL = const(3 << 24)
RASR_TEX1 = const(1 << 19)
RASR_NORMAL_NONCACHEABLE = const(RASR_XN | RASR_AP_FULL | RASR_TEX1)
MPU_MIN_REGION = const(32)  # 2**(SIZE+1) with SIZE >= 4 (ARMv7-M; the brief's rule)

# MPU region this port programs. MicroPython's openamp owns region 10
# (MP125 ports/mimxrt/mpmetalport.c L45-69; MP125 mpmetalport.c L61) and MicroPython mimxrt
# programs no other region (no other MPU code in MP125 ports/mimxrt). 15 is the highest region if
# the MPU has 16 (checked at run time against MPU_TYPE.DREGION), and the
# highest-numbered enabled region wins where regions overlap (CM7-GUG
# 2.7.4.2: "any region that is defined and enabled has priority over [the
# background] map"; priority among regions by number: ARMv7-M, unverified
# here), so our non-cacheable attributes prevail over anything below it.
MPU_REGION = const(15)
OPENAMP_MPU_REGION = const(10)

# -- NXP peripherals ---------------------------------------------------------
MUA_BASE = 0x40C48000  # MU, A side (CM7): hal_nxp MIMXRT1176_cm7.h MUA_BASE
MUB_BASE = 0x40C4C000  # MU, B side (CM4): hal_nxp MIMXRT1176_cm4.h MUB_BASE
MU_SR = const(0x20)  # hal_nxp RT1170 PERI_MU.h (TR0-3 at +0x00, RR0-3 at +0x10)
MU_CR = const(0x24)
IOMUXC_LPSR_GPR_BASE = 0x40C0C000  # hal_nxp MIMXRT1176_cm7.h IOMUXC_LPSR_GPR_BASE
GPR0 = IOMUXC_LPSR_GPR_BASE  # CM4_INIT_VTOR_LOW: boot address bits 15:3 (shift 3, mask 0xFFF8)
GPR1 = IOMUXC_LPSR_GPR_BASE + 4  # CM4_INIT_VTOR_HIGH: boot address >> 16
GPR0_VTOR_LOW_MASK = const(0xFFF8)  # hal_nxp PERI_IOMUXC_LPSR_GPR.h CM4_INIT_VTOR_LOW
SRC_BASE = 0x40C04000  # hal_nxp MIMXRT1176_cm7.h SRC_BASE; SCR +0x0, CTRL_M4CORE +0x284 (PERI_SRC.h)
SRC_SCR = SRC_BASE  # +0x000
SRC_CTRL_M4CORE = SRC_BASE + 0x284
SCR_BT_RELEASE_M4 = const(1)  # bit 0: hal_nxp PERI_SRC.h SRC_SCR_BT_RELEASE_M4_MASK
CTRL_SW_RESET = const(1)  # bit 0, PERI_SRC.h SRC_CTRL_M4CORE_SW_RESET_MASK ("assert slice software reset")
# Whether SW_RESET clears itself is (unverified); MCMGR and MicroPython both
# write it and then set BT_RELEASE_M4 (MCMGR mcmgr_internal_core_api_imxrt1170.c
# L108-121, MP125 ports/mimxrt/mpremoteprocport.c L126-132), and so do we.
CM4_CODE_TCM = 0x20200000  # CM4 code TCM seen from the CM7, 128 KiB (NXP example CORE1_BOOT_ADDRESS)
CM4_CODE_TCM_SIZE = const(0x20000)
# MU clock gate: LPCG index 20 (kCLOCK_Mu_A, hal_nxp fsl_clock.h clock_lpcg_t)
# of the CCM at 0x40CC0000, whose LPCG array starts at +0x6000 with a step
# of 0x20: DIRECT at +0x0 (ON = bit 0), STATUS0 at +0x10 (ON = bit 0, read
# only) (hal_nxp RT1170 PERI_CCM.h, CCM_Type LPCG[], CCM_LPCG_DIRECT_ON_MASK
# and CCM_LPCG_STATUS0_ON_MASK). CLOCK_ControlGate writes DIRECT, then spins
# until STATUS0.ON matches (hal_nxp mcux-sdk-ng
# devices/RT/RT1170/MIMXRT1176/drivers/fsl_clock.h, CLOCK_ControlGate).
LPCG_MU_A_DIRECT = 0x40CC0000 + 0x6000 + 20 * 0x20  # 0x40CC6280
LPCG_MU_A_STATUS0 = LPCG_MU_A_DIRECT + 0x10
LPCG_DIRECT_ON = const(1)
LPCG_STATUS0_ON = const(1)
# MU CR bits the conflict check looks at (hal_nxp RT1170 PERI_MU.h: index 0 is the
# most significant bit of each 4-bit field).
CR_GIE0 = 1 << 31  # openamp's doorbell enable (MP125 ports/mimxrt/mpmetalport.c L45-69)
CR_GIE1 = 1 << 30
CR_RIE3 = const(1 << 24)  # MCMGR's channel-3 receive interrupt (mcmgr_internal_core_api_imxrt1170.c L79-106)
SR_TE_SHIFT = const(20)  # TEn, bits 23:20


class PlatformConflict(RuntimeError):
    """Another driver (MicroPython's openamp, usually) owns resources this
    port needs."""


def _nop():
    return 0


def load_barriers():
    """(dsb, dsb_isb, real): barrier functions and whether they are real
    instructions. On the board they are inline assembler; where the inline
    Thumb assembler does not exist (the unix port, CPython) both are no-ops
    (real=False), which is only right for register models. On mimxrt a
    missing assembler is an error rather than a silent no-op."""
    try:
        from .barrier import dsb, dsb_isb

        dsb()  # CPython's shim raises NotImplementedError here
        return dsb, dsb_isb, True
    except (ImportError, SyntaxError, NotImplementedError):
        pass
    if sys.platform == "mimxrt":  # MP125 ports/mimxrt/mpconfigport.h L65
        raise RuntimeError(
            "rl_imxrt1170 needs @micropython.asm_thumb for DSB/ISB barriers (import "
            "rl_imxrt1170_barrier failed): use a build with MICROPY_EMIT_INLINE_THUMB"
        )
    return _nop, _nop, False


# -- the openamp conflict ---------------------------------------------------


def _mpu_region_enabled(regs, region):
    """(enabled, rbar, rasr) of an MPU region; MPU_RNR is restored."""
    saved = regs.field(MPU_RNR, 0, 8)
    regs.write(MPU_RNR, region)
    rasr = regs.read(MPU_RASR)
    rbar = regs.read(MPU_RBAR)
    regs.write(MPU_RNR, saved)
    return bool(rasr & RASR_ENABLE), rbar & ~0x1F, rasr


def openamp_conflict(regs, modules=None):
    """A sentence per sign that MicroPython's built-in openamp module is or
    was active in this boot, or [] when none is found.

    The built-in C module does not appear in sys.modules on MicroPython (a
    built-in import returns the module without registering it, MP125
    py/builtinimport.c L394-411), so the hardware it programs on first use
    is the real evidence: metal_sys_init sets GIE0 in MUA CR and enables MPU
    region 10 (MP125 ports/mimxrt/mpmetalport.c L45-69; MP125 ports/mimxrt/mpmetalport.c L45-69).
    Both survive a soft reset, and so does its MUA interrupt handler, which
    clears GIP0 and schedules openamp's callback."""
    if modules is None:
        modules = sys.modules
    found = []
    if "openamp" in modules:
        found.append("the openamp module is imported")
    mu_cr = MUA_BASE + MU_CR
    if regs.test(mu_cr, CR_GIE0):
        found.append("MU A general-purpose interrupt 0 is enabled (GIE0, CR bit 31), as openamp's metal_sys_init leaves it")
    # Selecting a region the MPU does not have is not allowed (MPU_RNR,
    # CM7-GUG 2.7.4.3), so look at region 10 only if it exists.
    enabled = False
    if regs.field(MPU_TYPE, 8, 8) > OPENAMP_MPU_REGION:
        enabled, rbar, rasr = _mpu_region_enabled(regs, OPENAMP_MPU_REGION)
    if enabled:
        found.append(
            "MPU region 10 is enabled (base %#x, RASR %#x), as openamp programs it for its shared memory"
            % (rbar, rasr)
        )
    return found


def check_openamp(regs, modules=None):
    """Raise PlatformConflict if openamp is (or was, this boot) active, or
    if another driver has taken the MU A interrupts this port relies on."""
    found = openamp_conflict(regs, modules)
    if found:
        raise PlatformConflict(
            "rl_imxrt1170 cannot run beside MicroPython's built-in openamp module: "
            + "; ".join(found)
            + ". openamp owns MU A general-purpose interrupt 0 (GIE0/GIP0) and the MUA interrupt "
            "handler, which would swallow this port's doorbells, and MPU region 10; it also lays out "
            "its own vrings with offset-based descriptors that a C RPMsg-Lite remote cannot read. "
            "Do not import or use openamp in this session: reset the board (machine.reset(); a soft "
            "reset leaves GIE0 and MPU region 10 programmed) and use only rl_imxrt1170."
        )
    mu_cr = MUA_BASE + MU_CR
    if regs.test(mu_cr, CR_GIE1) or regs.test(mu_cr, CR_RIE3):
        raise PlatformConflict(
            "MU A interrupts are enabled (GIE1 or RIE3 in CR %#x): another driver on this core "
            "owns the MU doorbells this port polls. Reset the board and use only rl_imxrt1170."
            % regs.read(mu_cr)
        )


# -- MU ---------------------------------------------------------------------


def enable_mu_clock(regs, polls=10000):
    """Open the MU A clock gate the way CLOCK_EnableClock(kCLOCK_Mu_A) does
    (MU_Init in C): write DIRECT.ON if it is off, then poll STATUS0 until
    the gate reports on. Returns the number of STATUS0 reads; raises
    RuntimeError if it never does (the gate may be owned by another domain
    or a setpoint mode, where DIRECT has no effect: fsl_clock.h note on
    CLOCK_ControlGate). Call it before touching any MU register."""
    if not regs.test(LPCG_MU_A_DIRECT, LPCG_DIRECT_ON):
        regs.write(LPCG_MU_A_DIRECT, LPCG_DIRECT_ON)
    n = 0
    while not regs.test(LPCG_MU_A_STATUS0, LPCG_STATUS0_ON):
        n += 1
        if n >= polls:
            raise RuntimeError(
                "the MU A clock gate (LPCG 20, DIRECT %#x) did not report ON in STATUS0 after %d reads: "
                "its gate may be in CPULPM or setpoint mode (another core or the boot ROM set it)"
                % (LPCG_MU_A_DIRECT, polls)
            )
    return n + 1


def mu_responds(regs):
    """True if MU A looks alive: at least one TEn bit set in SR. Only
    channel 3 is ever written (by MCMGR and this port), so TE0-TE2 stay set
    ("TRn empty", the reset default in NXP MU headers; not checked in the
    RT1170 header). Only call it with the clock on (enable_mu_clock): what a
    gated MU does (read 0, or bus fault) is (unverified)."""
    return regs.field(MUA_BASE + MU_SR, SR_TE_SHIFT, 4) != 0


# -- MPU --------------------------------------------------------------------


def mpu_region_size(base, length):
    """(size, SIZE field) of the smallest MPU region that covers [base,
    base + length): a power of two >= 32 bytes, with base aligned to it
    (CM7-GUG 2.7.4.4/2.7.4.5). ValueError when base is not aligned."""
    if length <= 0:
        raise ValueError("MPU region length must be positive")
    size = MPU_MIN_REGION
    field = 4
    while size < length:
        size <<= 1
        field += 1
    if field > 31:
        raise ValueError("%d bytes is too large for one MPU region" % length)
    if base & (size - 1):
        raise ValueError(
            "shared memory at %#x is not aligned to its MPU region size %#x (%d bytes rounded up to a "
            "power of two): an ARMv7-M MPU region must start on a multiple of its size. Move the "
            "region to a %#x-aligned address." % (base, size, length, size)
        )
    return size, field


def mpu_noncacheable_values(base, length):
    """(RBAR, RASR) for a normal non-cacheable, execute-never region."""
    size, field = mpu_region_size(base, length)
    return base, RASR_NORMAL_NONCACHEABLE | (field << 1) | RASR_ENABLE


def program_mpu_noncacheable(regs, region, base, length, sync):
    """Make [base, base + length) normal non-cacheable on this core with MPU
    region ``region``. Returns (rbar, rasr, size).

    Sequence (CMSIS core_cm7.h MPU_Type; MP125 ports/mimxrt/mpmetalport.c L57-65, as openamp's metal_sys_init):
    clean+invalidate the D-cache over the range (dirty lines written while it
    was cacheable would otherwise be evicted over the peer's data later),
    DSB, disable the MPU, RNR/RBAR/RASR, enable with PRIVDEFENA (keeping
    HFNMIENA as it was), DSB+ISB. Refuses region 10 (openamp's), a region
    the MPU does not have, and an enabled region holding something else; an
    identical region left by an earlier session is kept as it is."""
    if region == OPENAMP_MPU_REGION:
        raise ValueError("MPU region 10 belongs to MicroPython's openamp module: choose another (default 15)")
    regions = regs.field(MPU_TYPE, 8, 8)
    if not 0 <= region < regions:
        raise ValueError("MPU region %d does not exist: MPU_TYPE.DREGION says %d regions" % (region, regions))
    rbar, rasr = mpu_noncacheable_values(base, length)
    size = 2 << ((rasr >> 1) & 0x1F)
    enabled, old_rbar, old_rasr = _mpu_region_enabled(regs, region)
    if enabled:
        if old_rbar != rbar or old_rasr != rasr:
            raise PlatformConflict(
                "MPU region %d is already in use (base %#x, RASR %#x): pass mpu_region= a free region"
                % (region, old_rbar, old_rasr)
            )
        if regs.test(MPU_CTRL, MPU_CTRL_ENABLE):
            return rbar, rasr, size  # ours, from an earlier session: nothing to do
    clean_invalidate_dcache(regs, base, size, sync)
    keep = regs.read(MPU_CTRL) & MPU_CTRL_HFNMIENA
    regs.write(MPU_CTRL, 0)
    sync()
    regs.write(MPU_RNR, region)
    regs.write(MPU_RBAR, rbar)
    regs.write(MPU_RASR, rasr)
    regs.write(MPU_CTRL, MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA | keep)
    sync()
    return rbar, rasr, size


# -- D-cache maintenance by address -------------------------------------------


def _by_line(regs, op, addr, n, sync):
    line = addr & ~(CACHE_LINE - 1)
    end = addr + n
    while line < end:
        regs.write(op, line)
        line += CACHE_LINE
    sync()


def clean_dcache(regs, addr, n, sync):
    """Write dirty D-cache lines over [addr, addr + n) to memory (DCCMVAC)."""
    _by_line(regs, DCCMVAC, addr, n, sync)


def invalidate_dcache(regs, addr, n, sync):
    """Drop D-cache lines over [addr, addr + n) (DCIMVAC). Lines are 32
    bytes: data sharing a line at either end is dropped too."""
    _by_line(regs, DCIMVAC, addr, n, sync)


def clean_invalidate_dcache(regs, addr, n, sync):
    """Clean, then drop, the D-cache lines over [addr, addr + n) (DCCIMVAC)."""
    _by_line(regs, DCCIMVAC, addr, n, sync)


# -- the CM4 --------------------------------------------------------------------


def cm4_released(regs):
    """True once SRC_SCR.BT_RELEASE_M4 is set: the CM4 runs (or ran) this
    boot. Nothing but a chip reset stops it again (MCMGR's mcmgr_stop_core_internal
    returns NotImplemented: mcmgr_internal_core_api_imxrt1170.c L163-167)."""
    return bool(regs.test(SRC_SCR, SCR_BT_RELEASE_M4))


def check_cm4_image(image):
    """Catch files that are not a raw CM4 binary."""
    if len(image) < 8:
        raise ValueError("a CM4 image must start with a vector table (at least 8 bytes)")
    if bytes(image[:4]) == b"\x7fELF":
        raise ValueError("this is an ELF file: pass the raw binary (arm-none-eabi-objcopy -O binary)")
    reset = image[4] | image[5] << 8 | image[6] << 16 | image[7] << 24
    # ARMv7-M vector table: word 1 is the reset handler, a Thumb address
    # with bit 0 set (ARMv7-M ARM; not in the project docs).
    if not reset & 1:
        raise ValueError(
            "word 1 of the image (%#x) is not a Thumb reset vector: not a Cortex-M vector table" % reset
        )


def start_cm4(regs, boot_address, sync, image=None, ram=None):
    """Release the CM4 from reset at ``boot_address`` (a CM7-side address,
    8-byte aligned), after copying ``image`` (bytes of a raw binary) there.

    Sequence (MCMGR mcmgr_internal_core_api_imxrt1170.c L108-121, as MCMGR_StartCore and MicroPython's
    remoteproc start): refuse if BT_RELEASE_M4 is set; copy and clean the
    D-cache over the image; GPR0 = boot & 0xFFF8 and GPR1 = boot >> 16
    (read back, like MP125 mpremoteprocport.c L126-129); CTRL_M4CORE =
    SW_RESET; SCR |= BT_RELEASE_M4."""
    if cm4_released(regs):
        raise RuntimeError(
            "the CM4 is already released (SRC_SCR.BT_RELEASE_M4 is set): it cannot be stopped or "
            "restarted without resetting the chip (MCMGR cannot stop it either). Reset the board, or "
            "attach to the running CM4 firmware instead of starting it"
        )
    if not 0 <= boot_address <= 0xFFFFFFFF or boot_address & 7:
        raise ValueError("the CM4 boot address %#x must be 8-byte aligned (GPR0 holds bits 15:3)" % boot_address)
    if image is not None:
        check_cm4_image(image)
        n = len(image)
        tcm_end = CM4_CODE_TCM + CM4_CODE_TCM_SIZE
        if CM4_CODE_TCM <= boot_address < tcm_end and boot_address + n > tcm_end:
            raise ValueError(
                "a %d-byte image at %#x does not fit the CM4 code TCM (%#x-%#x)"
                % (n, boot_address, CM4_CODE_TCM, tcm_end - 1)
            )
        if ram is None:
            raise ValueError("copying a CM4 image needs ram (e.g. uctypes.bytearray_at)")
        ram(boot_address, n)[:] = image
        clean_dcache(regs, boot_address, n, sync)
    regs.write(GPR0, boot_address & GPR0_VTOR_LOW_MASK)
    regs.read(GPR0)
    regs.write(GPR1, boot_address >> 16)
    regs.read(GPR1)
    regs.write(SRC_CTRL_M4CORE, CTRL_SW_RESET)
    regs.write(SRC_SCR, regs.read(SRC_SCR) | SCR_BT_RELEASE_M4)
