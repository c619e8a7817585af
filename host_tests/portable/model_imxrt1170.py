"""Register models of the i.MX RT1170 parts the rl_imxrt1170 port touches,
and a simulated CM4 running NXP-style firmware. Portable (CPython and
MicroPython).

    soc = RT1170(mode="mcmgr")          # or "gir"
    port = IMXRT1170(regs=soc.cm7, ram=soc.ram, idle=soc.step, ...)

Models (every device follows the register-bus protocol read(offset, width)
/ write(offset, width, value), so the same objects map onto a regbus.Bus or
the CPython shim's AddressSpace):
  MessagingUnit        the MU as a pair of sides, mu.a (CM7, 0x40C48000) and
                       mu.b (CM4, 0x40C4C000): TR/RR/SR/CR (hal_nxp RT1170 PERI_MU.h)
  Registers            plain read/write registers (IOMUXC_LPSR_GPR)
  ClockGate            the MU A LPCG (0x40CC6280): DIRECT.ON at +0x0, read-only
                       STATUS0.ON at +0x10 that follows DIRECT only after
                       ``lag`` reads (hal_nxp RT1170 PERI_CCM.h CCM_Type LPCG[];
                       fsl_clock.h CLOCK_ControlGate polls STATUS0). While
                       STATUS0 is off the MU A side is unclocked: it reads 0
                       and ignores writes (counted in mu.gated_accesses; on
                       silicon it might fault instead: unverified). Off at
                       reset in the model (the worst case; the real reset
                       value is unverified).
  ResetController      SRC: SCR (BT_RELEASE_M4 starts the CM4) and
                       CTRL_M4CORE (hal_nxp PERI_SRC.h; MCMGR mcmgr_internal_core_api_imxrt1170.c L108-121)
  SystemControlSpace   SCB/MPU registers and D-cache maintenance by address
                       (CMSIS core_cm7.h SCB_Type/MPU_Type), recording what was programmed
  SimulatedCM4         released by the SRC model, it runs MCMGR's boot
                       handshake (MCMGR mcmgr.c L60-198) in MCMGR mode only:
                       a GIR-mode image (RL_USE_MCMGR_IPC_ISR_HANDLER=0) has
                       no MCMGR MU path (rpmsg-lite rpmsg_platform.c L56-84
                       define MUA/MUB_IRQHandler, as MCMGR's
                       mcmgr_mu_internal.c does), so NXP's example inits at a
                       fixed RPMSG_LITE_SHMEM_BASE and sends no MCMGR word.
                       Then this project's
                       RPMsgLite as the REMOTE on the shared memory named by
                       the startup data, standing in for the C pingpong
                       remote: signals RemoteApplication 1, announces
                       "rpmsg-openamp-demo-channel" from endpoint 30 and runs
                       an application (PingPongApp, EchoApp or a counter)

The models take their addresses and bit positions from the docs, not from
the port, so a wrong constant in the port fails the tests. Nothing here runs
by itself: the CM4 advances one step per RT1170.step() call, so tests are
deterministic and need no threads. The MU paths the heap-lock test runs
(TR/RR/SR/CR accesses with logging off, through DirectBus, and
SimulatedCM4.service_mu and its notify) allocate nothing.
"""

from regbus import Bus
from linkpair import Counter
from rpmsg_lite import RPMsgLite, Config, RPMsgError, RELEASE, NS_CREATE
from rpmsg_lite.port import Port

# Addresses: hal_nxp RT1170 device headers (MIMXRT1176_cm7.h / _cm4.h peripheral base
# addresses), MicroPython's MIMXRT1176.ld and NXP's pingpong example for the RAM.
MUA_BASE = 0x40C48000
MUB_BASE = 0x40C4C000
MU_SIZE = 0x4000
GPR_BASE = 0x40C0C000
SRC_BASE = 0x40C04000
SCS_BASE = 0xE000ED00
SCS_SIZE = 0x300
LPCG_MU_A = 0x40CC6280  # CCM 0x40CC0000 + LPCG 0x6000 + 20 * 0x20 (hal_nxp PERI_CCM.h, fsl_clock.h kCLOCK_Mu_A)
OCRAM2 = 0x202C0000
CM4_TCM = 0x20200000
CM4_TCM_SIZE = 0x20000

