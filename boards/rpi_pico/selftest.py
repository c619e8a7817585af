"""First-hour self-test for a Raspberry Pi Pico (RP2040) running this
project: checks on the silicon each hardware fact the test suite could
only model (host_tests/portable/model_rp2040.py), one PASS/FAIL/SKIP line
per fact, then a summary to paste into a bug report.

On the board (MicroPython >= 1.25, the rpmsg_lite and rl_rp2040 packages
installed or frozen; for the core-1 facts also /core1_echo.bin, built by
boards/rpi_pico/core1_echo/build.py):

    >>> import selftest
    >>> selftest.run()

It launches the example C program on core 1, echoes words through the SIO
FIFO mailbox, writes a small file to flash while core 1 runs, checks that
a FIFO_ST write clears both sticky flags, starts a _thread on core 1 (and
checks that the port refuses to reset it), passes a _thread lock between
the cores, rings the SIO doorbells both ways on an RP2350, and rings a PIO
doorbell. Core 1 ends idle (its _thread has returned); a soft reset resets it.
CI runs the same code against the register models (host_tests/
test_board_selftests.py) through the ``hw`` argument.
"""

import sys
import time

import rl_rp2040 as rp
from rl_rp2040 import hw as rphw
from rl_rp2040 import fifo as rpfifo

# MicroPython's time has ticks_*/sleep_ms; on CPython the shim (imported by
# rl_rp2040 through micropython) adds them.

IMAGE = "/core1_echo.bin"
ECHO_WORDS = 16
LATENCY_ROUNDS = 100


class BoardHW:
    """The real board: machine.mem32 registers, the inline-assembler SEV,
    machine IRQ control, rp2.PIO, _thread, the flash filesystem."""

    name = "board"

    def __init__(self, image_path=IMAGE):
        self.regs = None  # rl_regs.HW (the port's default)
        self.sev = None
        self.irq = None
        self.idle = None
        self.ram = None  # launch_image takes a pinned heap buffer
        self.image = None
        try:
            with open(image_path, "rb") as f:
                self.image = f.read()
        except OSError:
            pass

    def pio(self, index):
        import rp2

        return rp2.PIO(index)

    def scheduled(self):
        time.sleep_ms(1)  # soft IRQ handlers run on core 0 meanwhile

    def flash_write(self):
        import os

        with open("/selftest.tmp", "wb") as f:
            f.write(bytes(4096))
        os.remove("/selftest.tmp")
        return True

    def start_thread(self, func, args):
        import _thread

        _thread.start_new_thread(func, args)

    def thread_ended(self):
        pass  # (called on core 1 as the thread returns)

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


def _regs(hw):
    if hw.regs is not None:
        return hw.regs
    from rpmsg_lite import regs as rl_regs

    return rl_regs.HW


def _check(report, name, func, *args):
    try:
        ok, detail = func(*args)
    except Exception as e:  # a fact that raised is a failed fact, the rest still runs
        ok, detail = False, "%s: %s" % (type(e).__name__, e)
    report.fact(name, "PASS" if ok else "FAIL", detail)
    return ok


def _version():
    impl = sys.implementation
    rphw.check_micropython()  # raises on MicroPython < 1.25 for rp2
    v = impl.version
    return True, "%s %d.%d.%d on %s (rl_rp2040 needs MicroPython >= 1.25)" % (impl.name, v[0], v[1], v[2], sys.platform)


def _cpuid(regs):
    core = regs.field(rphw.SIO_CPUID, 0, 1)
    return core == 0, "SIO CPUID reads %d on the REPL core (expected 0)" % core


def _nvic(regs):
    # SIO_IRQ_PROC0 = 15 on the RP2040, SIO_IRQ_FIFO = 25 on the RP2350 (intctrl.h)
    irq = rphw.RP2350_SIO_IRQ_FIFO if rphw.is_rp2350() else rphw.SIO_IRQ_PROC0
    on = regs.test(rphw.NVIC_ISER, 1 << irq)
    return bool(on), "core 0 SIO FIFO IRQ (NVIC bit %d) %s (MicroPython's lockout handler)" % (
        irq, "enabled" if on else "DISABLED")


def _mailbox(hw):
    return rp.FifoMailbox(regs=hw.regs, idle=hw.idle, sev=hw.sev, irq=hw.irq)


def _launch(state, hw):
    box = state["box"] = _mailbox(hw)
    vtor, sp, entry = box.launch_image(hw.image, 1000, ram=hw.ram)
    return True, "boot ROM handshake done in %d attempt(s); image at %#x, sp %#x, entry %#x" % (
        box.launch_attempts, vtor, sp, entry)


