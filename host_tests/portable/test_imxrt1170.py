"""i.MX RT1170 port (firmware/platform/rl_imxrt1170*.py) against register
models of the MU, SRC, IOMUXC_LPSR_GPR, MPU/SCB and a simulated CM4 running
MCMGR + an RPMsg-Lite remote (model_imxrt1170.py). Deterministic: the CM4
advances only when a test (or the port's idle hook) steps it."""

import sys
import micropython

from rpmsg_lite import RPMsgLite, NameService, RPMsgError, DONT_BLOCK, HOLD, ERR_NO_MEM
from rpmsg_lite import env as rl_env
from rl_imxrt1170 import IMXRT1170, PlatformConflict, sdk_config
from model_imxrt1170 import (
    RT1170,
    EchoApp,
    CountingApp,
    NS_NAME,
    MUB_BASE,
    bit,
)
from linkpair import Inbox, pattern
from support import IS_MICROPYTHON, raises, skip

MODES = ("mcmgr", "gir")
SHM = 0x202C0000
MUA_CR = 0x40C48024
MUB_SR = MUB_BASE + 0x20
MUB_CR = MUB_BASE + 0x24
MUB_TR3 = MUB_BASE + 0x0C
GPR0 = 0x40C0C000
GPR1 = 0x40C0C004
SRC_SCR = 0x40C04000
SRC_CTRL_M4CORE = 0x40C04284
SCS_LOW = 0xE000ED00
SCS_HIGH = 0xE000F000
MPU_CTRL = 0xE000ED94
MPU_RNR = 0xE000ED98
MPU_RBAR = 0xE000ED9C
MPU_RASR = 0xE000EDA0
DCCIMVAC = 0xE000EF70
DCCMVAC = 0xE000EF68
# Normal non-cacheable, execute-never, full access (XN bit 28, AP=011 at
# bits 26:24, TEX=001 at 21:19, C=B=0), enabled; SIZE = log2(size) - 1.
RASR_NC = (1 << 28) | (3 << 24) | (1 << 19) | 1