# MU register offsets and fields (hal_nxp RT1170 PERI_MU.h).
TR0 = 0x00
RR0 = 0x10
SR = 0x20
CR = 0x24
GIP_SHIFT = 28
RF_SHIFT = 24
TE_SHIFT = 20
GIR_SHIFT = 16
CR_MUR = 1 << 5

# SRC (hal_nxp PERI_SRC.h: SCR +0x000, CTRL_M4CORE +0x284; used as in MCMGR
# mcmgr_internal_core_api_imxrt1170.c L108-121).
SCR = 0x000
CTRL_M4CORE = 0x284

# SCS offsets from 0xE000ED00 (CMSIS core_cm7.h SCB_Type, MPU_Type; MPU_TYPE per the Cortex-M7
# generic user guide 2.7.4.1).
MPU_TYPE = 0x90
MPU_CTRL = 0x94
MPU_RNR = 0x98
MPU_RBAR = 0x9C
MPU_RASR = 0xA0
CACHE_OPS = {0x25C: "DCIMVAC", 0x268: "DCCMVAC", 0x270: "DCCIMVAC"}

# MCMGR event types (MCMGR mcmgr/src/mcmgr.h L92-102).
EV_CORE_UP = 1
EV_STARTUP_DATA = 4
EV_FEED_STARTUP_DATA = 5
EV_RPMSG = 6
EV_APPLICATION = 7
NS_NAME = "rpmsg-openamp-demo-channel"  # the pingpong remote's NS name (NXP example cm4/main_remote.c)
REMOTE_EPT = 30  # its endpoint; the master's is 40 (NXP example main_remote.c / main_master.c LOCAL_EPT_ADDR)
MASTER_EPT = 40


_TR_NAMES = ("TR0", "TR1", "TR2", "TR3")


def bit(index):
    """The bit of MU field index n inside a 4-bit field: index 0 is the MSB."""
    return 8 >> index


def _word_only(width):
    if width != 4:
        raise ValueError("MU/SRC/SCS registers are modelled for 32-bit accesses only, not %d" % width)


# -- Messaging Unit ------------------------------------------------------------


