"""CPython only: the example core-1 C program (boards/rpi_pico/core1_echo)
built with Debian's gcc-arm-none-eabi for the Cortex-M0+, checked, and
launched through the real port (FifoMailbox.launch_image) against the
RP2040 model, which reads the relocated vector table out of the pinned
buffer and then behaves as the C source does (model_rp2040.EchoImage)."""

import importlib.util
import os

import pytest

import machine  # the shim (conftest puts it first on sys.path)
import uctypes

import rl_rp2040 as rp
from rl_rp2040 import FifoMailbox
from model_rp2040 import RP2040, EchoImage, PSM_FRCE_OFF, PSM_PROC1

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "boards", "rpi_pico", "core1_echo", "build.py")


def _builder():
    spec = importlib.util.spec_from_file_location("core1_echo_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_toolchain():
    """Install Debian's gcc-arm-none-eabi if missing (as the QEMU tests do);
    returns the reason it is unavailable, or None."""
    import sys

    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import qemu

        qemu.ensure_toolchain()
    except Exception as e:  # qemu.Unavailable: no apt-get, not root, no network
        return str(e)
    finally:
        del sys.path[0]
    try:
        _builder().toolchain()
    except Exception as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    reason = ensure_toolchain()
    if reason is not None:
        pytest.skip("core-1 example not built: %s" % reason)
    return _builder().check(str(tmp_path_factory.mktemp("core1_echo")))


def test_the_image_is_a_small_position_independent_cortex_m0_program(image):
    build = _builder()
    vt = build.words(image)
    assert len(image) < 1024 and len(image) % 4 == 0
    assert vt[0] == len(image)  # the stack ends the image
    assert vt[1] & 1 and 64 <= vt[1] - 1 < len(image)
    assert vt[2] == vt[3] != 0 and vt[4:] == [0] * 12  # NMI, HardFault; nothing else
    assert b"\x20\xbf" in image[64:] and b"\x40\xbf" in image[64:]  # WFE, SEV
    assert (0xD0000050).to_bytes(4, "little") in image  # FIFO_ST, an absolute SIO address


def _sev(chip):
    return lambda: chip.sev(0)


RAM_BASE = 0x20010000  # where the test maps the pinned buffer (a heap block on the board)


@pytest.fixture
def ram():
    """A 1 KiB RAM block at a 32-bit RP2040 address (the shim maps it, so
    uctypes.addressof gives that address, as the board's heap would)."""
    space = machine.AddressSpace()
    block = bytearray(1024)
    space.map_ram(RAM_BASE, block, "heap block")
    with machine.use_address_space(space):
        yield block


def test_launch_image_relocates_it_into_a_pinned_buffer_and_it_echoes(image, ram):
    chip = RP2040()
    box = FifoMailbox(regs=chip.core0, sev=_sev(chip), irq=chip.irq_functions(0))

    def memory(addr, n):
        base = uctypes.addressof(box.image)
        assert base <= addr and addr + n <= base + len(box.image), "core 1 reads outside its buffer"
        return bytes(box.image[addr - base : addr - base + n])

    fw = EchoImage(chip, memory, len(image))
    chip.firmware = fw
    vtor, sp, entry = box.launch_image(image, ram=ram)
    assert fw.fault is None and fw.alive, fw.fault
    assert vtor == RAM_BASE == uctypes.addressof(box.image)
    assert (sp, entry) == (vtor + len(image), vtor + _builder().words(image)[1])
    assert chip.launched == [(vtor, sp, entry)]
    assert bytes(box.image[16:]) == image[16:]  # only the vector table was patched
    for word in (1, 0x12345678, 0xFFFFFFFF, 0, 0x73A8831E):
        assert box.post(word) and box.read_word() == word
    assert fw.echoed == 5 and chip.swallowed == [0, 0]
    box.deinit()  # the buffer is about to be freed: core 1 goes back to the boot ROM
    assert not fw.alive and chip.rom != "running" and box.image is None
    assert chip.psm.writes[-2:] == [(0x2000, PSM_PROC1), (0x3000, PSM_PROC1)]
    assert chip.nvic[0].enabled == 1 << 15


def test_without_sev_after_each_post_the_program_sleeps_on(image, ram):
    # The C program waits with WFE like multicore_fifo_pop_blocking: a word
    # written without SEV is not seen until the next event.
    chip = RP2040()
    box = FifoMailbox(regs=chip.core0, sev=_sev(chip), irq=chip.irq_functions(0))
    fw = EchoImage(chip, lambda a, n: bytes(box.image[a - uctypes.addressof(box.image) :][:n]), len(image))
    chip.firmware = fw
    box.launch_image(image, ram=ram)
    chip.core0[0xD0000054] = 42  # FIFO_WR without SEV
    assert box.read_word(20) is None
    chip.sev(0)
    assert box.read_word(20) == 42
    box.deinit()


def test_launch_image_refuses_images_it_cannot_relocate(ram):
    chip = RP2040()
    box = FifoMailbox(regs=chip.core0, sev=_sev(chip), irq=chip.irq_functions(0))
    good = bytearray(128)
    good[0:4] = (128).to_bytes(4, "little")
    good[4:8] = (0x41).to_bytes(4, "little")
    for offset, value in ((4, 0x40), (0, 130), (0, 256), (4, 0x201), (8, 0x40)):
        bad = bytearray(good)
        bad[offset : offset + 4] = value.to_bytes(4, "little")
        with pytest.raises(ValueError) as e:
            box.launch_image(bytes(bad), ram=ram)
        assert "word" in str(e.value) or "vector" in str(e.value)
    with pytest.raises(ValueError):
        rp.relocate_image(bytearray(good), 0x20000080)  # VTOR must be 256-byte aligned
    assert chip.psm.writes == [] and chip.launched == []
    box.deinit()


def test_build_script_reports_a_missing_toolchain_clearly(monkeypatch, capsys):
    build = _builder()
    monkeypatch.setenv("PATH", "/nonexistent")
    assert build.main(["--out", "/tmp/unused-core1"]) == 1
    assert "gcc-arm-none-eabi" in capsys.readouterr().err
    assert PSM_FRCE_OFF  # (model constants imported for the assertions above)
