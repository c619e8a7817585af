"""First-hour self-test for a MIMXRT1170-EVK running this project: checks
on the silicon each hardware fact the test suite could only model
(host_tests/portable/model_imxrt1170.py), one PASS/FAIL/SKIP line per
fact, then a summary to paste into a bug report.

On the board (MicroPython on the CM7, rpmsg_lite and rl_imxrt1170
installed or frozen, and /cm4.bin: NXP's rpmsg_lite_pingpong remote for
the CM4, raw binary, built with RL_USE_MCMGR_IPC_ISR_HANDLER=1 and
RL_BUFFER_COUNT=2, as boards/mimxrt1170_evk/main.py expects):

    >>> import selftest
    >>> selftest.run()

It opens the MU clock gate and checks it reports on, reads the MU status,
looks for the openamp module's traces, reports the caches, programs and
reads back the MPU region over the shared memory, releases the CM4 and
runs MCMGR's start-up handshake, brings the link up, and measures the
pingpong round trip. Run it again after a soft reset (Ctrl-D): the CM4
keeps running, and the self-test checks the port attaches to it.
CI runs the same code against the register models (host_tests/
test_board_selftests.py) through the ``hw`` argument.
"""

import sys
import time

import rl_imxrt1170 as rt
from rl_imxrt1170 import soc
from rpmsg_lite import NameService, Queue

IMAGE = "/cm4.bin"
BUFFERS = 2  # the pingpong example's RL_BUFFER_COUNT
ROUNDS = 50
SCB_CCR = 0xE000ED14  # CMSIS core_cm7.h SCB_Type CCR; DC = bit 16, IC = bit 17
CCR_DC = 1 << 16
CCR_IC = 1 << 17


class BoardHW:
    """The real board: machine.mem32, uctypes.bytearray_at, the CM4 image
    from the filesystem. Tests replace the fields with models."""

    name = "board"

    def __init__(self, image_path=IMAGE):
        self.regs = None  # rl_regs.HW (the port's default)
        self.ram = None  # uctypes.bytearray_at
        self.idle = None
        self.image = None
        try:
            with open(image_path, "rb") as f:
                self.image = f.read()
        except OSError:
            pass

    def ticks_us(self):
        return time.ticks_us()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)


class Report:
    def __init__(self, out):
        self.out = out
        self.lines = []
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def fact(self, name, status, detail=""):
        self.counts[status] += 1
        line = "%s %s: %s" % (status, name, detail)
        self.lines.append(line)
        self.out(line)


def _check(report, name, func, *args):
    try:
        ok, detail = func(*args)
    except Exception as e:  # a fact that raised is a failed fact, the rest still runs
        ok, detail = False, "%s: %s" % (type(e).__name__, e)
    report.fact(name, "PASS" if ok else "FAIL", detail)
    return ok


def _regs(hw):
    if hw.regs is not None:
        return hw.regs
    from rpmsg_lite import regs as rl_regs

    return rl_regs.HW


def _clock(regs):
    reads = soc.enable_mu_clock(regs)
    on = regs.test(soc.LPCG_MU_A_STATUS0, soc.LPCG_STATUS0_ON)
    return bool(on), "LPCG 20 (MU_A) DIRECT %#x, STATUS0 ON after %d read(s)" % (regs.read(soc.LPCG_MU_A_DIRECT), reads)


def _mu(regs):
    sr = regs.read(soc.MUA_BASE + soc.MU_SR)
    cr = regs.read(soc.MUA_BASE + soc.MU_CR)
    te = (sr >> soc.SR_TE_SHIFT) & 0xF
    return te != 0, "MU A SR %#010x (TE %#x), CR %#010x" % (sr, te, cr)


def _openamp(regs):
    found = soc.openamp_conflict(regs)
    return not found, "; ".join(found) if found else "no sign of MicroPython's openamp (GIE0, MPU region 10)"


def _caches(regs):
    ccr = regs.read(SCB_CCR)
    return True, "CM7 D-cache %s, I-cache %s (SCB CCR %#x): the shared region must be non-cacheable" % (
        "on" if ccr & CCR_DC else "off", "on" if ccr & CCR_IC else "off", ccr)


def _port(hw):
    return rt.IMXRT1170(config=rt.sdk_config(buffer_count=BUFFERS), regs=hw.regs, ram=hw.ram, idle=hw.idle)