def _image(size=64):
    """A raw CM4 binary: initial SP, then a Thumb reset vector."""
    head = (0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little")
    return head + pattern(size - 8, 3)


class _Barrier:
    """Counts barrier calls and remembers where in the bus trace they fell."""

    def __init__(self, bus=None):
        self.calls = 0
        self.bus = bus
        self.at = []

    def __call__(self):
        self.calls += 1
        if self.bus is not None and self.bus.trace is not None:
            self.at.append(len(self.bus.trace))
        return 0


def _port(soc, mode="mcmgr", config=None, regs=None, **kw):
    cfg = config or soc.cm4.config
    return IMXRT1170(mode=mode, config=cfg, regs=regs or soc.cm7, ram=soc.ram, idle=soc.step, **kw)


def _soc(mode="mcmgr", buffer_count=2, app=None, **kw):
    return RT1170(mode=mode, config=sdk_config(buffer_count), app=app, **kw)


def _boot(mode="mcmgr", buffer_count=2, app=None, log=True, direct=False):
    """CM4 started, handshake done, master link created (not yet stepped)."""
    soc = _soc(mode, buffer_count, app, log=log)
    port = _port(soc, mode, regs=soc.cm7_direct if direct else None)
    port.start_cm4(_image())
    assert port.wait_remote_ready(2000), port.stats()
    return soc, port, port.master()


def _run(soc, port, rounds=8):
    for _ in range(rounds):
        soc.step()
        port.service()


def _ready(mode, app=None, buffer_count=2):
    """Booted, name service seen, master endpoint 40 with an Inbox."""
    soc, port, link = _boot(mode, buffer_count, app)
    seen = []
    NameService(link, lambda addr, name, flags: seen.append((addr, name, flags)))
    inbox = Inbox()
    ept = link.create_ept(40, inbox)
    _run(soc, port)
    assert seen == [(30, NS_NAME, 0)], seen
    return soc, port, link, ept, inbox


# -- shared-memory configuration --------------------------------------------------


def test_shmem_config_sizes_and_the_nxp_6k_region():
    # 2*VRING_SIZE + 2*N*512 with VRING_SIZE = AU(16N) + AU(6+2N+2) + AU(12+8N+2), A = 16.
    two = sdk_config(2)
    assert (two.vring_size, two.shm_size, two.pa_base, two.vring_align) == (0x50, 0x8A0, SHM, 0x10)
    four = sdk_config(4)
    assert (four.vring_size, four.shm_size) == (0x80, 0x1100)  # computed VRING_SIZE, A = 0x10
    e = raises(ValueError, sdk_config, 8)
    assert "8672" in str(e) and "6144" in str(e) and "at most buffer_count=4" in str(e)
    assert sdk_config(8, region_size=None).shm_size == 0x21E0
    assert sdk_config(8, region_size=0x4000).buffer_count == 8
    raises(ValueError, sdk_config, 2, base=SHM + 8)  # not VRING_ALIGN aligned
    raises(ValueError, sdk_config, 3)  # not a power of two


def test_master_layout_is_the_imxrt1170_one():
    soc, port, link = _boot()
    lay = link.layout
    assert port.shm_base == SHM and lay.pa_base == SHM
    assert lay.vrings[1].desc == 0x50 and lay.buffers == 0xA0
    # Descriptors carry absolute addresses (vring 0, desc 0 -> first buffer).
    assert int.from_bytes(bytes(soc.ocram2[0:4]), "little") == SHM + 0xA0
    raises(ValueError, IMXRT1170, config=sdk_config(2, base=SHM + 0x1000), regs=soc.cm7, ram=soc.ram)


# -- start-up checks: openamp, MU, clock ---------------------------------------------


def _no_mpu_changes(soc):
    return [w for w in soc.scs.mpu_writes if w[0] != "RNR"] == [] and soc.scs.cache_ops == []


def test_openamp_gie0_is_refused_with_a_clear_message():
    soc = _soc()
    soc.mu.a.cr_rest = 1 << 31  # GIE0, as openamp's metal_sys_init leaves it
    e = raises(PlatformConflict, _port, soc)
    msg = str(e)
    assert "openamp" in msg and "GIE0" in msg and "reset the board" in msg and "Do not import" in msg
    assert _no_mpu_changes(soc)


def test_openamp_mpu_region_10_is_refused():
    soc = _soc()
    soc.scs.set_region(10, 0x20220000, (1 << 19) | (3 << 24) | (15 << 1) | 1)
    soc.scs.ctrl = 7
    e = raises(PlatformConflict, _port, soc)
    assert "MPU region 10" in str(e) and "0x20220000" in str(e)
    assert soc.scs.rnr == 0  # the probe restored MPU_RNR
    assert _no_mpu_changes(soc)


def test_openamp_module_in_sys_modules_is_refused():
    soc = _soc()
    sys.modules["openamp"] = soc
    try:
        e = raises(PlatformConflict, _port, soc)
    finally:
        del sys.modules["openamp"]
    assert "openamp module is imported" in str(e)
    _port(soc)  # and without it the same chip is fine


def test_other_mu_interrupt_owners_are_refused():
    for enables in (1 << 30, 1 << 24):  # GIE1, RIE3 (MCMGR's channel-3 receive)
        soc = _soc()
        soc.mu.a.cr_rest = enables
        assert "another driver" in str(raises(PlatformConflict, _port, soc))


def test_the_mu_clock_is_opened_and_polled_before_any_mu_access():
    # The model's MU A is gated at reset and its LPCG STATUS0 lags DIRECT,
    # as CLOCK_ControlGate (fsl_clock.h) expects: write DIRECT, poll STATUS0.
    soc = _soc()
    soc.cm7.trace = []
    _port(soc)
    trace = soc.cm7.trace
    lpcg = 0x40CC6280
    assert ("w", lpcg, 1) in trace
    status = [i for i in range(len(trace)) if trace[i][1] == lpcg + 0x10]
    assert len(status) == soc.lpcg.lag and trace[status[-1]][2] == 1  # polled until ON
    mu = [i for i in range(len(trace)) if 0x40C48000 <= trace[i][1] < 0x40C4C000]
    assert mu and mu[0] > status[-1]  # no MU access before the gate reported on
    assert soc.mu.gated_accesses == 0
    soc = _soc(mu_clock_on=True)  # already on (e.g. openamp ran): not written again
    _port(soc)
    assert soc.lpcg.writes == [] and soc.mu.gated_accesses == 0


def test_a_gated_mu_reads_as_dead_and_is_reported():
    soc = _soc()
    e = raises(RuntimeError, _port, soc, enable_mu_clock=False)
    assert "clock" in str(e) and soc.mu.gated_accesses > 0
    _port(soc, enable_mu_clock=False, check_mu=False)
    soc.lpcg.lag = 10**6  # a gate that never reports on (another domain owns it)
    e = raises(RuntimeError, _port, soc)
    assert "STATUS0" in str(e)


# -- MPU ------------------------------------------------------------------------------


def test_mpu_programming_sequence_and_values():
    soc = _soc()
    soc.cm7.trace = []
    sync = _Barrier(soc.cm7)
    port = _port(soc, barrier=sync)
    trace = soc.cm7.trace
    writes = [(i, e[1], e[2]) for i, e in enumerate(trace) if e[0] == "w" and SCS_LOW <= e[1] < SCS_HIGH]
    first = [w[1] for w in writes].index(DCCIMVAC)
    tail = [(a, v) for _, a, v in writes[first:]]
    # 2208 bytes -> a 4 KiB region (SIZE 11): clean+invalidate its 128 lines,
    # then disable, select, base, attributes, enable with PRIVDEFENA.
    assert tail[:128] == [(DCCIMVAC, SHM + 32 * i) for i in range(128)]
    assert tail[128:] == [
        (MPU_CTRL, 0),
        (MPU_RNR, 15),
        (MPU_RBAR, SHM),
        (MPU_RASR, RASR_NC | (11 << 1)),
        (MPU_CTRL, 5),
    ]
    assert port.mpu == (SHM, RASR_NC | (11 << 1), 4096)
    # Barriers: after the cache maintenance, after disabling, after enabling.
    enable_at = writes[-1][0]
    assert sync.calls >= 3 and sync.at[-1] > enable_at
    assert soc.scs.noncacheable(SHM) and soc.scs.noncacheable(SHM + 0x8A0 - 1)
    assert not soc.scs.noncacheable(SHM + 4096)


def test_mpu_region_size_follows_the_buffer_count_and_keeps_hfnmiena():
    soc = _soc(buffer_count=4)
    soc.scs.ctrl = 2  # HFNMIENA set by earlier firmware
    port = _port(soc)
    assert port.mpu == (SHM, RASR_NC | (12 << 1), 8192)  # 0x1100 bytes -> 8 KiB
    assert soc.scs.ctrl == 7


def test_mpu_refuses_bad_regions_and_bases():
    soc = _soc()
    assert "openamp" in str(raises(ValueError, _port, soc, mpu_region=10))
    assert "does not exist" in str(raises(ValueError, _port, _soc(mpu_regions=8)))
    # A 4 KiB region must start on a 4 KiB boundary.
    cfg = sdk_config(2, base=SHM + 0x800)
    soc = RT1170(config=cfg)
    assert "aligned" in str(raises(ValueError, IMXRT1170, config=cfg, shm_base=SHM + 0x800, regs=soc.cm7, ram=soc.ram))
    # A region already holding something else is not taken over.
    soc = _soc()
    soc.scs.set_region(15, 0x80000000, RASR_NC | (20 << 1))
    assert "already in use" in str(raises(PlatformConflict, _port, soc))
    # mpu_region=None leaves the MPU alone.
    soc = _soc()
    assert _port(soc, mpu_region=None).mpu is None and _no_mpu_changes(soc)


def test_an_identical_region_from_an_earlier_session_is_kept():
    soc = _soc()
    _port(soc)
    before = len(soc.scs.mpu_writes)
    ops = len(soc.scs.cache_ops)
    _port(soc)  # e.g. after a soft reset
    assert [w[0] for w in soc.scs.mpu_writes[before:]] == ["RNR"] * 4  # probes only
    assert len(soc.scs.cache_ops) == ops
    soc.scs.ctrl = 0  # our region is there but the MPU was switched off: enable it again
    _port(soc)
    assert soc.scs.ctrl == 5 and soc.scs.noncacheable(SHM)


# -- starting the CM4 ----------------------------------------------------------------------


def _boot_writes(trace):
    wanted = (GPR0, GPR1, SRC_CTRL_M4CORE, SRC_SCR)
    return [(e[1], e[2]) for e in trace if e[0] == "w" and e[1] in wanted]


def test_cm4_boot_register_sequence():
    soc = _soc()
    soc.src.scr = 2  # BT_RELEASE_M7 (bit 1) must be kept
    port = _port(soc)
    soc.cm7.trace = []
    port.start_cm4()
    assert _boot_writes(soc.cm7.trace) == [
        (GPR0, 0x0000),  # 0x20200000 & 0xFFF8
        (GPR1, 0x2020),  # 0x20200000 >> 16
        (SRC_CTRL_M4CORE, 1),  # SW_RESET
        (SRC_SCR, 3),  # BT_RELEASE_M4 set, the rest kept
    ]
    assert soc.cm4.boot_address == 0x20200000 and soc.src.m4_resets == 1
    assert port.cm4_released()


def test_cm4_boot_address_fields_and_alignment():
    soc = _soc()
    port = _port(soc)
    raises(ValueError, port.start_cm4, None, 0x20201234)  # GPR0 keeps bits 15:3 only
    assert soc.gpr.writes == []
    port.start_cm4(None, 0x20201238)
    assert soc.gpr.writes == [(0, 0x1238), (4, 0x2020)]
    assert soc.cm4.boot_address == 0x20201238


def test_cm4_image_is_copied_and_cleaned_before_release():
    soc = _soc()
    port = _port(soc)
    image = _image(200)
    ops = len(soc.scs.cache_ops)
    soc.cm7.trace = []
    port.start_cm4(image)
    assert bytes(soc.cm4_tcm[:200]) == image and soc.cm4.vectors == image[:8]
    assert soc.scs.cache_ops[ops:] == [("DCCMVAC", 0x20200000 + 32 * i) for i in range(7)]
    addrs = [e[1] for e in soc.cm7.trace if e[0] == "w"]
    assert max(i for i, a in enumerate(addrs) if a == DCCMVAC) < addrs.index(GPR0)


def test_cm4_start_is_refused_when_already_released():
    soc = _soc()
    port = _port(soc)
    soc.src.scr = 1
    e = raises(RuntimeError, port.start_cm4, _image())
    assert "already released" in str(e) and "reset" in str(e)
    assert soc.gpr.writes == [] and bytes(soc.cm4_tcm[:8]) == bytes(8)


def test_bad_cm4_images_are_refused():
    soc = _soc()
    port = _port(soc)
    raises(ValueError, port.start_cm4, b"\x7fELF" + bytes(60))
    raises(ValueError, port.start_cm4, (0x20020000).to_bytes(4, "little") + (0x400).to_bytes(4, "little"))
    raises(ValueError, port.start_cm4, _image(0x20008))  # larger than the 128 KiB code TCM
    raises(ValueError, port.start_cm4, _image(), SHM)  # over the shared memory
    assert not port.cm4_released()


# -- the MCMGR start-up handshake -------------------------------------------------------------


def test_mcmgr_startup_handshake_words_in_order():
    soc, port, link = _boot("mcmgr")
    assert soc.mu.words() == [
        ("B", 0x00010000),  # core up
        ("B", 0x00050001),  # feed me the low half
        ("A", 0x00040000),  # low half of 0x202C0000
        ("B", 0x00050002),
        ("A", 0x0004202C),  # high half
        ("B", 0x00050003),  # running
        ("B", 0x00070001),  # RemoteApplication: RPMsg-Lite remote initialised
        ("A", 0x00060000),  # the master's init kick
    ]
    assert port.cm4_up and port.cm4_running and port.remote_ready()
    assert port.startup_replies == 2 and port.other_events == 0
    assert soc.cm4.startup == SHM and soc.cm4.blocked == 0


def test_gir_mode_has_no_mcmgr_and_the_master_inits_at_once():
    # A GIR-mode CM4 image has no MCMGR MU path (rpmsg-lite and MCMGR both
    # define MUA/MUB_IRQHandler): no word on channel 3 either way, and the
    # master's GIR0 kick waits in GIP0 until the CM4 enables GIE0.
    soc = _soc("gir")
    port = _port(soc, "gir")
    port.start_cm4(_image())
    assert port.wait_remote_ready(0) and port.wait_cm4_running(0)  # nothing to wait for
    link = port.master()  # before the CM4 has run a single step
    assert soc.mu.b.gip == bit(0)  # latched
    inbox = Inbox()
    ept = link.create_ept(40, inbox)
    _run(soc, port)
    assert soc.cm4.link.is_link_up() and soc.cm4.startup == SHM
    link.send(ept, 30, (7).to_bytes(4, "little"))
    _run(soc, port)
    assert inbox.messages[-1] == ((8).to_bytes(4, "little"), 30)
    assert soc.mu.words() == [] and port.words_in == 0


def test_a_soft_reset_of_the_cm7_attaches_to_the_running_cm4():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode, EchoApp())
        link.send(ept, 30, b"before")
        _run(soc, port)
        # Soft reset: MicroPython starts over, the CM4 runs on; MCMGR's
        # ready event and the announcement are not sent again.
        port2 = _port(soc, mode)
        assert port2.cm4_released()
        if mode == "mcmgr":
            assert not port2.wait_remote_ready(30)
        link2 = port2.attach_or_master()
        assert link2.is_link_up()
        inbox2 = Inbox()
        ept2 = link2.create_ept(40, inbox2)
        for i in range(6):
            link2.send(ept2, 30, b"after %d" % i)
            _run(soc, port2, 3)
        assert [m[0] for m in inbox2.messages] == [b"after %d" % i for i in range(6)], mode


