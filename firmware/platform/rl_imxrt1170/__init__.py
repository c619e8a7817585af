"""i.MX RT1170 platform port: MicroPython on the Cortex-M7 is the RPMsg-Lite
master; the Cortex-M4 runs NXP SDK firmware with the C library as remote
(e.g. the SDK's rpmsg_lite_pingpong remote). MicroPython only runs on the
CM7 (MicroPython ports/mimxrt builds for the CM7 core only).

    import rl_imxrt1170 as rt
    port = rt.IMXRT1170()                 # MCMGR doorbells, 2 buffers at 0x202C0000
    port.start_cm4(open("cm4.bin", "rb").read())
    port.wait_remote_ready(5000)          # MCMGR start-up handshake + app event
    link = port.master()                  # RPMsgLite master on port.shm
    while True: port.wait(1)              # or call port.service() from a loop

Shared-memory layout: rpmsg-lite's imxrt1170 platform (rpmsg-lite
lib/include/platform/imxrt1170/rpmsg_platform.h L17-48, rpmsg_lite.c rpmsg_lite_master_init): VRING_ALIGN 0x10, VRING_SIZE computed from the
buffer count, vring 0 at the base, one link (RL_PLATFORM_HIGHEST_LINK_ID
0), descriptors hold absolute addresses. Nothing in memory records the
buffer count: it must equal the CM4 firmware's RL_BUFFER_COUNT (and the
payload its RL_BUFFER_PAYLOAD_SIZE); sdk_config() builds that Config.

Doorbells go through the Messaging Unit, A side (MUA, hal_nxp RT1170 PERI_MU.h),
in one of two modes matching the C platform layer (rpmsg-lite
lib/rpmsg_lite/porting/platform/imxrt1170/rpmsg_platform.c L39-175):
  MCMGR  RL_USE_MCMGR_IPC_ISR_HANDLER=1 (the NXP examples): a kick is the
         word (6 << 16) | queue on MU channel 3 (TR3/RR3). Sent like
         MCMGR_TriggerEventForce: never waits for TE3; a word still unread
         is overwritten (counted in ``overwritten``), or the new word is
         skipped when it is the same kick (counted in ``coalesced``).
  GIR    RL_USE_MCMGR_IPC_ISR_HANDLER=0: a kick sets GIR(queue) in CR with
         MU_TriggerInterrupts semantics (refused while that GIR is still
         pending, which is a pending kick already: ``coalesced``); the CM4
         kicks us with GIP0/GIP1 in SR, which we clear (write 1) before
         calling link.isr(queue).
Either way nothing blocks on the CM4, so a dead CM4 cannot hang a send
(RPMsg-Lite issue #7): sends fail with ERR_NO_MEM
once the CM4 stops returning buffers.

In MCMGR mode channel 3 also carries MCMGR's start-up protocol (MCMGR
mcmgr.c L60-198): the CM4 sends core-up 0x00010000, asks for the startup
data with 0x00050001/0x00050002, to which this port answers
0x0004LLLL/0x0004HHHH (halves of ``startup_data``, the shared-memory base
by default, as the NXP master passes it), reports 0x00050003 (running),
and the pingpong remote signals 0x00070001 once its RPMsg-Lite remote is
initialised: only then may the master init (its single kick would be lost
otherwise: rpmsg_lite.c rpmsg_lite_master_init sends it once). In GIR mode
the CM4 has no MCMGR at all and nothing is read from channel 3 (see
wait_remote_ready).

After a soft reset of MicroPython the CM4 keeps running (only a chip reset
stops it) and MCMGR does not repeat its events: attach_or_master() takes
the rings over instead of waiting (boards/mimxrt1170_evk/main.py does).

Receiving is by polling: Python cannot attach a handler to MUA_IRQn, and
no MU interrupt enable is set. service() (non-blocking) and wait(ms)
(RPMsgLite calls it while blocked) read SR and dispatch to link.isr() in
the caller's context, never in an IRQ. Neither they nor notify() allocate
(register masks >= 2**30 are made once, at import; RR3 is read as its low
30 bits, which hold every MCMGR event: types are 1..9).

Caches: the CM7 D-cache is on under MicroPython and OCRAM is cacheable by
default (the Cortex-M7 default memory map; MicroPython mimxrt programs
no MPU region but openamp's), while rpmsg-lite's imxrt1170 cache hooks
are empty (rpmsg_platform.c L289-327). DEFAULT: an MPU region (number 15, away from
openamp's 10) makes the shared region normal non-cacheable, like NXP's
examples and MicroPython's openamp do. The alternative, cache maintenance
by address, is not used for the rings because it cannot be made correct
here: with VRING_ALIGN 0x10 the master-written avail ring and the
CM4-written used ring share 32-byte cache lines (N=2: avail at +0x20,
used at +0x30), so cleaning a line we wrote would write stale copies of
the CM4's fields back, and the core (rpmsg_lite.link/vring) has no
per-access flush/invalidate hooks. Cache maintenance is used where it is
safe: cleaning the CM4 image after copying it, and clean+invalidate of
the region before its MPU attributes change. Pass mpu_region=None only if
the region is non-cacheable by other means.

MicroPython's built-in openamp module cannot share the MU with this port
(it owns GIE0/GIP0, the MUA handler and MPU region 10, and formats
offset-based vrings): the constructor raises PlatformConflict when it sees
it (see rl_imxrt1170_soc.openamp_conflict).

(unverified) on hardware: everything; in particular the MU clock gate
address (enable_mu_clock, off by default), whether a gated MU reads as 0,
whether SW_RESET self-clears, and the DSB/ISB encodings (see the soc and
barrier modules).
"""