class MuSide:
    """One side of the MU. Fields are kept as 4-bit nibbles in register
    order (bit(n) is index n), so SR = gip<<28 | rf<<24 | te<<20 | Fn."""

    def __init__(self, mu, name):
        self.mu = mu
        self.name = name
        self.peer = None
        self.gate = None  # the ClockGate of this side (None: always clocked)
        self.rr = [0, 0, 0, 0]
        self.reset()
        # Statistics.
        self.gip_clears = [0, 0, 0, 0]  # write-1-to-clear that cleared a pending GIPn
        self.gip_spurious = 0  # write-1-to-clear of a GIPn that was not pending
        self.gir_requests = [0, 0, 0, 0]  # GIRn raised (0 -> 1)
        self.tr_writes = [0, 0, 0, 0]
        self.overwrites = [0, 0, 0, 0]  # TRn written while the peer's RRn was still full
        self.rr_reads = [0, 0, 0, 0]  # RRn reads that took a word (RFn was set)

    def reset(self):
        self.rf = 0
        self.te = 0xF  # TRn empty (reset default: "empty (default)" in NXP MU headers)
        self.gip = 0
        self.gir = 0  # our requests, cleared when the peer clears its GIPn
        self.cr_rest = 0  # every CR bit except GIRn and MUR

    # register-bus device protocol
    def read(self, offset, width):
        _word_only(width)
        if self.gate is not None and not self.gate.on:
            self.mu.gated_accesses += 1
            return 0  # unclocked
        if RR0 <= offset < RR0 + 16:
            n = (offset - RR0) >> 2
            value = self.rr[n]
            b = bit(n)
            if self.rf & b:
                self.rf &= ~b
                self.peer.te |= b
                self.rr_reads[n] += 1
            return value
        if offset == SR:
            return (
                (self.gip << GIP_SHIFT)
                | (self.rf << RF_SHIFT)
                | (self.te << TE_SHIFT)
                | (self.peer.cr_rest & 7)  # Fn: flags set by the other side
            )
        if offset == CR:
            return (self.gir << GIR_SHIFT) | self.cr_rest
        return 0  # TRn are write-only

    def write(self, offset, width, value):
        _word_only(width)
        if self.gate is not None and not self.gate.on:
            self.mu.gated_accesses += 1
            return  # unclocked: ignored
        if TR0 <= offset < TR0 + 16:
            n = (offset - TR0) >> 2
            b = bit(n)
            peer = self.peer
            if peer.rf & b:
                self.overwrites[n] += 1
            peer.rr[n] = value
            peer.rf |= b
            self.te &= ~b
            self.tr_writes[n] += 1
            if self.mu.log is not None:
                self.mu._log(self.name, _TR_NAMES[n], value)
        elif offset == SR:
            clear = (value >> GIP_SHIFT) & 0xF
            n = 0
            while n < 4:
                b = bit(n)
                if clear & b:
                    if self.gip & b:
                        self.gip &= ~b
                        self.peer.gir &= ~b
                        self.gip_clears[n] += 1
                        self.mu._log(self.name, "GIP-clear", n)
                    else:
                        self.gip_spurious += 1
                n += 1
        elif offset == CR:
            if value & CR_MUR:
                self.mu.reset()
                return
            self.cr_rest = value & ~((0xF << GIR_SHIFT) | CR_MUR)
            want = (value >> GIR_SHIFT) & 0xF
            n = 0
            while n < 4:
                b = bit(n)
                # Writing 1 requests; writing 0 does not withdraw a request.
                if want & b and not self.gir & b:
                    self.gir |= b
                    self.peer.gip |= b
                    self.gir_requests[n] += 1
                    self.mu._log(self.name, "GIR", n)
                n += 1
        # RRn and the rest of SR are read-only: writes are ignored.

    # conveniences for tests
    def cr_value(self):
        return self.read(CR, 4)

    def sr_value(self):
        return (self.gip << GIP_SHIFT) | (self.rf << RF_SHIFT) | (self.te << TE_SHIFT)


class MessagingUnit:
    """The MU: ``a`` is what the CM7 sees, ``b`` what the CM4 sees.

    ``log`` (None to disable) records ("A"|"B", "TRn", word), ("A"|"B",
    "GIR", n) and ("A"|"B", "GIP-clear", n) in order."""

    def __init__(self, log=True):
        self.a = MuSide(self, "A")
        self.b = MuSide(self, "B")
        self.a.peer = self.b
        self.b.peer = self.a
        self.log = [] if log else None
        self.resets = 0
        self.gated_accesses = 0  # A-side accesses while its clock gate was off

    def _log(self, side, what, value):
        if self.log is not None:
            self.log.append((side, what, value))

    def reset(self):
        self.a.reset()
        self.b.reset()
        self.resets += 1

    def words(self, channel=3):
        """(side, word) of every TR write on channel, in order."""
        name = "TR%d" % channel
        return [(e[0], e[2]) for e in (self.log or []) if e[1] == name]


# -- plain registers, SRC, SCS ---------------------------------------------------


class Registers:
    """Read/write registers that remember what was written."""

    def __init__(self, size, name="", log=True):
        self.name = name
        self.size = size
        self.values = {}
        self.writes = [] if log else None

    def read(self, offset, width):
        return self.values.get(offset, 0)

    def write(self, offset, width, value):
        self.values[offset] = value
        if self.writes is not None:
            self.writes.append((offset, value))

    def __getitem__(self, offset):
        return self.values.get(offset, 0)