def test_attach_or_master_formats_a_region_that_was_never_formatted():
    soc = _soc()
    port = _port(soc)
    port.start_cm4(_image())
    assert port.wait_remote_ready(2000)
    link = port.attach_or_master()  # nothing formatted yet: a fresh master
    _run(soc, port)
    assert soc.cm4.link.is_link_up() and link.is_link_up()


def test_startup_data_is_configurable_and_a_wrong_base_halts_the_cm4():
    soc = _soc()
    port = _port(soc, startup_data=0x12345678)
    port.start_cm4(_image())
    assert port.wait_cm4_running(1000)
    assert ("A", 0x00045678) in soc.mu.words() and ("A", 0x00041234) in soc.mu.words()
    soc.step(3)
    assert soc.cm4.fault and "0x12345678" in soc.cm4.fault
    assert not port.wait_remote_ready(5)


def test_waiting_for_a_cm4_that_never_answers_times_out():
    soc = _soc()
    soc.cm4.dead = True
    port = _port(soc)
    port.start_cm4(_image())
    start = rl_env.ticks_ms()
    assert not port.wait_remote_ready(20)
    assert rl_env.ticks_diff(rl_env.ticks_ms(), start) < 2000
    assert not port.cm4_up


def test_other_and_zero_mcmgr_words():
    soc, port, link = _boot()
    words = port.words_in
    soc.cm4_bus.write(MUB_TR3, 0)  # ignored, as by MCMGR
    port.service()
    soc.cm4_bus.write(MUB_TR3, 0x00020000)  # RemoteCoreDown
    port.service()
    assert port.words_in == words + 2 and port.other_events == 1 and port.last_event == 0x00020000