from micropython import const

from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.vring import route as _route
from rpmsg_lite.env import BLOCK, check_timeout, expired, ticks_ms, ticks_diff
from . import soc
from .soc import PlatformConflict  # noqa: F401 (re-exported)
from rpmsg_lite.config import Config, computed_vring_size, align_up, HEADER_SIZE

MCMGR = "mcmgr"  # doorbell mode: MCMGR words on MU channel 3
GIR = "gir"  # doorbell mode: MU general-purpose interrupts 0/1

SHM_BASE = 0x202C0000  # OCRAM2; the NXP pingpong example's rpmsg_sh_mem (NXP evkmimxrt1170 rpmsg_lite_pingpong cm7 linker file)
SHM_REGION_SIZE = const(6144)  # the example's SH_MEM_TOTAL_SIZE (NXP example cm7/main_master.c)
VRING_ALIGN = const(0x10)  # imxrt1170 rpmsg_platform.h VRING_ALIGN
LINK_ID = const(0)  # RL_PLATFORM_IMXRT1170_M7_M4_LINK_ID; HIGHEST_LINK_ID is 0 (rpmsg_platform.h)
CM4_BOOT_ADDRESS = 0x20200000  # CM4 code TCM alias, NXP's CORE1_BOOT_ADDRESS (NXP example cm7/main_master.c)
MPU_REGION = soc.MPU_REGION

# MCMGR event types (MCMGR mcmgr/src/mcmgr.h L92-102).
EV_CORE_UP = const(1)
EV_CORE_DOWN = const(2)
EV_EXCEPTION = const(3)
EV_STARTUP_DATA = const(4)
EV_FEED_STARTUP_DATA = const(5)
EV_RPMSG = const(6)
EV_APPLICATION = const(7)
# FeedStartupData payloads are the remote's MCMGR core state (GettingLow 1,
# GettingHigh 2, Running 3; MCMGR mcmgr.c L60-198).
_GETTING_LOW = const(1)
_GETTING_HIGH = const(2)
_RUNNING = const(3)
APP_RPMSG_READY = const(1)  # the pingpong remote's RemoteApplication data (NXP example cm4/main_remote.c APP_RPMSG_READY_EVENT_DATA)

# MU A registers and bits (hal_nxp RT1170 PERI_MU.h; index 0 = MSB of each field, fsl_mu.h kMU_GenInt0Flag).
_TR3 = soc.MUA_BASE + 0x0C
_RR3 = soc.MUA_BASE + 0x1C
_SR = soc.MUA_BASE + soc.MU_SR
_CR = soc.MUA_BASE + soc.MU_CR
_TE3 = const(1 << 20)  # SR: TR3 empty (TE0 is bit 23)
# service() reads SR bits 31..24 as one small int: bit 0 = RF3 (SR bit
# 24), bit 6 = GIP1 (SR bit 30), bit 7 = GIP0 (SR bit 31).
_FLAGS_SHIFT = const(24)
_F_RF3 = const(0x01)
_F_GIP1 = const(0x40)
_F_GIP0 = const(0x80)
_W1C_GIP0 = 1 << 31  # long ints on 32-bit ports: made once, here
_W1C_GIP1 = 1 << 30
_GIR0 = const(1 << 19)  # CR: GIR(q) = 1 << (19 - q), as rpmsg-lite's platform_notify
_GIR1 = const(1 << 18)
_CR_GIR_ALL = const(0xF << 16)
_CR_HIGH = (1 << 31) | (1 << 30)  # GIE0/GIE1: above the 30 bits read without allocating
_SERVICE_ROUNDS = const(16)  # SR re-reads per service() call: bounded even if the CM4 floods


