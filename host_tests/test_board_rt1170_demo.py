"""CPython only: boards/mimxrt1170_evk/main.py, the CM7 REPL demo, against
the RT1170 register models mapped into the shim's address space at their
real addresses, with a simulated CM4 running NXP's pingpong remote
application (model_imxrt1170.PingPongApp). The demo's own code path is the
board's: default register accessor, uctypes.bytearray_at, the CM4 image
read from a file."""

import importlib.util
import os

import machine  # the shim (conftest puts it first on sys.path)

import rl_imxrt1170 as rt
from model_imxrt1170 import RT1170, PingPongApp

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _demo():
    spec = importlib.util.spec_from_file_location("rt1170_demo", os.path.join(REPO, "boards", "mimxrt1170_evk", "main.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_starts_the_cm4_and_plays_pingpong(tmp_path, monkeypatch):
    soc = RT1170(mode="mcmgr", config=rt.sdk_config(2), app=PingPongApp())
    space = machine.AddressSpace()
    for base, size, device, name in soc.devices():
        space.map_device(base, size, device, name)
    for base, buf in soc.rams():
        space.map_ram(base, buf, "RAM %#x" % base)
    image = tmp_path / "cm4.bin"
    # A raw CM4 image: initial SP, then a Thumb reset vector inside it.
    image.write_bytes((0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little") + bytes(56))
    real = rt.IMXRT1170
    # The simulated CM4 runs while the demo's port waits (a real one runs on its own).
    monkeypatch.setattr(rt, "IMXRT1170", lambda **kw: real(idle=soc.step, **kw))
    demo = _demo()
    with machine.use_address_space(space):
        s = demo.start(image=str(image), timeout_ms=5000)
        assert s.remote_addr == 30
        assert demo.ping(100) == 100  # the CM4 adds one per round
        assert soc.cm4.app.received[0] == (b"\x00\x00\x00\x00", 40)


def test_demo_comes_back_after_a_soft_reset(tmp_path, monkeypatch):
    # A soft reset starts a fresh interpreter (a new main module and port)
    # while the CM4 keeps running; MCMGR's ready event and the name-service
    # announcement are not repeated (model_imxrt1170.SimulatedCM4).
    soc = RT1170(mode="mcmgr", config=rt.sdk_config(2), app=PingPongApp())
    space = machine.AddressSpace()
    for base, size, device, name in soc.devices():
        space.map_device(base, size, device, name)
    for base, buf in soc.rams():
        space.map_ram(base, buf, "RAM %#x" % base)
    image = tmp_path / "cm4.bin"
    image.write_bytes((0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little") + bytes(56))
    real = rt.IMXRT1170
    monkeypatch.setattr(rt, "IMXRT1170", lambda **kw: real(idle=soc.step, **kw))
    with machine.use_address_space(space):
        assert _demo().start(image=str(image), timeout_ms=2000).remote_addr == 30
        demo = _demo()  # after Ctrl-D
        s = demo.start(image=str(image), timeout_ms=2000)
        assert s.port.attached and s.remote_addr == 30
        assert demo.ping(10) == 10
        assert soc.src.writes.count((0x000, 1)) == 1  # the CM4 was released once