# -- messaging end to end -------------------------------------------------------------------------


def test_link_up_and_name_service_in_both_modes():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode)
        assert soc.cm4.link.is_link_up() and link.is_link_up()
        assert soc.cm4.ept.addr == 30 and ept.addr == 40
        if mode == "mcmgr":
            assert ("A", 0x00060000) in soc.mu.words() and ("B", 0x00060000) in soc.mu.words()
        else:
            assert ("A", "GIR", 0) in soc.mu.log and ("B", "GIR", 0) in soc.mu.log
            assert soc.mu.words() == []  # channel 3: nothing at all


def test_pingpong_like_the_nxp_example_in_both_modes():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode)
        value = 0  # no hello first: the CM7-master build of the example starts with the counter
        for _ in range(20):
            link.send(ept, 30, value.to_bytes(4, "little"))
            _run(soc, port, 4)
            data, src = inbox.messages[-1]
            assert src == 30 and int.from_bytes(data, "little") == value + 1
            value += 2
        assert len(inbox.messages) == 20
        kick = ("A", 0x00060001) if mode == "mcmgr" else ("A", "GIR", 1)
        assert kick in (soc.mu.words() if mode == "mcmgr" else soc.mu.log)


def test_full_size_payloads_both_ways_in_both_modes():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode, EchoApp(), buffer_count=4)
        sent = [pattern(496, i) for i in range(12)] + [b"", b"x"]
        for data in sent:
            link.send(ept, 30, data)  # blocks (stepping the CM4) if no buffer is free
            _run(soc, port, 2)
        _run(soc, port)
        assert [m[0] for m in soc.cm4.app.received] == sent
        assert [m[0] for m in inbox.messages] == sent and {m[1] for m in inbox.messages} == {30}