def _echo(box, count):
    for i in range(count):
        word = (0x5A000000 | i * 0x10101) & 0xFFFFFFFF
        if not box.post(word, 100):
            return False, "post %d timed out (TX FIFO full)" % i
        back = box.read_word(100)
        if back != word:
            return False, "word %d: sent %#x, got %r (no SEV wake-up?)" % (i, word, back)
    return True, "%d words echoed in order by core 1 (each push followed by SEV)" % count


def _flash(box, hw):
    if not hw.flash_write():
        return False, "the flash write did not complete"
    ok, detail = _echo(box, 4)
    return ok, "wrote 4 KiB to flash while core 1 ran from RAM; echo afterwards: " + detail


def _latency(box, hw):
    times = []
    for i in range(LATENCY_ROUNDS):
        t0 = hw.ticks_us()
        box.post(i, 100)
        if box.read_word(100) != i:
            return False, "round %d lost" % i
        times.append(hw.ticks_diff(hw.ticks_us(), t0))
    times.sort()
    return True, "FIFO round trip median %d us, max %d us over %d rounds" % (
        times[len(times) // 2], times[-1], LATENCY_ROUNDS)


def _sticky(state, hw, regs):
    # Hold core 1 off, overfill its FIFO (WOF), read ours empty (ROE), then
    # write 0 to FIFO_ST: both must clear (pico/multicore.h L273-276).
    box = state.pop("box")
    box.deinit()  # core 1 back in the boot ROM, IRQ back to MicroPython
    regs.write(rphw.NVIC_ICER, 1 << rphw.SIO_IRQ_PROC0)
    regs.write(rphw.PSM_FRCE_OFF + rphw.ALIAS_SET, rphw.PSM_PROC1)
    try:
        for i in range(rphw.FIFO_DEPTH + 1):
            regs.write(rphw.SIO_FIFO_WR, i)
        while regs.test(rphw.SIO_FIFO_ST, rphw.FIFO_VLD):
            regs.read(rphw.SIO_FIFO_RD)
        regs.read(rphw.SIO_FIFO_RD)
        before = regs.field(rphw.SIO_FIFO_ST, 0, 4)
        regs.write(rphw.SIO_FIFO_ST, 0)
        after = regs.field(rphw.SIO_FIFO_ST, 0, 4)
    finally:
        regs.write(rphw.PSM_FRCE_OFF + rphw.ALIAS_CLR, rphw.PSM_PROC1)
        start = time.ticks_ms()
        while not regs.test(rphw.SIO_FIFO_ST, rphw.FIFO_VLD) and time.ticks_diff(time.ticks_ms(), start) < 100:
            if hw.idle is not None:
                hw.idle()
        rpfifo._drain(regs)  # the boot ROM's greeting 0
        regs.write(rphw.SIO_FIFO_ST, 0)
        regs.write(rphw.NVIC_ICPR, 1 << rphw.SIO_IRQ_PROC0)
        regs.write(rphw.NVIC_ISER, 1 << rphw.SIO_IRQ_PROC0)
    both = rphw.FIFO_WOF | rphw.FIFO_ROE
    return before & both == both and after & both == 0, "FIFO_ST %#x with WOF and ROE, %#x after writing 0" % (
        before, after)


def _thread_start(state, hw, regs1, bells):
    import _thread

    handoff = _thread.allocate_lock()
    go = _thread.allocate_lock()
    flags = state["flags"] = [False, False]  # [core 1 took the lock, stop]
    handoff.acquire()
    go.acquire()

    def core1(handoff, go, flags):
        go.release()  # core 1 runs
        handoff.acquire()  # blocks until core 0 releases it: the cross-core handoff
        flags[0] = True
        while not flags[1]:
            if bells:
                # RP2350: answer each doorbell bit b from core 0 with bit b + 1.
                got = regs1.read(rphw.DOORBELL_IN_CLR) & 0x7F
                if got:
                    regs1.write(rphw.DOORBELL_IN_CLR, got)
                    regs1.write(rphw.DOORBELL_OUT_SET, got << 1)
            time.sleep_ms(1)
        hw.thread_ended()

    hw.start_thread(core1, (handoff, go, flags))
    state["thread"] = True
    if not _spin_acquire(go, 2000):
        return False, "the core-1 thread did not start within 2 s"
    handoff.release()  # core 1 takes it
    return True, "_thread started on core 1"


def _thread_probe(hw):
    box = _mailbox(hw)
    try:
        box.launch_core1(0x20000001, 0x20001000, 0x20000000, 200)
    except RuntimeError as e:
        return "MicroPython" in str(e), "launch refused while a _thread runs on core 1 (it answered the lockout probe)"
    except OSError as e:
        return False, "launch was attempted over a running _thread: %s" % e
    finally:
        box.deinit()
    return False, "launch went ahead over a running _thread"


def _bells(regs):
    # Core 0 rings bit 0 in core 1's DOORBELL_IN; the core-1 thread clears it
    # and rings bit 1 back (rp2350 sio.h L1936-1984).
    regs.write(rphw.DOORBELL_IN_CLR, 0xFF)
    regs.write(rphw.DOORBELL_OUT_SET, 1)
    start = time.ticks_ms()
    got = 0
    while time.ticks_diff(time.ticks_ms(), start) < 1000:
        got = regs.read(rphw.DOORBELL_IN_CLR) & 0xFF
        if got:
            break
        time.sleep_ms(1)
    regs.write(rphw.DOORBELL_IN_CLR, got)
    left = regs.read(rphw.DOORBELL_IN_CLR) & 0xFF
    return got == 2 and left == 0, "rang bit 0 of core 1, got %#x back, %#x left after IN_CLR" % (got, left)


def _spin_acquire(lock, ms):
    # (MicroPython's lock.acquire has no timeout argument)
    start = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), start) < ms:
        if lock.acquire(0):
            return True
        time.sleep_ms(1)
    return False