def sdk_config(
    buffer_count=2, payload_size=496, base=SHM_BASE, region_size=SHM_REGION_SIZE, consumed_buffers_notification=False
):
    """The rpmsg_lite Config for a region at ``base`` of ``region_size``
    bytes (None: do not check), matching a CM4 built with RL_BUFFER_COUNT =
    buffer_count and RL_BUFFER_PAYLOAD_SIZE = payload_size.

    Size = 2*VRING_SIZE + 2*N*(payload+16). With 496-byte payloads:
    N=2: 0x8A0 (2208) bytes, N=4: 0x1100 (4352), N=8: 0x21E0 (8672). So the
    NXP example's 6 KiB region holds N=2 or N=4; N=8 needs more (the CM4
    firmware must then be built with a larger region that nothing else on
    it uses)."""
    if not isinstance(base, int) or base & (VRING_ALIGN - 1):
        # The used ring is aligned on its absolute address (virtio_ring.h vring_init).
        raise ValueError("shared memory base %r must be %d-byte aligned (VRING_ALIGN)" % (base, VRING_ALIGN))
    cfg = Config(
        buffer_count=buffer_count,
        payload_size=payload_size,
        vring_align=VRING_ALIGN,
        pa_base=base,
        consumed_buffers_notification=consumed_buffers_notification,
    )
    if region_size is not None and cfg.shm_size > region_size:
        buf = align_up(payload_size + HEADER_SIZE, 4)
        fits = 0
        n = 1
        while n <= 32768 and 2 * computed_vring_size(n, VRING_ALIGN) + 2 * n * buf <= region_size:
            fits = n
            n <<= 1
        raise ValueError(
            "%d buffers of %d bytes per direction need %d bytes (2*VRING_SIZE %#x + 2*%d*%d) but the "
            "region at %#x has %d; %s"
            % (
                buffer_count,
                buf,
                cfg.shm_size,
                cfg.vring_size,
                buffer_count,
                buf,
                base,
                region_size,
                ("at most buffer_count=%d fits" % fits) if fits else "not even one buffer fits",
            )
        )
    return cfg


def shared_region(config, base=SHM_BASE):
    """The shared region as a bytearray over its physical address (on the
    board; tests pass their own buffers)."""
    import uctypes

    return uctypes.bytearray_at(base, config.shm_size)