def test_cm4_initiated_messages_reach_the_master():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode)
        for i in range(5):
            soc.cm4.link.send(soc.cm4.ept, 40, b"unsolicited %d" % i, DONT_BLOCK)
            port.service()
        assert [m[0] for m in inbox.messages] == [b"unsolicited %d" % i for i in range(5)]


def test_zero_copy_both_ways():
    for mode in MODES:
        soc, port, link, ept, _ = _ready(mode, EchoApp())
        held = Inbox(HOLD)
        zept = link.create_ept(41, held)
        for i in range(6):
            buf = link.alloc_tx_buffer()
            buf[0:5] = b"zc-%02d" % i
            link.send_nocopy(zept, 30, buf, 5)
            _run(soc, port, 3)
            assert held.messages[-1] == (b"zc-%02d" % i, 30)
            link.release_rx_buffer(held.views[-1])
        assert len(held.messages) == 6


# -- hazards ---------------------------------------------------------------------------------------


def test_a_dead_cm4_hangs_neither_notify_nor_send():
    for mode in MODES:
        soc, port, link, ept, inbox = _ready(mode)
        soc.cm4.dead = True
        for _ in range(200):
            port.notify(1)  # returns at once every time
        link.send(ept, 30, b"1", DONT_BLOCK)
        link.send(ept, 30, b"2", DONT_BLOCK)  # N = 2 TX buffers, both now with the dead CM4
        start = rl_env.ticks_ms()
        e = raises(RPMsgError, link.send, ept, 30, b"3", 20)
        assert e.code == ERR_NO_MEM
        assert rl_env.ticks_diff(rl_env.ticks_ms(), start) < 2000
        assert port.coalesced >= 200 and port.overwritten == 0, port.stats()