def _thread_stop(state, hw):
    flags = state["flags"]
    start = time.ticks_ms()
    while not flags[0] and time.ticks_diff(time.ticks_ms(), start) < 1000:
        time.sleep_ms(1)
    took = flags[0]
    flags[1] = True
    time.sleep_ms(20)
    return took, "the core-1 thread %s the _thread lock core 0 released" % ("took" if took else "never took")


def _pio(hw):
    fired = []
    bell = rp.PioDoorbell(0, 0, pio=hw.pio(0), regs=hw.regs)
    bell.listen(lambda pio: fired.append(1))
    try:
        for _ in range(3):
            bell.ring()  # (meant for core 1; the PIO block answers either core)
            hw.scheduled()
    finally:
        bell.close()
    return len(fired) == 3, "PIO0 IRQ_FORCE flag 0 -> soft IRQ handler on core 0: %d of 3" % len(fired)


def run(hw=None, out=print):
    """Run every check; returns the Report (lines, counts)."""
    if hw is None:
        hw = BoardHW()
    regs = _regs(hw)
    report = Report(out)
    out("rl_rp2040 self-test")
    _check(report, "micropython-version", _version)
    _check(report, "sio-cpuid", _cpuid, regs)
    _check(report, "lockout-irq-enabled", _nvic, regs)
    state = {}
    if rphw.is_rp2350():
        report.fact("core1-launch", "SKIP", "RP2350: the FIFO mailbox is RP2040 only (BellMailbox)")
    elif hw.image is None:
        report.fact("core1-launch", "SKIP", "no %s: build boards/rpi_pico/core1_echo and copy it" % IMAGE)
    elif _check(report, "core1-launch", _launch, state, hw):
        box = state["box"]
        _check(report, "fifo-echo-with-sev", _echo, box, ECHO_WORDS)
        _check(report, "flash-write-while-core1-runs", _flash, box, hw)
        _check(report, "fifo-round-trip", _latency, box, hw)
        _check(report, "fifo-st-write-clears-both", _sticky, state, hw, regs)
    if "box" in state:
        state.pop("box").deinit()
    rp2350 = rphw.is_rp2350()
    regs1 = getattr(hw, "regs1", None) or regs  # the same accessor on the board: SIO answers per core
    if _check(report, "thread-start", _thread_start, state, hw, regs1, rp2350):
        if rp2350:
            report.fact("thread-refuses-launch", "SKIP", "RP2350: no FIFO mailbox")
            _check(report, "rp2350-sio-doorbells", _bells, regs)
        else:
            _check(report, "thread-refuses-launch", _thread_probe, hw)
    if state.get("thread"):
        _check(report, "thread-lock-across-cores", _thread_stop, state, hw)
    _check(report, "pio-doorbell", _pio, hw)
    c = report.counts
    impl = sys.implementation
    out("summary: rl_rp2040 self-test %d PASS, %d FAIL, %d SKIP on %s, %s %s; %s" % (
        c["PASS"], c["FAIL"], c["SKIP"], getattr(impl, "_machine", sys.platform), impl.name,
        ".".join(str(x) for x in impl.version[:3]), hw.name))
    return report
