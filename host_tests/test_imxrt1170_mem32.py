"""CPython only: the i.MX RT1170 port with its DEFAULT accessors, rl_regs.HW
(viper ptr32 on integer addresses) and uctypes.bytearray_at, running
against the register models mapped into the CPython shim's address space at
their real addresses. This is the code path the board takes, down to the
addresses, with only the hardware swapped for models."""

import pytest

import machine  # the shim (conftest puts it first on sys.path)
import uctypes

from rpmsg_lite import regs as rl_regs
import rl_imxrt1170 as rt
from rl_imxrt1170 import IMXRT1170, PlatformConflict, sdk_config
from rpmsg_lite import NameService, DONT_BLOCK
from model_imxrt1170 import RT1170, EchoApp, NS_NAME
from linkpair import Inbox, pattern

MODES = ("mcmgr", "gir")
SHM = 0x202C0000


def _image():
    return (0x20020000).to_bytes(4, "little") + (0x1FFE0401).to_bytes(4, "little") + bytes(56)


def _space(soc):
    space = machine.AddressSpace()
    for base, size, device, name in soc.devices():
        space.map_device(base, size, device, name)
    for base, buf in soc.rams():
        space.map_ram(base, buf, "RAM %#x" % base)
    return space


@pytest.fixture
def chip(request):
    """(soc, space) with the models mapped and the space current."""
    mode = getattr(request, "param", "mcmgr")
    soc = RT1170(mode=mode, config=sdk_config(4), app=EchoApp())
    space = _space(soc)
    with machine.use_address_space(space):
        yield soc, space


@pytest.mark.parametrize("chip", MODES, indirect=True)
def test_boot_and_messaging_through_machine_mem32(chip):
    soc, space = chip
    mode = soc.cm4.mode
    space.trace = []
    port = IMXRT1170(mode=mode, config=sdk_config(4), idle=soc.step)
    assert port._regs is rl_regs.HW and not port.real_barriers
    assert uctypes.addressof(port.shm) == SHM and len(port.shm) == 0x1100
    region = rt.shared_region(sdk_config(4))
    assert uctypes.addressof(region) == SHM and len(region) == 0x1100

    port.start_cm4(_image())
    assert port.wait_remote_ready(2000), port.stats()
    link = port.master()
    seen = []
    NameService(link, lambda addr, name, flags: seen.append((addr, name, flags)))
    inbox = Inbox()
    ept = link.create_ept(40, inbox)
    for _ in range(8):
        soc.step()
        port.service()
    assert seen == [(30, NS_NAME, 0)]

    sent = [pattern(496, i) for i in range(10)]
    for data in sent:
        link.send(ept, 30, data)
        soc.step()
        port.service()
    for _ in range(4):
        soc.step()
        port.service()
    assert [m[0] for m in inbox.messages] == sent

    writes = [(a, v) for (k, a, w, v) in space.trace if k == "w" and w == 4]
    # The MPU and the CM4 boot registers were written at their real addresses.
    assert (0xE000EDA0, (1 << 28) | (3 << 24) | (1 << 19) | (12 << 1) | 1) in writes
    assert (0xE000ED94, 5) in writes
    boot = [(a, v) for (a, v) in writes if a in (0x40C0C000, 0x40C0C004, 0x40C04284, 0x40C04000)]
    assert boot == [(0x40C0C000, 0), (0x40C0C004, 0x2020), (0x40C04284, 1), (0x40C04000, 1)]
    if mode == "mcmgr":
        assert (0x40C4800C, 0x00060001) in writes  # TR3: a vring-1 kick
    else:
        assert (0x40C48020, 1 << 31) in writes  # SR: GIP0 written 1 to clear
        assert soc.mu.a.gip_clears[0] == soc.mu.b.gir_requests[0]


def test_openamp_is_detected_through_machine_mem32(chip):
    soc, space = chip
    soc.mu.a.cr_rest = 1 << 31
    with pytest.raises(PlatformConflict, match="GIE0"):
        IMXRT1170(config=sdk_config(4))


def test_a_send_and_its_reply_touch_only_sr_tr3_and_rr3(chip):
    # The steady state costs: SR (status), TR3 (kick), RR3 (the CM4's kick).
    # Whether those accesses allocate is what the MicroPython heap-lock test
    # in portable/test_imxrt1170.py checks.
    soc, space = chip
    port = IMXRT1170(config=sdk_config(4), idle=soc.step)
    port.start_cm4(_image())
    assert port.wait_remote_ready(2000)
    link = port.master()
    ept = link.create_ept(40, Inbox())
    soc.step(8)
    space.trace = []
    link.send(ept, 30, b"x", DONT_BLOCK)
    soc.step(3)
    port.service()
    touched = {a for (k, a, w, v) in space.trace}
    assert touched == {0x40C48020, 0x40C4800C, 0x40C4801C}  # SR, TR3, RR3