def test_mcmgr_overwrite_of_a_different_unread_word_is_counted():
    soc, port, link, ept, inbox = _ready("mcmgr")
    soc.cm4.dead = True
    port.notify(1)
    port.notify(1)  # same kick pending: skipped
    port.notify(0)  # a different one: written over it, like MCMGR_TriggerEventForce
    assert (port.coalesced, port.overwritten) == (1, 1)
    assert soc.mu.a.overwrites[3] == 1 and soc.mu.b.rr[3] == 0x00060000


def test_trigger_interrupts_refuses_while_gir_is_pending_and_keeps_enables():
    soc = _soc("gir")
    enables = (1 << 25) | (1 << 22) | (1 << 29)  # RIE2, TIE1, GIE2: not ours, must survive
    soc.mu.a.cr_rest = enables
    port = _port(soc, "gir")
    soc.cm7.trace = []
    port.notify(1)
    assert soc.mu.a.cr_value() == enables | (1 << 18) and soc.mu.b.gip == bit(1)
    cr_writes = [e for e in soc.cm7.trace if e[0] == "w" and e[1] == MUA_CR]
    assert cr_writes == [("w", MUA_CR, enables | (1 << 18))]
    soc.cm7.trace = []
    port.notify(1)  # GIR1 still set: MU_TriggerInterrupts fails, nothing written
    assert [e for e in soc.cm7.trace if e[0] == "w"] == [] and port.coalesced == 1
    port.notify(0)  # another GIR is free to go
    assert soc.mu.a.cr_value() == enables | (1 << 18) | (1 << 19)
    soc.cm4_bus.write(MUB_SR, 1 << 30)  # the CM4 takes GIP1: our GIR1 drops
    assert soc.mu.a.cr_value() == enables | (1 << 19)
    port.notify(1)
    assert soc.mu.a.gir == bit(0) | bit(1) and soc.mu.a.gir_requests[1] == 2