class ClockGate:
    """An LPCG: DIRECT (+0x0, ON = bit 0) and read-only STATUS0 (+0x10, ON =
    bit 0), which reports a change of DIRECT only after ``lag`` reads of
    STATUS0 (hal_nxp RT1170 PERI_CCM.h; fsl_clock.h CLOCK_ControlGate)."""

    def __init__(self, on=False, lag=3, log=True):
        self.direct = 1 if on else 0
        self.on = on  # what STATUS0 reports (the clock really running)
        self.lag = lag
        self._pending = 0
        self.writes = [] if log else None
        self.status_reads = 0

    def read(self, offset, width):
        _word_only(width)
        if offset == 0x0:
            return self.direct
        if offset == 0x10:
            self.status_reads += 1
            if self._pending:
                self._pending -= 1
                if not self._pending:
                    self.on = bool(self.direct & 1)
            return 1 if self.on else 0
        return 0

    def write(self, offset, width, value):
        _word_only(width)
        if self.writes is not None:
            self.writes.append((offset, value))
        if offset == 0x0:
            self.direct = value & 1
            if bool(self.direct) != self.on:
                self._pending = self.lag
        # STATUS0 is read-only


class ResetController:
    """SRC: setting SCR.BT_RELEASE_M4 (bit 0) releases the CM4, which the
    model reports through ``on_release``. CTRL_M4CORE.SW_RESET (bit 0) is
    counted and reads back 0 (self-clearing: unverified)."""

    def __init__(self, on_release, log=True):
        self.on_release = on_release
        self.scr = 0
        self.m4_resets = 0
        self.values = {}
        self.writes = [] if log else None

    def read(self, offset, width):
        _word_only(width)
        if offset == SCR:
            return self.scr
        if offset == CTRL_M4CORE:
            return 0
        return self.values.get(offset, 0)

    def write(self, offset, width, value):
        _word_only(width)
        if self.writes is not None:
            self.writes.append((offset, value))
        if offset == SCR:
            released = not self.scr & 1 and value & 1
            self.scr = value
            if released:
                self.on_release()
        elif offset == CTRL_M4CORE:
            if value & 1:
                self.m4_resets += 1
        else:
            self.values[offset] = value


class SystemControlSpace:
    """SCB/MPU registers at 0xE000ED00..0xE000EFFF: MPU_TYPE reports
    ``regions`` regions; MPU_RBAR/RASR act on the region in MPU_RNR (RBAR
    with VALID, bit 4, selects REGION, bits 3:0, first); writes to the
    by-address cache operations are recorded in ``cache_ops`` as (name,
    address); every MPU register write goes to ``mpu_writes`` as (name,
    value)."""

    _NAMES = {MPU_CTRL: "CTRL", MPU_RNR: "RNR", MPU_RBAR: "RBAR", MPU_RASR: "RASR"}

    def __init__(self, regions=16, log=True):
        self.regions = regions
        self.ctrl = 0
        self.rnr = 0
        self.rbar = [0] * regions
        self.rasr = [0] * regions
        self.values = {}
        self.cache_ops = []
        self.mpu_writes = [] if log else None

    def read(self, offset, width):
        _word_only(width)
        if offset == MPU_TYPE:
            return self.regions << 8
        if offset == MPU_CTRL:
            return self.ctrl
        if offset == MPU_RNR:
            return self.rnr
        if offset == MPU_RBAR:
            return self.rbar[self.rnr] | (self.rnr & 0xF)
        if offset == MPU_RASR:
            return self.rasr[self.rnr]
        if offset in CACHE_OPS:
            return 0
        return self.values.get(offset, 0)

    def write(self, offset, width, value):
        _word_only(width)
        name = self._NAMES.get(offset)
        if name is not None and self.mpu_writes is not None:
            self.mpu_writes.append((name, value))
        if offset == MPU_CTRL:
            self.ctrl = value & 7
        elif offset == MPU_RNR:
            if (value & 0xFF) >= self.regions:
                raise ValueError("MPU_RNR %d: the MPU has %d regions" % (value, self.regions))
            self.rnr = value & 0xFF
        elif offset == MPU_RBAR:
            if value & 0x10:
                self.rnr = value & 0xF
            self.rbar[self.rnr] = value & ~0x1F
        elif offset == MPU_RASR:
            self.rasr[self.rnr] = value
        elif offset in CACHE_OPS:
            self.cache_ops.append((CACHE_OPS[offset], value))
        else:
            self.values[offset] = value

    def set_region(self, n, rbar, rasr):
        """Program a region directly (as other firmware would have)."""
        self.rbar[n] = rbar & ~0x1F
        self.rasr[n] = rasr

    def region_at(self, addr):
        """(number, rasr) of the enabled region deciding addr's attributes
        (the highest-numbered one covering it), or None; also None while the
        MPU is disabled."""
        if not self.ctrl & 1:
            return None
        n = self.regions - 1
        while n >= 0:
            rasr = self.rasr[n]
            if rasr & 1:
                size = 2 << ((rasr >> 1) & 0x1F)
                if self.rbar[n] <= addr < self.rbar[n] + size:
                    return n, rasr
            n -= 1
        return None

    def noncacheable(self, addr):
        """True if an enabled region makes addr normal non-cacheable (TEX=001,
        C=0, B=0)."""
        found = self.region_at(addr)
        if found is None:
            return False
        rasr = found[1]
        return (rasr >> 19) & 7 == 1 and not rasr & (1 << 17) and not rasr & (1 << 16)


