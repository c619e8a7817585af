"""CPython only: the first-hour self-tests of the boards
(boards/rpi_pico/selftest.py, boards/mimxrt1170_evk/selftest.py) run
against the register models, so the code a user runs first on real
hardware is exercised in CI: every fact must PASS here (the core-1 image
facts SKIP only when gcc-arm-none-eabi is missing), and the summary line
must be there to paste."""

import _thread
import importlib.util
import os
import time

import pytest

import machine  # the shim (conftest puts it first on sys.path)

import rl_imxrt1170 as rt
from model_rp2040 import RP2040, EchoImage
from model_imxrt1170 import RT1170, PingPongApp

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(board, name="selftest"):
    path = os.path.join(REPO, "boards", board, name + ".py")
    spec = importlib.util.spec_from_file_location("%s_%s" % (board, name), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _echo_image(tmp_path):
    from test_rp2040_core1_echo import ensure_toolchain

    if ensure_toolchain() is not None:
        return None
    return _load("rpi_pico/core1_echo", "build").check(str(tmp_path / "core1_echo"))


class PicoModel:
    """What boards/rpi_pico/selftest.py needs from the board, on the model."""

    name = "register models (CI)"

    def __init__(self, chip, image, ram):
        self.chip = chip
        self.regs = chip.core0
        self.sev = lambda: chip.sev(0)
        self.irq = chip.irq_functions(0)
        self.idle = None
        self.image = image
        self.ram = ram
        self.threads = 0
        if image is not None:
            chip.firmware = EchoImage(chip, self._memory, len(image))

    def _memory(self, addr, n):
        import uctypes

        off = addr - uctypes.addressof(self.ram)
        return bytes(self.ram[off : off + n])

    def pio(self, index):
        return self.chip.pio[index].rp2

    def scheduled(self):
        self.chip.run_scheduled()

    def flash_write(self):
        return self.chip.flash_write()

    def start_thread(self, func, args):
        self.threads += 1
        self.chip.start_thread()
        _thread.start_new_thread(func, args)

    def thread_ended(self):
        self.chip.thread_done()

    def ticks_us(self):
        return time.ticks_us()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)


def test_pico_selftest_passes_on_the_models(tmp_path):
    selftest = _load("rpi_pico")
    image = _echo_image(tmp_path)
    chip = RP2040()
    space = machine.AddressSpace()
    ram = bytearray(1024)
    space.map_ram(0x20010000, ram, "heap block")
    lines = []
    with machine.use_address_space(space):
        report = selftest.run(PicoModel(chip, image, ram), lines.append)
    fails = [line for line in report.lines if not line.startswith(("PASS", "SKIP"))]
    assert fails == [], "\n".join(lines)
    skipped = [line.split(":")[0] for line in report.lines if line.startswith("SKIP")]
    assert skipped == ([] if image is not None else ["SKIP core1-launch"]), skipped
    want = {"micropython-version", "sio-cpuid", "lockout-irq-enabled", "thread-start", "thread-refuses-launch",
            "thread-lock-across-cores", "pio-doorbell"}
    if image is not None:
        want |= {"core1-launch", "fifo-echo-with-sev", "flash-write-while-core1-runs", "fifo-round-trip",
                 "fifo-st-write-clears-both"}
    assert {line.split(":")[0][5:] for line in report.lines if line.startswith("PASS")} == want
    assert lines[-1].startswith("summary: rl_rp2040 self-test %d PASS, 0 FAIL" % len(want))
    # It left the chip as MicroPython wants it: core 1 not ours, IRQ 15 on.
    assert chip.nvic[0].enabled & (1 << 15) and chip.locked_out == [False, False]
    if image is not None:
        assert chip.firmware.echoed >= 16 + 4 + 100 and chip.flash_writes == 1


def test_pico_selftest_reports_a_port_that_forgets_sev(tmp_path, monkeypatch):
    # The point of the self-test: a broken fact is one FAIL line, the rest runs.
    image = _echo_image(tmp_path)
    if image is None:
        pytest.skip("gcc-arm-none-eabi is not installed: the core-1 example cannot be built")
    selftest = _load("rpi_pico")
    chip = RP2040()
    space = machine.AddressSpace()
    ram = bytearray(1024)
    space.map_ram(0x20010000, ram, "heap block")
    hw = PicoModel(chip, image, ram)
    hw.sev = lambda: None  # a SEV that does nothing: core 1 sleeps through every word
    lines = []
    with machine.use_address_space(space):
        report = selftest.run(hw, lines.append)
    assert report.lines[3].startswith("FAIL core1-launch"), lines
    assert report.counts["FAIL"] == 1 and lines[-1].startswith("summary:")


def test_pico2_selftest_rings_the_rp2350_doorbells_on_the_models(monkeypatch):
    from rl_rp2040 import hw as rphw

    selftest = _load("rpi_pico")
    monkeypatch.setattr(rphw, "is_rp2350", lambda: True)
    chip = RP2040(rp2350=True)
    hw = PicoModel(chip, None, None)
    hw.regs1 = chip.core1  # core 1's own view of the SIO (the same accessor on the board)
    lines = []
    report = selftest.run(hw, lines.append)
    status = {line.split(":")[0][5:]: line[:4] for line in report.lines}
    assert status == {
        "micropython-version": "PASS",
        "sio-cpuid": "PASS",
        "lockout-irq-enabled": "PASS",
        "core1-launch": "SKIP",
        "thread-start": "PASS",
        "thread-refuses-launch": "SKIP",
        "rp2350-sio-doorbells": "PASS",
        "thread-lock-across-cores": "PASS",
        "pio-doorbell": "PASS",
    }, "\n".join(lines)
    assert chip.bells_in == [0, 0]


def test_rt1170_selftest_passes_on_the_models(tmp_path):
    selftest = _load("mimxrt1170_evk")
    soc = RT1170(mode="mcmgr", config=rt.sdk_config(2), app=PingPongApp())
    image = (0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little") + bytes(56)
    hw = selftest.BoardHW()
    hw.name = "register models (CI)"
    hw.regs = soc.cm7
    hw.ram = soc.ram
    hw.idle = soc.step
    hw.image = image
    lines = []
    report = selftest.run(hw, lines.append)
    fails = [line for line in report.lines if not line.startswith(("PASS", "SKIP"))]
    assert fails == [], "\n".join(lines)
    assert lines[-1].startswith("summary: rl_imxrt1170 self-test")
    assert soc.mu.gated_accesses == 0 and soc.cm4.link.is_link_up()
    # After a soft reset the CM4 runs on: the same self-test attaches.
    lines2 = []
    report = selftest.run(hw, lines2.append)
    assert [line for line in report.lines if line.startswith("FAIL")] == [], "\n".join(lines2)
    assert any(line.startswith("PASS soft-reset-attach") for line in report.lines), lines2