def _mpu(port, regs):
    if port.mpu is None:
        return False, "no MPU region was programmed"
    rbar, rasr, size = port.mpu
    enabled, got_rbar, got_rasr = soc._mpu_region_enabled(regs, soc.MPU_REGION)
    ok = enabled and got_rbar == rbar and got_rasr == rasr and regs.test(soc.MPU_CTRL, soc.MPU_CTRL_ENABLE)
    return ok, "region %d: RBAR %#x RASR %#x (%d bytes, normal non-cacheable), MPU_CTRL %#x" % (
        soc.MPU_REGION, got_rbar, got_rasr, size, regs.read(soc.MPU_CTRL))


def _start(state, hw):
    port = state["port"]
    if hw.image is None:
        return False, "no %s on the filesystem (NXP rpmsg_lite_pingpong cm4 remote, raw binary)" % IMAGE
    port.start_cm4(hw.image)
    start = time.ticks_ms()
    if not port.wait_remote_ready(5000):
        return False, "no MCMGR ready event within 5 s: %r" % (port.stats(),)
    return True, "CM4 released at %#x; MCMGR handshake (core up, startup data %#x, running, app ready) in %d ms" % (
        rt.CM4_BOOT_ADDRESS, port.startup_data, time.ticks_diff(time.ticks_ms(), start))


def _link(state, hw, attach):
    port = state["port"]
    link = port.attach_or_master() if attach else port.master()
    q = Queue(link)
    seen = []
    NameService(link, lambda addr, name, flags: seen.append((addr, name)))
    link.create_ept(40, q)
    state["link"], state["queue"] = link, q
    if attach:
        state["remote"] = 30
        return port.attached, "attached to the running link (%s)" % ("rings taken over" if port.attached else
                                                                     "formatted afresh")
    start = time.ticks_ms()
    while not seen and time.ticks_diff(time.ticks_ms(), start) < 3000:
        port.wait(10)
    if not seen:
        return False, "link up, but no name-service announcement within 3 s"
    state["remote"] = seen[0][0]
    return True, "link up; the CM4 announced %r at %d" % (seen[0][1], seen[0][0])


def _latency(state, hw):
    link, q = state["link"], state["queue"]
    ept = link.endpoint(40)
    buf = bytearray(4)
    times = []
    value = 0
    for _ in range(ROUNDS):
        t0 = hw.ticks_us()
        link.send(ept, state["remote"], value.to_bytes(4, "little"), 1000)
        q.recv(buf, 1000)
        times.append(hw.ticks_diff(hw.ticks_us(), t0))
        got = int.from_bytes(buf, "little")
        if got != value + 1:
            return False, "sent %d, got %d back (the pingpong remote adds 1)" % (value, got)
        value = got
    times.sort()
    return True, "pingpong round trip median %d us, max %d us over %d rounds" % (
        times[len(times) // 2], times[-1], ROUNDS)


def run(hw=None, out=print):
    """Run every check; returns the Report."""
    if hw is None:
        hw = BoardHW()
    regs = _regs(hw)
    report = Report(out)
    out("rl_imxrt1170 self-test")
    _check(report, "mu-clock-gate", _clock, regs)
    _check(report, "mu-status", _mu, regs)
    _check(report, "no-openamp", _openamp, regs)
    _check(report, "caches", _caches, regs)
    state = {}
    if not _check(report, "port", lambda: (state.update(port=_port(hw)) or True, "IMXRT1170 port created")):
        return _summary(report, hw, out)
    port = state["port"]
    _check(report, "mpu-region", _mpu, port, regs)
    attach = port.cm4_released()
    if attach:
        report.fact("cm4-start-mcmgr", "SKIP", "the CM4 already runs (soft reset since it started)")
        up = _check(report, "soft-reset-attach", _link, state, hw, True)
    else:
        up = _check(report, "cm4-start-mcmgr", _start, state, hw) and _check(
            report, "link-and-name-service", _link, state, hw, False)
        report.fact("soft-reset-attach", "SKIP", "press Ctrl-D and run the self-test again to check it")
    if up:
        _check(report, "round-trip", _latency, state, hw)
    return _summary(report, hw, out)


def _summary(report, hw, out):
    c = report.counts
    impl = sys.implementation
    out("summary: rl_imxrt1170 self-test %d PASS, %d FAIL, %d SKIP on %s, %s %s; %s" % (
        c["PASS"], c["FAIL"], c["SKIP"], getattr(impl, "_machine", sys.platform), impl.name,
        ".".join(str(x) for x in impl.version[:3]), hw.name))
    return report