# -- the simulated CM4 -----------------------------------------------------------

# Program phases of the simulated firmware.
_OFF = 0
_CORE_UP = 1  # MCMGR_EarlyInit: send core-up
_ASK_LOW = 2  # MCMGR_GetStartupData: send FeedStartupData 1
_WAIT_LOW = 3
_ASK_HIGH = 4  # send FeedStartupData 2
_WAIT_HIGH = 5
_REPORT_RUNNING = 6  # send FeedStartupData 3
_RPMSG_INIT = 7  # rpmsg_lite_remote_init(startup data)
_SIGNAL_READY = 8  # MCMGR_TriggerEvent(RemoteApplication, 1)
_WAIT_LINK = 9  # while (!rpmsg_lite_is_link_up())
_ANNOUNCE = 10  # create endpoint 30, rpmsg_ns_announce
_APP = 11
_HALTED = 12  # a fault (e.g. no RAM at the startup address)

_SR_ADDR = MUB_BASE + SR
_CR_ADDR = MUB_BASE + CR
_TR3_ADDR = MUB_BASE + TR0 + 12
_RR3_ADDR = MUB_BASE + RR0 + 12
_TE3 = bit(3) << TE_SHIFT
_W1C_GIP = (bit(0) << GIP_SHIFT, bit(1) << GIP_SHIFT)


class _Cm4Platform(Port):
    """The B-side platform layer of the C remote (rpmsg_platform.c for
    imxrt1170, rpmsg-lite lib/rpmsg_lite/porting/platform/imxrt1170/rpmsg_platform.c)."""

    def __init__(self, cm4):
        Port.__init__(self)
        self.cm4 = cm4
        self.refused = 0  # MU_TriggerInterrupts refused (GIR still pending)

    def notify(self, vector_id):
        cm4 = self.cm4
        q = vector_id & 1
        bus = cm4.bus
        if cm4.mode == "gir":
            gir = bit(q) << GIR_SHIFT
            cr = bus.read(_CR_ADDR)
            if cr & gir:
                self.refused += 1
                return
            bus.write(_CR_ADDR, (cr & ~(0xF << GIR_SHIFT)) | gir)
        else:
            # MCMGR_TriggerEventForce: MU_SendMsgNonBlocking, may overwrite.
            bus.write(_TR3_ADDR, (EV_RPMSG << 16) | q)

    def attach(self, link):
        self.cm4.link = link

    def detach(self, link):
        if self.cm4.link is link:
            self.cm4.link = None