class IMXRT1170(Port):
    """The port of the CM7 side (a ``rpmsg_lite.port.Port``).

    mode          MCMGR (default) or GIR: must match the CM4 firmware's
                  RL_USE_MCMGR_IPC_ISR_HANDLER (1 or 0).
    config        rpmsg_lite Config (default sdk_config(base=shm_base)).
    shm_base      physical address of the shared region (default 0x202C0000).
    regs          register accessor (default rl_regs.HW).
    ram           ram(addr, size) -> writable buffer over physical memory
                  (default uctypes.bytearray_at).
    mpu_region    MPU region made non-cacheable over the shared memory
                  (default 15; None: leave the MPU alone).
    startup_data  the 32-bit value MCMGR hands the CM4 (default shm_base).
    enable_mu_clock  open the MU A clock gate (LPCG 20) and wait for it
                  before touching the MU (default; False only if something
                  else keeps it on).
    check_mu      refuse to start if MU A reads as dead (all TEn clear).
    idle          called between polls while waiting (default sleep_ms(0));
                  tests step a simulated CM4 here.
    barrier       callable used for DSB (and DSB+ISB); default: inline
                  assembler (no-op where it does not exist).
    """

    def __init__(
        self,
        mode=MCMGR,
        config=None,
        shm_base=SHM_BASE,
        regs=None,
        ram=None,
        mpu_region=MPU_REGION,
        startup_data=None,
        enable_mu_clock=True,
        check_mu=True,
        idle=None,
        barrier=None,
    ):
        if mode != MCMGR and mode != GIR:
            raise ValueError("mode must be rl_imxrt1170.MCMGR or rl_imxrt1170.GIR, got %r" % (mode,))
        if regs is None:
            from rpmsg_lite import regs as rl_regs

            regs = rl_regs.HW
        if ram is None:
            import uctypes

            ram = uctypes.bytearray_at
        if config is None:
            config = sdk_config(base=shm_base)
        elif config.pa_base is not None and config.pa_base != shm_base:
            raise ValueError("config.pa_base %#x is not shm_base %#x" % (config.pa_base, shm_base))
        if config.vring_align != VRING_ALIGN:
            raise ValueError("the imxrt1170 platform uses VRING_ALIGN 0x10, config has %#x" % config.vring_align)
        if startup_data is None:
            startup_data = shm_base
        if not 0 <= startup_data <= 0xFFFFFFFF:
            raise ValueError("startup_data must be a 32-bit value")
        if barrier is None:
            self._mb, self._sync, self.real_barriers = soc.load_barriers()
        else:
            self._mb = self._sync = barrier
            self.real_barriers = True
        self._regs = regs
        self._ram = ram
        self.mode = mode
        Port.__init__(self, config)
        self.shm_base = shm_base
        self.startup_data = startup_data

        # The MU clock first: nothing may touch an MU register before its
        # gate reports on (MU_Init -> CLOCK_EnableClock, fsl_clock.h).
        if enable_mu_clock:
            soc.enable_mu_clock(regs)
        soc.check_openamp(regs)
        if check_mu and not soc.mu_responds(regs):
            raise RuntimeError(
                "MU A (0x40C48000) reads as dead: SR has no TEn bit set. Its clock may be gated "
                "(enable_mu_clock=False was passed?), or check_mu=False skips this check"
            )
        self.mpu = None  # (rbar, rasr, size) once programmed
        if mpu_region is not None:
            self.mpu = soc.program_mpu_noncacheable(regs, mpu_region, shm_base, config.shm_size, self._sync)
        self.shm = ram(shm_base, config.shm_size)
        self.shm_size = config.shm_size

        # Hot-path constants, made once (see the module comment on ints).
        self._sr = _SR
        self._cr = _CR
        self._tr3 = _TR3
        self._rr3 = _RR3
        self._gir = mode == GIR
        self._kick_words = (EV_RPMSG << 16, (EV_RPMSG << 16) | 1)
        self._gir_bits = (_GIR0, _GIR1)
        self._startup_words = (
            (EV_STARTUP_DATA << 16) | (startup_data & 0xFFFF),
            (EV_STARTUP_DATA << 16) | (startup_data >> 16),
        )
        if idle is not None:
            self.idle = idle
        self._watch = 0
        self._update_watch()
        self._last_word = -1
        # Counters (diagnostics; see stats()). The hot-path ones wrap at 2**30.
        self.notified = 0  # notify() calls
        self.coalesced = 0  # kicks merged into one still pending (nothing lost)
        self.overwritten = 0  # MCMGR words written over an unread different word (may lose a kick)
        self.gip_cleared = 0  # GIP0/GIP1 acknowledged (GIR mode)
        self.words_in = 0  # words read from RR3
        self.unrouted = 0  # kicks with no attached link
        self.other_events = 0  # MCMGR events not handled here (core down, exception, ...)
        self.last_event = 0  # the last of those words
        self.startup_replies = 0
        self.attached = False
        self._reset_cm4_state()

    def _reset_cm4_state(self):
        self.cm4_up = False  # 0x00010000 seen
        self.cm4_running = False  # 0x00050003 seen
        self.app_event = -1  # data of the last RemoteApplication event

    # -- the platform contract -------------------------------------------------

    def notify(self, vector_id):
        """Kick the CM4 for vring (vector_id & 1). Never waits."""
        q = vector_id & 1
        self._mb()  # ring writes complete before the doorbell (env_mb in virtqueue_kick)
        self.notified = (self.notified + 1) & WRAP
        if self._gir:
            self._trigger(self._gir_bits[q])
        else:
            self._send(self._kick_words[q], True)

    def attach(self, link):
        if link.link_id != LINK_ID:
            raise ValueError(
                "the imxrt1170 platform carries one link (id 0): MCMGR kicks hold only the queue id "
                "(RL_PLATFORM_HIGHEST_LINK_ID is 0)"
            )
        Port.attach(self, link)
        self._update_watch()

    def detach(self, link):
        Port.detach(self, link)
        self._update_watch()

    # -- receiving -------------------------------------------------------------

    def service(self):
        """Handle everything the CM4 has signalled, without waiting: GIP0/1
        (GIR mode, once a link is attached) and RR3 words (always: RPMsg
        kicks in MCMGR mode, the MCMGR start-up protocol in both). Returns
        the number of events handled. Allocation-free."""
        regs = self._regs
        sr = self._sr
        handled = 0
        rounds = _SERVICE_ROUNDS
        while rounds:
            flags = regs.field(sr, _FLAGS_SHIFT, 8) & self._watch
            if not flags:
                break
            rounds -= 1
            if flags & _F_GIP0:
                regs.write(sr, _W1C_GIP0)  # write 1 to clear; the CM4's GIR0 drops with it
                self.gip_cleared = (self.gip_cleared + 1) & WRAP
                self._mb()
                self._dispatch(0)
                handled += 1
            if flags & _F_GIP1:
                regs.write(sr, _W1C_GIP1)
                self.gip_cleared = (self.gip_cleared + 1) & WRAP
                self._mb()
                self._dispatch(1)
                handled += 1
            if flags & _F_RF3:
                word = regs.field(self._rr3, 0, 30)  # reading RR3 clears RF3 and sets the CM4's TE3
                self._mb()
                self._word(word)
                handled += 1
        return handled

    def _dispatch(self, vector):
        link = self.links.get(vector >> 1)
        if link is None:
            self.unrouted = (self.unrouted + 1) & WRAP
        else:
            _route(self._routes, vector)  # (its link: drain() straight away)

    def _word(self, word):
        self.words_in = (self.words_in + 1) & WRAP
        event = word >> 16
        data = word & 0xFFFF
        if event == EV_RPMSG:
            # The data is RL_GET_Q_ID(vector): the link id is dropped because
            # the highest link id is 0 (rpmsg_platform.c platform_notify).
            self._dispatch(data)
        elif event == EV_FEED_STARTUP_DATA:
            if data == _GETTING_LOW:
                self._reply(self._startup_words[0])
            elif data == _GETTING_HIGH:
                self._reply(self._startup_words[1])
            elif data == _RUNNING:
                self.cm4_running = True
            else:
                self._other(word)
        elif event == EV_CORE_UP:
            self.cm4_up = True
        elif event == EV_APPLICATION:
            self.app_event = data
        elif word:  # MCMGR ignores a 0 word (MCMGR mcmgr.c L317-348, its receive handler)
            self._other(word)

    def _other(self, word):
        self.other_events += 1
        self.last_event = word

    # -- sending ---------------------------------------------------------------

    def _send(self, word, coalesce):
        # MU_SendMsgNonBlocking on channel 3 (MCMGR_TriggerEventForce).
        regs = self._regs
        if not regs.test(self._sr, _TE3):
            if coalesce and word == self._last_word:
                self.coalesced = (self.coalesced + 1) & WRAP  # the same kick is still unread: it covers this one
                return
            self.overwritten = (self.overwritten + 1) & WRAP
        regs.write(self._tr3, word)
        self._last_word = word

    def _reply(self, word):
        # The CM4 has just read our previous word and waits for this one, so
        # TE3 is set; if not, overwriting (counted) beats blocking.
        self.startup_replies += 1
        self._send(word, False)

    def _trigger(self, bit):
        # MU_TriggerInterrupts: refuse if the requested GIR is still set,
        # else write CR back with only that GIR bit, keeping the enables.
        regs = self._regs
        cr = self._cr
        if regs.test(cr, _CR_HIGH):
            value = regs.read(cr)  # GIE0/GIE1 set by someone: full width (allocates on 32-bit)
        else:
            value = regs.field(cr, 0, 30)
        if value & bit:
            self.coalesced = (self.coalesced + 1) & WRAP  # the CM4 has not taken the previous kick yet
            return
        regs.write(cr, (value & ~_CR_GIR_ALL) | bit)

    def _update_watch(self):
        # GIR mode has no MCMGR on the CM4 (see wait_remote_ready): RR3 is
        # not ours to read then.
        watch = 0 if self._gir else _F_RF3
        if self._gir and self.links:
            # GIPs are only taken (cleared) when a link can receive them.
            watch |= _F_GIP0 | _F_GIP1
        self._watch = watch

    # -- the CM4 ---------------------------------------------------------------

    def cm4_released(self):
        """True if the CM4 was released from reset this boot."""
        return soc.cm4_released(self._regs)

    def start_cm4(self, image=None, boot_address=CM4_BOOT_ADDRESS):
        """Copy ``image`` (a raw CM4 binary, optional) to ``boot_address``
        and release the CM4 there. Refuses if it is already released (only
        a chip reset stops it). Then service the MCMGR handshake with
        wait_remote_ready() or wait_cm4_running()."""
        if image is not None:
            end = boot_address + len(image)
            if boot_address < self.shm_base + self.shm_size and self.shm_base < end:
                raise ValueError(
                    "the CM4 image [%#x, %#x) overlaps the shared memory at %#x" % (boot_address, end, self.shm_base)
                )
        soc.start_cm4(self._regs, boot_address, self._sync, image, self._ram)
        self._reset_cm4_state()  # (nothing is read from the MU until service())

    def remote_ready(self, data=APP_RPMSG_READY):
        """True once the CM4 sent RemoteApplication event ``data``."""
        return self.app_event == data

    def wait_cm4_running(self, timeout_ms=BLOCK):
        """Service the MCMGR start-up handshake until the CM4 reports it is
        running (0x00050003). False on timeout. GIR mode: True at once (see
        wait_remote_ready)."""
        if self._gir:
            return True
        return self._wait_for(_is_running, self, timeout_ms)

    def wait_remote_ready(self, timeout_ms=BLOCK, data=APP_RPMSG_READY):
        """Service the MU until the CM4 application signals RemoteApplication
        ``data`` (1: the pingpong remote's RPMsg-Lite is initialised, so the
        master's init kick will be seen). False on timeout.

        GIR mode: True at once. A CM4 built with RL_USE_MCMGR_IPC_ISR_HANDLER
        =0 gets strong MUA/MUB_IRQHandler definitions from rpmsg-lite
        (rpmsg_platform.c L56-84), which collide with MCMGR's own
        (mcmgr_mu_internal.c), so such an image has no MCMGR MU path at all:
        NXP's example drops MCMGR in that build (cm4/main_remote.c: a fixed
        RPMSG_LITE_SHMEM_BASE, no start-up data, no RemoteApplication
        event). Nothing will come to wait for, and nothing needs to: the
        master's GIR0 kick latches in the CM4's GIP0 until its
        platform_init_interrupt sets GIE0 (rpmsg_platform.c L97-124), so the
        master can init at once. The CM4's RPMSG_LITE_SHMEM_BASE must be
        this port's shm_base."""
        if self._gir:
            return True
        return self._wait_for(_is_ready, data, timeout_ms)

    def attach_or_master(self):
        """The master link after this core restarted (soft reset) while the
        CM4 kept running: MCMGR's start-up events and the name-service
        announcement are sent once per CM4 boot, so instead of waiting for
        them again, take the rings over as they are (RPMsgLite.master with
        attach=True). If the region does not hold formatted rings (the
        earlier session never made its master), format it as usual.
        ``self.attached`` says which happened."""
        try:
            link = self.master(attach=True)
            self.attached = True
        except ValueError:
            link = self.master()
            self.attached = False
        return link

    def _wait_for(self, ready, arg, timeout_ms):
        check_timeout(timeout_ms)
        start = ticks_ms()
        while True:
            self.service()
            if ready(self, arg):
                return True
            if expired(start, timeout_ms):
                return False
            self.idle()

    # -- conveniences ------------------------------------------------------------

    def region(self, link_id):
        return self.shm

    def stats(self):
        return {
            "mode": self.mode,
            "notified": self.notified,
            "coalesced": self.coalesced,
            "overwritten": self.overwritten,
            "gip_cleared": self.gip_cleared,
            "words_in": self.words_in,
            "unrouted": self.unrouted,
            "other_events": self.other_events,
            "last_event": self.last_event,
            "startup_replies": self.startup_replies,
            "cm4_up": self.cm4_up,
            "cm4_running": self.cm4_running,
            "app_event": self.app_event,
        }

    def __repr__(self):
        return "<IMXRT1170 %s shm %#x+%#x>" % (self.mode, self.shm_base, self.shm_size)


def _is_running(port, arg):
    return port.cm4_running


def _is_ready(port, data):
    return port.app_event == data