def test_gip_is_cleared_exactly_once_per_notification():
    soc, port, link, ept, inbox = _ready("gir", EchoApp(), buffer_count=4)
    base_clears = soc.mu.a.gip_clears[0]
    base_requests = soc.mu.b.gir_requests[0]
    for i in range(10):
        link.send(ept, 30, b"m%d" % i, DONT_BLOCK)
        _run(soc, port, 3)
        for _ in range(3):
            port.service()  # nothing pending: no further clear
    kicks = soc.mu.b.gir_requests[0] - base_requests
    assert kicks == 10 and soc.mu.a.gip_clears[0] - base_clears == kicks
    assert soc.mu.a.gip_spurious == 0 and soc.mu.a.gip_clears[1] == 0
    assert [m[0] for m in inbox.messages] == [b"m%d" % i for i in range(10)]
    # Two CM4 kicks before we look: the second is refused on its side and one
    # clear covers both messages.
    soc.cm4.link.send(soc.cm4.ept, 40, b"a", DONT_BLOCK)
    soc.cm4.link.send(soc.cm4.ept, 40, b"b", DONT_BLOCK)
    before = soc.mu.a.gip_clears[0]
    assert soc.cm4.platform.refused == 1
    port.service()
    assert soc.mu.a.gip_clears[0] == before + 1 and [m[0] for m in inbox.messages[-2:]] == [b"a", b"b"]


def test_gip_waits_for_a_link_before_it_is_cleared():
    soc = _soc("gir")
    port = _port(soc, "gir")
    port.start_cm4(_image())
    assert port.wait_remote_ready(1000)
    soc.cm4_bus.write(MUB_CR, 1 << 19)  # the CM4 kicks vring 0 early
    port.service()
    assert soc.mu.a.gip == bit(0) and soc.mu.a.gip_clears[0] == 0 and port.unrouted == 0
    port.master()
    port.service()
    assert soc.mu.a.gip_clears[0] == 1 and soc.mu.a.gip == 0 and port.unrouted == 0


def test_only_link_0_exists_on_this_platform():
    soc = _soc()
    port = _port(soc)
    e = raises(ValueError, RPMsgLite.master, port.shm, port, port.config, 1)
    assert "one link" in str(e)


def test_mode_is_checked():
    raises(ValueError, _port, _soc(), "irq")


# -- no allocation on the hot paths (MicroPython) ---------------------------------------------------

ROUNDS = 200


def _hot_step(rig, i):
    # CM7 -> CM4: send + notify; the CM4 takes its interrupt; CM4 -> CM7:
    # its send + notify; the CM7 polls (service) and receives.
    rig.link.send(rig.ept, 30, rig.data, DONT_BLOCK)
    rig.cm4.service_mu()
    rig.cm4.link.send(rig.cm4.ept, 40, rig.data, DONT_BLOCK)
    rig.port.service()
    rig.port.notify(1)  # a kick with nothing new: coalesced or re-sent
    rig.cm4.service_mu()
    rig.port.wait(0)


class _Rig:
    def __init__(self, **parts):
        for key in parts:
            setattr(self, key, parts[key])


def test_notify_and_polling_allocate_nothing():
    if not IS_MICROPYTHON:
        skip("heap locking is only observable on MicroPython")
    for mode in MODES:
        soc, port, link = _boot(mode, app=CountingApp(), log=False, direct=True)
        back = CountingApp()
        ept = link.create_ept(40, back)
        _run(soc, port)
        assert soc.cm4.link.is_link_up()
        rig = _Rig(port=port, link=link, ept=ept, cm4=soc.cm4, data=bytes(range(64)))
        _hot_step(rig, 0)  # warm-up
        micropython.heap_lock()
        try:
            for i in range(1, ROUNDS + 1):
                _hot_step(rig, i)
        finally:
            micropython.heap_unlock()
        assert soc.cm4.app.count == ROUNDS + 1 and back.count == ROUNDS + 1, mode
        assert back.total == 64 * (ROUNDS + 1)