class SimulatedCM4:
    """The CM4 running NXP-style firmware (see the module docstring).

    Control: ``dead = True`` stops it cold (it reads nothing and answers
    nothing, as a crashed or halted core). ``announce_delay`` steps pass
    between link-up and the name-service announcement (the NXP remote waits
    1 s there, NXP example cm4/main_remote.c). ``fault`` says why it halted."""

    def __init__(self, soc, mode="mcmgr", config=None, app=None, announce_delay=0, shmem_base=OCRAM2):
        self.soc = soc
        self.shmem_base = shmem_base  # RPMSG_LITE_SHMEM_BASE of a GIR-mode build
        self.mode = mode
        self.config = config
        self.app = app if app is not None else PingPongApp()
        self.announce_delay = announce_delay
        self.bus = soc.cm4_bus
        self.platform = _Cm4Platform(self)
        self.phase = _OFF
        self.dead = False
        self.fault = None
        self.boot_address = None
        self.vectors = None  # first 8 bytes at the boot address when released
        self.link = None
        self.ept = None
        self.startup_low = None
        self.startup_high = None
        self.startup = None
        self.events = []  # MCMGR words this side did not expect
        self.blocked = 0  # steps an MCMGR send waited for TE3
        self.steps = 0

    @property
    def released(self):
        return self.phase != _OFF

    def release(self, boot_address):
        self.boot_address = boot_address
        if CM4_TCM <= boot_address < CM4_TCM + CM4_TCM_SIZE:
            off = boot_address - CM4_TCM
            self.vectors = bytes(self.soc.cm4_tcm[off : off + 8])
        # MCMGR mode: MCMGR_EarlyInit first. GIR mode: no MCMGR in the image;
        # rpmsg_lite_remote_init at the compiled-in RPMSG_LITE_SHMEM_BASE.
        if self.mode == "gir":
            self.startup = self.shmem_base
            self.phase = _RPMSG_INIT
        else:
            self.phase = _CORE_UP

    # -- one step: the ISR, then the main program ------------------------------

    def step(self):
        if self.phase == _OFF or self.dead or self.phase == _HALTED:
            return
        self.steps += 1
        self.service_mu()
        self._program()

    def service_mu(self):
        """The CM4's MU interrupt handlers: MCMGR's channel-3 receive (RR3
        words) and, in GIR mode once RPMsg-Lite is up, GenInt0/1 (clear,
        then env_isr(q)). Allocation-free on the RPMsg paths."""
        bus = self.bus
        handled = 0
        while True:
            flags = bus.field(_SR_ADDR, RF_SHIFT, 8)
            done = handled
            if self.mode == "gir" and self.link is not None:
                if flags & 0x80:  # GIP0
                    bus.write(_SR_ADDR, _W1C_GIP[0])
                    self.link.isr(0)
                    handled += 1
                if flags & 0x40:  # GIP1
                    bus.write(_SR_ADDR, _W1C_GIP[1])
                    self.link.isr(1)
                    handled += 1
            if flags & 0x01:  # RF3
                self._on_word(bus.read(_RR3_ADDR))
                handled += 1
            if handled == done:
                return handled

    def _on_word(self, word):
        event = word >> 16
        data = word & 0xFFFF
        if event == EV_RPMSG:
            if self.link is not None:
                self.link.isr(data)
        elif event == EV_STARTUP_DATA and self.phase == _WAIT_LOW:
            self.startup_low = data
            self.phase = _ASK_HIGH
        elif event == EV_STARTUP_DATA and self.phase == _WAIT_HIGH:
            self.startup_high = data
            self.phase = _REPORT_RUNNING
        elif word:
            self.events.append(word)

    def _send_blocking(self, word):
        # MCMGR_TriggerEvent: MU_SendMsg waits until TE3 (the CM7 read RR3).
        if not self.bus.test(_SR_ADDR, _TE3):
            self.blocked += 1
            return False
        self.bus.write(_TR3_ADDR, word)
        return True

    def _program(self):
        phase = self.phase
        if phase == _CORE_UP:
            if self._send_blocking(EV_CORE_UP << 16):
                self.phase = _ASK_LOW
        elif phase == _ASK_LOW:
            if self._send_blocking((EV_FEED_STARTUP_DATA << 16) | 1):
                self.phase = _WAIT_LOW
        elif phase == _ASK_HIGH:
            if self._send_blocking((EV_FEED_STARTUP_DATA << 16) | 2):
                self.phase = _WAIT_HIGH
        elif phase == _REPORT_RUNNING:
            if self._send_blocking((EV_FEED_STARTUP_DATA << 16) | 3):
                self.startup = (self.startup_high << 16) | self.startup_low
                self.phase = _RPMSG_INIT
        elif phase == _RPMSG_INIT:
            self._rpmsg_init()
            if self.mode == "gir" and self.phase == _SIGNAL_READY:
                self.phase = _WAIT_LINK  # no RemoteApplication event without MCMGR
        elif phase == _SIGNAL_READY:
            if self._send_blocking((EV_APPLICATION << 16) | 1):
                self.phase = _WAIT_LINK
        elif phase == _WAIT_LINK:
            if self.link.is_link_up():
                self.ept = self.link.create_ept(REMOTE_EPT, self.app)
                self.phase = _ANNOUNCE
        elif phase == _ANNOUNCE:
            if self.announce_delay > 0:
                self.announce_delay -= 1
            else:
                try:
                    self.link.ns_announce(self.ept, NS_NAME, NS_CREATE, 0)
                    self.phase = _APP
                except RPMsgError:
                    pass  # no TX buffer yet: try again next step
        elif phase == _APP:
            self.app.step(self)

    def _rpmsg_init(self):
        c = self.config
        # The C remote's compile-time configuration, at the base MCMGR handed over.
        cfg = Config(
            buffer_count=c.buffer_count,
            payload_size=c.payload_size,
            vring_align=c.vring_align,
            vring_size=c.vring_size,
            pa_base=self.startup,
            consumed_buffers_notification=c.consumed_buffers_notification,
        )
        try:
            shm = self.soc.ram(self.startup, cfg.shm_size)
        except ValueError as e:
            self.fault = "startup data %#x: %s" % (self.startup, e)
            self.phase = _HALTED
            return
        self.link = RPMsgLite.remote(shm, self.platform, cfg)
        self.phase = _SIGNAL_READY


