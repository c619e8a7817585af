"""The stack on emulated Cortex-M firmware (tools/qemu.py): MicroPython's
ports/qemu built with this project frozen in, booted under QEMU, driven by
mpremote over the UART's pty. Skipped only where the ARM toolchain and QEMU
cannot be installed (no apt-get, no root)."""

import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import qemu  # noqa: E402

DEMO = os.path.join(REPO, "boards", "qemu_mps2_an385", "main.py")
BENCH = os.path.join(REPO, "boards", "qemu_mps2_an385", "bench.py")
AIO_DEMO = os.path.join(REPO, "boards", "qemu_mps2_an385", "aio_demo.py")


@pytest.fixture(scope="module", params=qemu.BOARDS)
def emulator(request):
    try:
        qemu.build(request.param)  # incremental: quick when nothing changed
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    emu = qemu.Emulator(request.param)
    yield request.param, emu
    emu.close()


def test_mpremote_runs_the_board_demo(emulator):
    board, emu = emulator
    code, out, err = emu.run_file(DEMO)
    assert code == 0, out + err
    assert "link up: master True remote True" in out
    assert "name service: [('rpmsg-echo', 30)]" in out
    assert "echo ping-pong: 32/32 echoes matched" in out
    assert "zero-copy echo from 30: zero-copy" in out
    assert "dropped entries: 0, free tx buffers: 4" in out
    assert out.rstrip().endswith("demo done")


def test_mpremote_runs_the_asyncio_demo():
    # rpmsg_lite.aio on the Cortex-M3 firmware (asyncio frozen in with a
    # virtual clock and a stream-only poll; doorbells polled by aio.serve).
    # Only that board has asyncio frozen in (the micro:bit's flash is small).
    try:
        qemu.build("qemu_mps2_an385")
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    with qemu.Emulator("qemu_mps2_an385") as emu:
        code, out, err = emu.run_file(AIO_DEMO)
    assert code == 0, out + err
    assert "aio: remote link up True" in out
    assert "aio: 48/48 echoes matched" in out
    ticks = int(out.split("ticker ran ")[1].split()[0])
    assert ticks > 0  # other tasks ran while messages were awaited
    assert "aio: free tx buffers 4 4" in out and out.rstrip().endswith("aio demo done")


def test_the_firmware_is_the_board_it_claims(emulator):
    # The frozen stack really runs native viper code for the CPU: the
    # payload-view probe works and the machine name is the board's.
    board, emu = emulator
    code, out, err = emu.mpremote(
        "exec", "import sys, rpmsg_lite.views as v; print(sys.implementation._machine, v.LEN_WORD)"
    )
    assert code == 0, out + err
    machine = {"qemu_mps2_an385": "Cortex-M3", "qemu_microbit_m0": "nRF51"}[board]
    assert machine in out and out.split()[-1] == "2"  # 32-bit: len is word 2


def test_instruction_counts_repeat_exactly():
    # Not a timing test: -icount makes the counts deterministic, so two
    # boots must print identical figures (the benchmark relies on it).
    try:
        qemu.build("qemu_mps2_an385")
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    runs = []
    for _ in range(2):
        with qemu.Emulator("qemu_mps2_an385") as emu:
            code, out, err = emu.run_file(BENCH, timeout=600)
        assert code == 0, out + err
        runs.append(json.loads([line for line in out.splitlines() if line.startswith("{")][-1]))
    assert runs[0] == runs[1]
    assert set(runs[0]) >= {"copy_send_and_callback_64", "ring_pop", "ring_push", "heap_link_n2"}
    modules = runs[0].pop("link_modules")
    assert all(v > 0 for v in runs[0].values()), runs[0]
    # What a link with callbacks keeps imported: the package, link, vring...
    assert {"rpmsg_lite", "rpmsg_lite.link", "rpmsg_lite.vring"} <= set(modules), modules
    # ...but not what loads on first use or is dropped after bring-up.
    assert not {"rpmsg_lite.queue", "rpmsg_lite.bringup", "rpmsg_lite.slowpath"} & set(modules), modules
