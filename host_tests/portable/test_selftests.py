"""The boards' first-hour self-tests (boards/*/selftest.py) against the
register models on both interpreters, so the code users run first on a
board also runs on MicroPython here. (host_tests/test_board_selftests.py
adds the core-1 C image on CPython.)"""

import _thread
import time

import support
import rl_imxrt1170 as rt
from model_rp2040 import RP2040
from model_imxrt1170 import RT1170, PingPongApp


def _load(board):
    namespace = {"__name__": board + "_selftest"}
    with open(support.repo_path("boards", board, "selftest.py")) as f:
        exec(f.read(), namespace)
    return namespace


class _Pico:
    name = "models"

    def __init__(self, chip):
        self.chip = chip
        self.regs = chip.core0
        self.sev = lambda: chip.sev(0)
        self.irq = chip.irq_functions(0)
        self.idle = None
        self.image = None  # (the C image needs the cross compiler: CPython test)
        self.ram = None

    def pio(self, index):
        return self.chip.pio[index].rp2

    def scheduled(self):
        self.chip.run_scheduled()

    def flash_write(self):
        return self.chip.flash_write()

    def start_thread(self, func, args):
        self.chip.start_thread()
        _thread.start_new_thread(func, args)

    def thread_ended(self):
        self.chip.thread_done()

    def ticks_us(self):
        return time.ticks_us()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)


def _status(report):
    out = {}
    for line in report.lines:
        head = line.split(":")[0]
        out[head[5:]] = head[:4]
    return out


def test_pico_selftest_on_the_models():
    chip = RP2040()
    lines = []
    report = _load("rpi_pico")["run"](_Pico(chip), lines.append)
    assert _status(report) == {
        "micropython-version": "PASS",
        "sio-cpuid": "PASS",
        "lockout-irq-enabled": "PASS",
        "core1-launch": "SKIP",
        "thread-start": "PASS",
        "thread-refuses-launch": "PASS",
        "thread-lock-across-cores": "PASS",
        "pio-doorbell": "PASS",
    }, lines
    assert lines[-1].startswith("summary: rl_rp2040 self-test 7 PASS, 0 FAIL, 1 SKIP")
    assert chip.nvic[0].enabled & (1 << 15) and chip.resets == 1  # the thread's reset only


def test_rt1170_selftest_on_the_models():
    soc = RT1170(mode="mcmgr", config=rt.sdk_config(2), app=PingPongApp())
    selftest = _load("mimxrt1170_evk")
    hw = selftest["BoardHW"]("/nonexistent/cm4.bin")
    hw.name = "models"
    hw.regs = soc.cm7
    hw.ram = soc.ram
    hw.idle = soc.step
    hw.image = (0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little") + bytes(56)
    lines = []
    report = selftest["run"](hw, lines.append)
    assert report.counts["FAIL"] == 0 and report.counts["PASS"] == 9, lines
    report = selftest["run"](hw, lines.append)  # after a "soft reset": attach
    assert report.counts["FAIL"] == 0 and _status(report)["soft-reset-attach"] == "PASS", lines