# -- applications (the remote's endpoint 30 callback) ------------------------------


class _Replier:
    def __init__(self):
        self.received = []  # (bytes, src)
        self.outbox = []  # (dst, bytes) waiting for a TX buffer
        self.sent = 0

    def step(self, cm4):
        while self.outbox:
            dst, data = self.outbox[0]
            try:
                cm4.link.send(cm4.ept, dst, data, 0)
            except RPMsgError:
                return  # no buffer: the master has not returned one yet
            self.outbox.pop(0)
            self.sent += 1


class PingPongApp(_Replier):
    """Stand-in for the SDK's rpmsg_lite_pingpong remote (evkmimxrt1170
    multicore_examples/rpmsg_lite_pingpong_rtos/cm4/main_remote.c): every
    4-byte message is a little-endian counter, sent back incremented to its
    sender. That example waits for a "hello" message first only when built
    with RPMSG_LITE_MASTER_IS_LINUX; expect_hello=True models that build."""

    def __init__(self, expect_hello=False):
        _Replier.__init__(self)
        self.expect_hello = expect_hello
        self.hello = None

    def __call__(self, payload, src):
        data = bytes(payload)
        self.received.append((data, src))
        if self.expect_hello and self.hello is None:
            self.hello = (data, src)
        elif len(data) == 4:
            value = (int.from_bytes(data, "little") + 1) & 0xFFFFFFFF
            self.outbox.append((src, value.to_bytes(4, "little")))
        return RELEASE


class EchoApp(_Replier):
    """Sends every message back, unchanged, to its sender."""

    def __call__(self, payload, src):
        data = bytes(payload)
        self.received.append((data, src))
        self.outbox.append((src, data))
        return RELEASE


class CountingApp(Counter):
    """Counts messages and bytes without allocating (heap-lock tests)."""

    def step(self, cm4):
        pass


# -- an allocation-free register accessor --------------------------------------------


class DirectBus:
    """The rl_regs accessor interface (read, write, test, field) over
    register models, allocating nothing per access, for heap-lock tests.
    (regbus.Bus returns a tuple from its address lookup, which allocates on
    MicroPython.) No trace."""

    def __init__(self, name="core"):
        self.name = name
        self._bases = []
        self._ends = []
        self._devices = []

    def map(self, base, size, device):
        self._bases.append(base)
        self._ends.append(base + size)
        self._devices.append(device)
        return device

    def _index(self, addr):
        bases = self._bases
        ends = self._ends
        i = 0
        n = len(bases)
        while i < n:
            if bases[i] <= addr and addr + 4 <= ends[i]:
                return i
            i += 1
        raise ValueError("%s: no device at %#010x" % (self.name, addr))

    def read(self, addr):
        i = self._index(addr)
        return self._devices[i].read(addr - self._bases[i], 4) & 0xFFFFFFFF

    def write(self, addr, value):
        i = self._index(addr)
        self._devices[i].write(addr - self._bases[i], 4, value & 0xFFFFFFFF)

    def test(self, addr, mask):
        return 1 if self.read(addr) & mask else 0

    def field(self, addr, shift, width):
        return (self.read(addr) >> shift) & ((1 << width) - 1)


# -- the chip -----------------------------------------------------------------------


class RT1170:
    """The chip as the port sees it. ``cm7`` is the CM7's register bus (pass
    it as ``regs``), ``ram`` maps physical addresses to buffers (pass it as
    ``ram``), ``step`` advances the simulated CM4 (pass it as ``idle``).

    mode, config, app, announce_delay: the CM4 firmware's build (see
    SimulatedCM4); config is its RPMsg-Lite configuration (RL_BUFFER_COUNT
    etc.; its pa_base is ignored, the startup data decides)."""

    def __init__(
        self,
        mode="mcmgr",
        config=None,
        app=None,
        announce_delay=0,
        log=True,
        mpu_regions=16,
        ocram_size=0x2000,
        mu_clock_on=False,
    ):
        if config is None:
            config = Config(buffer_count=2, payload_size=496, vring_align=0x10)
        self.mu = MessagingUnit(log)
        self.gpr = Registers(0x100, "IOMUXC_LPSR_GPR", log)
        self.src = ResetController(self._release, log)
        self.scs = SystemControlSpace(mpu_regions, log)
        # SCB CCR: D- and I-cache on, as MicroPython's mimxrt board_init
        # leaves them (CMSIS core_cm7.h SCB_CCR_DC_Pos 16, SCB_CCR_IC_Pos 17).
        self.scs.values[0x14] = (1 << 16) | (1 << 17)
        self.lpcg = ClockGate(on=mu_clock_on, log=log)
        self.mu.a.gate = self.lpcg
        self.ocram2 = bytearray(ocram_size)
        self.cm4_tcm = bytearray(CM4_TCM_SIZE)
        self._ram = ((OCRAM2, self.ocram2), (CM4_TCM, self.cm4_tcm))
        # The CM7's view twice: a regbus.Bus (with a trace) for most tests,
        # and an allocation-free accessor for heap-lock tests.
        self.cm7 = Bus("cm7")
        self.cm7_direct = DirectBus("cm7")
        for base, size, device, _ in self.devices():
            self.cm7.map(base, size, device)
            self.cm7_direct.map(base, size, device)
        self.cm4_bus = DirectBus("cm4")
        self.cm4_bus.map(MUB_BASE, MU_SIZE, self.mu.b)
        self.cm4 = SimulatedCM4(self, mode, config, app, announce_delay)

    def devices(self):
        """(base, size, device, name) of every CM7-visible register model,
        for mapping them elsewhere (e.g. the CPython shim's AddressSpace)."""
        return (
            (MUA_BASE, MU_SIZE, self.mu.a, "MUA"),
            (GPR_BASE, 0x100, self.gpr, "IOMUXC_LPSR_GPR"),
            (SRC_BASE, 0x400, self.src, "SRC"),
            (SCS_BASE, SCS_SIZE, self.scs, "SCB/MPU"),
            (LPCG_MU_A, 0x20, self.lpcg, "LPCG MU_A"),
        )

    def rams(self):
        """(base, buffer) of the modelled RAM regions."""
        return self._ram

    def ram(self, addr, size):
        """A writable buffer over physical RAM [addr, addr + size)."""
        for base, buf in self._ram:
            if base <= addr and addr + size <= base + len(buf):
                off = addr - base
                if off == 0 and size == len(buf):
                    return buf
                return memoryview(buf)[off : off + size]
        raise ValueError("no modelled RAM at %#x+%#x" % (addr, size))

    def step(self, n=1):
        while n > 0:
            self.cm4.step()
            n -= 1

    def _release(self):
        g = self.gpr
        boot = (g[4] << 16) | (g[0] & 0xFFF8)  # GPR1 = address >> 16, GPR0 = bits 15:3
        self.cm4.release(boot)
