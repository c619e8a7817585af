"""CPython-only tests of the CPython shim in tools/cpython_shim/.

The shim must behave like the MicroPython modules it stands for (where it
can) and flag the accesses the hardware would not survive.
"""

import array
import builtins
import importlib
import mmap
import os
import sys
import threading
import time
import types

SHIM_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "tools", "cpython_shim")
if sys.path[:1] != [SHIM_DIR]:
    sys.path.insert(0, SHIM_DIR)

import pytest  # noqa: E402

import micropython  # noqa: E402  (installs the viper builtins and time.ticks_*)
import machine  # noqa: E402
import uctypes  # noqa: E402
import _address_space  # noqa: E402
import _viper_ptr  # noqa: E402
from _address_space import AddressSpace, BusFault  # noqa: E402

TICKS_PERIOD = 1 << 30


def test_shim_modules_come_from_the_shim_folder():
    for module in (micropython, machine, uctypes, _address_space, _viper_ptr):
        assert os.path.dirname(os.path.abspath(module.__file__)) == SHIM_DIR


# --- micropython: const, decorators, runtime helpers --------------------------

def test_const_returns_its_argument():
    marker = object()
    assert micropython.const(marker) is marker
    assert micropython.const(0x1234) == 0x1234


def test_viper_and_native_return_the_function_unchanged():
    def f(x):
        return x + 1
    assert micropython.viper(f) is f
    assert micropython.native(f) is f


def test_asm_thumb_function_raises_when_called():
    @micropython.asm_thumb
    def add(r0, r1):
        pass
    with pytest.raises(NotImplementedError, match="asm_thumb has no CPython equivalent"):
        add(1, 2)


def test_runtime_helpers(capsys):
    assert micropython.heap_lock() is None
    assert micropython.heap_unlock() == 0
    assert micropython.heap_locked() == 0
    assert micropython.opt_level() == 0
    assert micropython.opt_level(3) == 0
    assert micropython.stack_use() == 0
    assert micropython.alloc_emergency_exception_buf(100) is None
    assert micropython.kbd_intr(-1) is None
    micropython.mem_info()
    micropython.qstr_info(1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("mem_info") and lines[1].startswith("qstr_info")


def test_schedule_runs_callback_immediately():
    calls = []
    assert micropython.schedule(calls.append, 42) is None
    assert calls == [42]


# --- viper builtins -------------------------------------------------------------

def test_viper_names_are_builtins():
    for name in ("ptr", "ptr8", "ptr16", "ptr32", "uint"):
        assert getattr(builtins, name) is getattr(_viper_ptr, name)
    assert builtins.int is type(0)  # `int` is not replaced by a viper cast
    assert _viper_ptr.ptr is _viper_ptr.ptr32


# Defined at import time: the annotations are evaluated against builtins,
# as a viper function's would be when the firmware module is imported.
@micropython.viper
def _sum_u16(buf, n: int) -> uint:  # noqa: F821 (uint is a builtin installed by the shim)
    p = ptr16(buf)  # noqa: F821
    total = 0
    for i in range(n):
        total += p[i]
    return uint(total)  # noqa: F821


def test_viper_annotated_function_runs_on_cpython():
    buf = bytearray(b"\x01\x00\xff\xff\x02\x00")
    assert _sum_u16(buf, 3) == 1 + 0xFFFF + 2
    assert _sum_u16.__annotations__ == {"n": int, "return": _viper_ptr.uint}


def test_uint_cast_truncates_to_32_bits():
    assert uint(-1) == 0xFFFFFFFF  # noqa: F821
    assert uint(0x1_2345_6789) == 0x2345_6789  # noqa: F821
    assert uint(True) == 1  # noqa: F821
    with pytest.raises(TypeError):
        uint(1.5)  # noqa: F821


# --- viper pointers on buffers ------------------------------------------------------

def test_ptr_widths_little_endian_on_bytearray():
    buf = bytearray(range(16))
    assert ptr8(buf)[5] == 5  # noqa: F821
    assert ptr16(buf)[1] == 0x0302  # noqa: F821
    assert ptr32(buf)[2] == 0x0B0A0908  # noqa: F821
    ptr32(buf)[0] = 0xDEADBEEF  # noqa: F821
    assert buf[:4] == b"\xef\xbe\xad\xde"
    ptr16(buf)[3] = 0xBEEF  # noqa: F821
    assert buf[6:8] == b"\xef\xbe"
    ptr8(buf)[15] = 0x7F  # noqa: F821
    assert buf[15] == 0x7F


def test_ptr_writes_truncate_and_reads_are_unsigned():
    buf = bytearray(8)
    p8, p16, p32 = ptr8(buf), ptr16(buf), ptr32(buf)  # noqa: F821
    p8[0] = 0x1FF
    assert buf[0] == 0xFF and p8[0] == 255
    p16[1] = -2  # two's complement store
    assert buf[2:4] == b"\xfe\xff" and p16[1] == 0xFFFE
    p32[1] = -1
    assert buf[4:8] == b"\xff\xff\xff\xff" and p32[1] == 0xFFFFFFFF
    p32[1] = 0x1_0000_0005
    assert p32[1] == 5


def test_ptr_on_memoryview_slice_uses_the_slice_offset():
    base = bytearray(32)
    window = memoryview(base)[8:24]
    p = ptr32(window)  # noqa: F821
    p[0] = 0x11223344
    p[3] = 0xAABBCCDD
    assert base[8:12] == b"\x44\x33\x22\x11"
    assert base[20:24] == b"\xdd\xcc\xbb\xaa"
    assert base[:8] == bytes(8) and base[24:] == bytes(8)
    with pytest.raises(IndexError, match="byte offset 16 outside a 16-byte buffer"):
        p[4]


def test_ptr_on_odd_length_buffer_uses_byte_path():
    buf = bytearray(b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a")  # 10 bytes
    p32 = ptr32(buf)  # noqa: F821
    assert isinstance(p32, _viper_ptr._SlowBufPtr)
    assert p32[1] == 0x08070605
    p32[1] = -1
    assert buf[4:8] == b"\xff" * 4
    with pytest.raises(IndexError, match="viper ptr32 access at byte offset 8 outside a 10-byte buffer"):
        p32[2]
    with pytest.raises(IndexError, match="byte offset -4 outside"):
        p32[-1] = 0
    p16 = ptr16(buf[:5])  # noqa: F821
    assert p16[1] == 0x0403
    with pytest.raises(IndexError, match="byte offset 4 outside a 5-byte buffer"):
        p16[2]


def test_ptr_on_array_and_on_other_pointer():
    words = array.array("I", [0x01020304, 0xA0B0C0D0])
    p8 = ptr8(words)  # noqa: F821
    assert [p8[i] for i in range(4)] == [4, 3, 2, 1]
    p8[7] = 0x55
    assert words[1] == 0x55B0C0D0
    # re-typing a buffer pointer aliases the same memory
    buf = bytearray(8)
    p16 = ptr16(ptr32(buf))  # noqa: F821
    p16[3] = 0x1234
    assert buf[6:8] == b"\x34\x12"
    assert isinstance(p16, _viper_ptr.ptr16)
    assert int(p16) == uctypes.addressof(buf)


def test_ptr_bounds_errors_have_clear_message():
    buf = bytearray(4096)
    p = ptr32(buf)  # noqa: F821
    with pytest.raises(IndexError, match=r"^viper ptr32 access at byte offset 4096 outside a 4096-byte buffer$"):
        p[1024]
    with pytest.raises(IndexError, match=r"^viper ptr32 access at byte offset 4096 outside a 4096-byte buffer$"):
        p[1024] = 1
    with pytest.raises(IndexError, match=r"^viper ptr16 access at byte offset -2 outside a 4096-byte buffer$"):
        ptr16(buf)[-1]  # noqa: F821
    with pytest.raises(IndexError, match=r"^viper ptr8 access at byte offset -1 outside"):
        ptr8(buf)[-1] = 0  # noqa: F821
    assert p[1023] == 0  # the last whole element is fine
    assert buf == bytearray(4096)  # nothing was written by the failed stores


def test_ptr_on_read_only_bytes():
    data = b"\x78\x56\x34\x12\xff"
    assert ptr32(data)[0] == 0x12345678  # noqa: F821
    with pytest.raises(TypeError):
        ptr32(data)[0] = 1  # noqa: F821  (fast path)
    with pytest.raises(TypeError):
        ptr16(data)[1] = 1  # noqa: F821  (slow path: 5 bytes)
    with pytest.raises(TypeError):
        ptr8(data)[0] = 1  # noqa: F821
    assert data == b"\x78\x56\x34\x12\xff"


def test_ptr_rejects_non_buffer_non_int():
    with pytest.raises(TypeError, match="ptr8"):
        ptr8("text")  # noqa: F821
    with pytest.raises(TypeError, match="contiguous"):
        ptr8(memoryview(bytearray(8))[::2])  # noqa: F821


def test_ptr_on_mmap_and_mmap_can_be_closed_afterwards():
    mm = mmap.mmap(-1, 4096)
    p = ptr32(mm)  # noqa: F821
    p[1023] = 0xCAFEF00D
    p[0] = 7
    assert mm[4092:4096] == b"\x0d\xf0\xfe\xca"
    assert int(p) == uctypes.addressof(mm)
    assert ptr8(mm)[0] == 7  # noqa: F821 (temporary pointer)
    del p
    mm.close()  # BufferError if a pointer still exported the mmap
    assert mm.closed


# --- address space ----------------------------------------------------------------------

class RegisterModel:
    """Records what the bus delivers; reads return a programmed value."""

    def __init__(self, read_value=0):
        self.read_value = read_value
        self.reads = []
        self.writes = []

    def read(self, offset, width):
        self.reads.append((offset, width))
        return self.read_value

    def write(self, offset, width, value):
        self.writes.append((offset, width, value))


@pytest.fixture
def space():
    s = AddressSpace()
    with machine.use_address_space(s):
        yield s


def test_ram_region_read_write(space):
    backing = space.map_ram(0x2000_0000, 0x100, "sram")
    assert isinstance(backing, bytearray) and len(backing) == 0x100
    space.write(0x2000_0010, 4, 0x11223344)
    assert backing[0x10:0x14] == b"\x44\x33\x22\x11"
    assert space.read(0x2000_0012, 2) == 0x1122
    assert space.read(0x2000_0013, 1) == 0x11
    space.write(0x2000_0020, 2, -1)
    assert space.read(0x2000_0020, 2) == 0xFFFF
    assert backing[0x22] == 0


def test_map_ram_with_given_buffer_shares_memory(space):
    mine = bytearray(16)
    assert space.map_ram(0x1000, mine) is mine
    space.write(0x1004, 4, 0xA5A5A5A5)
    assert mine[4:8] == b"\xa5" * 4
    with pytest.raises(TypeError):
        space.map_ram(0x9000, b"read-only")


def test_regions_overlap_and_unmap(space):
    space.map_ram(0x1000, 0x100, "a")
    space.map_device(0x2000, 0x10, RegisterModel(), "dev")
    with pytest.raises(ValueError, match="overlaps"):
        space.map_ram(0x10FF, 0x10, "b")
    with pytest.raises(ValueError, match="overlaps"):
        space.map_device(0x1F00, 0x200, RegisterModel())
    space.map_ram(0x1100, 0x10, "adjacent")  # touching is not overlapping
    assert space.regions() == [(0x1000, 0x100, "a"), (0x1100, 0x10, "adjacent"), (0x2000, 0x10, "dev")]
    space.unmap(0x1100)
    assert [r[0] for r in space.regions()] == [0x1000, 0x2000]
    with pytest.raises(ValueError):
        space.unmap(0x1004)
    with pytest.raises(BusFault):
        space.read(0x1100, 4)


def test_device_sees_offset_width_value(space):
    dev = space.map_device(0xD000_0000, 0x100, RegisterModel(read_value=0x1_2345_6789), "sio")
    space.write(0xD000_0054, 4, 0x1_0000_0042)
    space.write(0xD000_0002, 2, 0xBEEF)
    space.write(0xD000_00FF, 1, -1)
    assert dev.writes == [(0x54, 4, 0x42), (0x02, 2, 0xBEEF), (0xFF, 1, 0xFF)]
    assert space.read(0xD000_0058, 4) == 0x2345_6789  # masked to the width
    assert space.read(0xD000_0010, 1) == 0x89
    assert dev.reads == [(0x58, 4), (0x10, 1)]


def test_trace_records_accesses_in_order(space):
    space.map_ram(0x2000_0000, 0x10)
    space.map_device(0x4000_0000, 0x10, RegisterModel(read_value=9))
    assert space.trace is None
    space.write(0x2000_0000, 4, 1)  # not traced
    space.trace = []
    space.write(0x4000_0004, 4, 0x1_0000_0003)
    space.read(0x4000_0008, 2)
    space.read(0x2000_0000, 4)
    assert space.trace == [("w", 0x4000_0004, 4, 3), ("r", 0x4000_0008, 2, 9), ("r", 0x2000_0000, 4, 1)]


def test_bus_fault_unmapped_straddling_and_misaligned(space):
    space.map_ram(0x2000_0000, 0x100)
    with pytest.raises(BusFault, match="0x50000000"):
        space.read(0x5000_0000, 4)
    with pytest.raises(BusFault, match="0x50000000"):
        space.write(0x5000_0000, 1, 0)
    space.map_ram(0x3000_0000, 6)
    assert space.read(0x3000_0004, 2) == 0
    with pytest.raises(BusFault, match="0x30000004"):
        space.read(0x3000_0004, 4)  # aligned, starts inside, ends outside
    assert space.read(0x2000_00FC, 4) == 0  # last word of the region
    with pytest.raises(BusFault, match="0x20000100"):
        space.read(0x2000_0100, 4)  # first word after it
    space.trace = []
    with pytest.raises(BusFault, match="0x20000002.*not aligned to 4"):
        space.read(0x2000_0002, 4)
    with pytest.raises(BusFault, match="0x20000001.*not aligned to 2"):
        space.write(0x2000_0001, 2, 0)
    assert space.trace == []  # faulting accesses are not recorded
    assert issubclass(BusFault, MemoryError)
    with pytest.raises(ValueError, match="width"):
        space.read(0x2000_0000, 8)


def test_ram_view_aliases_and_rejects_devices(space):
    backing = space.map_ram(0x2000_0000, 0x100)
    space.map_device(0x4000_0000, 0x10, RegisterModel())
    view = space.ram_view(0x2000_0040, 8)
    view[0] = 0xAB
    assert backing[0x40] == 0xAB and len(view) == 8 and not view.readonly
    with pytest.raises(BusFault):
        space.ram_view(0x2000_00F8, 16)
    with pytest.raises(BusFault, match="device"):
        space.ram_view(0x4000_0000, 4)


def test_address_pointers_go_through_the_space(space):
    backing = space.map_ram(0x2000_0000, 0x40)
    dev = space.map_device(0x4000_0000, 0x10, RegisterModel(read_value=0xFFFF_FFFF))
    space.trace = []
    p = ptr32(0x2000_0000)  # noqa: F821
    p[3] = -1
    assert backing[12:16] == b"\xff" * 4
    assert ptr16(0x2000_0000)[7] == 0xFFFF  # noqa: F821
    assert int(p) == 0x2000_0000 and uint(p) == 0x2000_0000  # noqa: F821
    q = ptr16(0x4000_0000)  # noqa: F821
    q[2] = 0x12345
    assert q[1] == 0xFFFF
    assert dev.writes == [(4, 2, 0x2345)] and dev.reads == [(2, 2)]
    assert space.trace == [("w", 0x2000_000C, 4, 0xFFFF_FFFF), ("r", 0x2000_000E, 2, 0xFFFF),
                           ("w", 0x4000_0004, 2, 0x2345), ("r", 0x4000_0002, 2, 0xFFFF)]
    with pytest.raises(BusFault):
        p[16]  # 0x20000040: one past the RAM
    with pytest.raises(BusFault):
        ptr32(0x2000_0002)[0]  # noqa: F821  (misaligned)
    # re-typing an address pointer keeps the address
    assert int(ptr8(p)) == 0x2000_0000  # noqa: F821


def test_current_space_is_switchable():
    first, second = AddressSpace(), AddressSpace()
    first.map_ram(0x100, 0x10)
    second.map_ram(0x100, 0x10)
    original = _address_space.get_address_space()
    previous = machine.set_address_space(first)
    try:
        assert previous is original
        assert machine.get_address_space() is first
        machine.mem32[0x100] = 0x11
        with machine.use_address_space(second) as active:
            assert active is second
            machine.mem32[0x100] = 0x22
            assert ptr32(0x100)[0] == 0x22  # noqa: F821
        assert machine.get_address_space() is first
        assert machine.mem32[0x100] == 0x11
        assert second.read(0x100, 4) == 0x22
    finally:
        machine.set_address_space(original)
    with pytest.raises(TypeError):
        machine.set_address_space(object())


def test_use_address_space_restores_on_exception():
    before = machine.get_address_space()
    with pytest.raises(KeyError):
        with machine.use_address_space(AddressSpace()):
            raise KeyError("boom")
    assert machine.get_address_space() is before


# --- machine ----------------------------------------------------------------------------

def test_machine_mem_through_current_space(space):
    backing = space.map_ram(0x2000_0000, 0x10)
    machine.mem32[0x2000_0004] = 0x1_8000_0001
    assert backing[4:8] == b"\x01\x00\x00\x80"
    assert machine.mem32[0x2000_0004] == 0x8000_0001  # unsigned, unlike some ports
    machine.mem16[0x2000_0002] = -1
    assert machine.mem16[0x2000_0002] == 0xFFFF
    machine.mem8[0x2000_0001] = 0x1AB
    assert machine.mem8[0x2000_0001] == 0xAB
    assert machine.mem32[0x2000_0000] == 0xFFFF_AB00
    with pytest.raises(ValueError, match="not aligned to 4 bytes"):
        machine.mem32[0x2000_0002]  # as MicroPython: ValueError
    with pytest.raises(BusFault):
        machine.mem32[0x3000_0000]
    assert repr(machine.mem32) == "<32-bit memory>"


def test_machine_mem_drives_register_model(space):
    dev = space.map_device(0xD000_0000, 0x100, RegisterModel(read_value=0x55))
    machine.mem32[0xD000_0054] = 0xCAFE
    assert machine.mem32[0xD000_0050] == 0x55
    assert dev.writes == [(0x54, 4, 0xCAFE)] and dev.reads == [(0x50, 4)]


def test_machine_reexports_address_space_api():
    assert machine.AddressSpace is AddressSpace
    assert machine.BusFault is BusFault
    assert machine.use_address_space is _address_space.use_address_space


def test_irq_disable_enable_balance():
    assert machine._irq_depth() == 0
    outer = machine.disable_irq()
    inner = machine.disable_irq()
    assert machine._irq_depth() == 2
    machine.enable_irq(inner)
    assert machine._irq_depth() == 1
    machine.enable_irq(outer)
    assert machine._irq_depth() == 0
    with pytest.raises(RuntimeError):
        machine.enable_irq(outer)  # unmatched
    a = machine.disable_irq()
    machine.disable_irq()
    with pytest.raises(RuntimeError, match="out of order"):
        machine.enable_irq(a)
    machine.enable_irq(a + 1)
    machine.enable_irq(a)
    assert machine._irq_depth() == 0


def test_irq_depth_is_per_thread():
    state = machine.disable_irq()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(machine._irq_depth()))
    worker.start()
    worker.join()
    machine.enable_irq(state)
    assert seen == [0]


def test_machine_misc():
    assert machine.freq() == 125_000_000
    assert machine.unique_id() == b"\x00" * 8
    assert machine.idle() is None
    with pytest.raises(SystemExit):
        machine.reset()
    with pytest.raises(SystemExit):
        machine.soft_reset()


# --- uctypes ------------------------------------------------------------------------------

def test_addressof_bytearray_bytes_and_slices():
    import ctypes
    buf = bytearray(64)
    base = uctypes.addressof(buf)
    assert base == ctypes.addressof(ctypes.c_char.from_buffer(buf))
    view = memoryview(buf)
    assert uctypes.addressof(view[10:20]) == base + 10
    assert uctypes.addressof(view[10:20].toreadonly()) == base + 10
    data = b"some immutable bytes"
    assert uctypes.addressof(data) == ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    assert uctypes.addressof(memoryview(data)[5:]) == uctypes.addressof(data) + 5
    view.release()
    buf.append(1)  # addressof left no export alive: resizing is allowed
    with pytest.raises(TypeError):
        uctypes.addressof(12345)


def test_addressof_matches_viper_pointer_address():
    buf = bytearray(32)
    data = b"0123"
    assert int(ptr8(buf)) == uctypes.addressof(buf)  # noqa: F821
    assert ptr32(buf).__index__() == uctypes.addressof(buf)  # noqa: F821
    assert int(ptr8(data)) == uctypes.addressof(data)  # noqa: F821
    window = memoryview(buf)[4:]
    assert int(ptr16(window)) == uctypes.addressof(buf) + 4  # noqa: F821


def test_bytearray_at_maps_back_to_target_address(space):
    backing = space.map_ram(0x202C_0000, 0x1000, "shm")
    shm = uctypes.bytearray_at(0x202C_0000, 0x100)
    assert uctypes.addressof(shm) == 0x202C_0000
    assert uctypes.addressof(backing) == 0x202C_0000
    tail = uctypes.bytearray_at(0x202C_0F00, 0x100)
    assert uctypes.addressof(tail) == 0x202C_0F00
    assert uctypes.addressof(tail[0x10:]) == 0x202C_0F10
    assert int(ptr8(shm)) == 0x202C_0000  # noqa: F821
    assert int(ptr32(tail)) == 0x202C_0F00  # noqa: F821
    shm[1] = 0x5A
    assert backing[1] == 0x5A and machine.mem8[0x202C_0001] == 0x5A
    ptr32(0x202C_0F04)[0] = 0x01020304  # noqa: F821
    assert bytes(tail[4:8]) == b"\x04\x03\x02\x01"
    copy = uctypes.bytes_at(0x202C_0000, 4)
    assert copy == b"\x00\x5a\x00\x00" and isinstance(copy, bytes)
    backing[0] = 1
    assert copy[0] == 0  # a copy, not a view
    # outside the region: CPython address, not a target one
    other = bytearray(8)
    assert not 0x202C_0000 <= uctypes.addressof(other) < 0x202C_1000
    with pytest.raises(BusFault):
        uctypes.bytearray_at(0x202C_0F80, 0x100)
    with pytest.raises(BusFault):
        uctypes.bytes_at(0x1000, 4)


def test_addressof_inside_mapped_mmap(space):
    mm = mmap.mmap(-1, 4096)
    space.map_ram(0x2004_0000, mm)
    assert uctypes.addressof(mm) == 0x2004_0000
    assert uctypes.addressof(uctypes.bytearray_at(0x2004_0100, 4)) == 0x2004_0100
    space.unmap(0x2004_0000)
    mm.close()  # the space dropped its export on unmap
    assert mm.closed


def test_uctypes_constants_and_unsupported_struct():
    assert (uctypes.LITTLE_ENDIAN, uctypes.BIG_ENDIAN, uctypes.NATIVE) == (0, 1, 2)
    assert (uctypes.UINT8, uctypes.INT8, uctypes.UINT16, uctypes.INT16) == (0, 1 << 27, 2 << 27, 3 << 27)
    assert (uctypes.UINT32, uctypes.INT32, uctypes.UINT64, uctypes.INT64) == (4 << 27, 5 << 27, 6 << 27, 7 << 27)
    assert uctypes.VOID == uctypes.UINT8
    assert uctypes.PTR == 1 << 29 and uctypes.ARRAY == -(1 << 30)
    with pytest.raises(NotImplementedError, match="struct"):
        uctypes.struct(0, {})
    with pytest.raises(NotImplementedError, match="sizeof"):
        uctypes.sizeof({})


# --- time ----------------------------------------------------------------------------------

def test_time_module_has_micropython_functions():
    for name in ("ticks_ms", "ticks_us", "ticks_cpu", "ticks_add", "ticks_diff", "sleep_ms", "sleep_us"):
        assert callable(getattr(time, name))
    for ticks in (time.ticks_ms, time.ticks_us, time.ticks_cpu):
        value = ticks()
        assert isinstance(value, int) and 0 <= value < TICKS_PERIOD


def test_ticks_diff_wraps_around_the_period():
    top = TICKS_PERIOD - 1
    assert time.ticks_diff(0, top) == 1
    assert time.ticks_diff(top, 0) == -1
    assert time.ticks_diff(5, TICKS_PERIOD - 5) == 10
    assert time.ticks_diff(TICKS_PERIOD - 5, 5) == -10
    assert time.ticks_diff(1000, 400) == 600
    # range is [-PERIOD/2, PERIOD/2) as in MicroPython's modtime.c
    half = TICKS_PERIOD // 2
    assert time.ticks_diff(half - 1, 0) == half - 1
    assert time.ticks_diff(half, 0) == -half
    assert time.ticks_diff(0, half) == -half


def test_ticks_add_wraps_and_rejects_oversized_delta():
    top = TICKS_PERIOD - 1
    assert time.ticks_add(top, 1) == 0
    assert time.ticks_add(top - 2, 10) == 7
    assert time.ticks_add(3, -5) == top - 1
    half = TICKS_PERIOD // 2
    for start in (0, 12345, top):
        for delta in (1, -1, half - 1, -(half - 1)):
            later = time.ticks_add(start, delta)
            assert 0 <= later < TICKS_PERIOD
            assert time.ticks_diff(later, start) == delta
            assert time.ticks_diff(start, later) == -delta
    with pytest.raises(OverflowError):
        time.ticks_add(0, half)
    with pytest.raises(OverflowError):
        time.ticks_add(0, -half)


def test_ticks_advance_with_sleep():
    start_ms, start_us = time.ticks_ms(), time.ticks_us()
    time.sleep_ms(20)
    assert time.ticks_diff(time.ticks_ms(), start_ms) >= 19
    time.sleep_us(1000)
    assert time.ticks_diff(time.ticks_us(), start_us) >= 20_000
    assert time.sleep_ms(-5) is None and time.sleep_us(-5) is None  # ignored, as on target
    with pytest.raises(TypeError):
        time.sleep_ms(1.5)  # MicroPython takes ints only


def test_time_functions_do_not_override_existing_attributes(monkeypatch):
    fake = types.ModuleType("fake_time")
    mine = object()
    fake.ticks_ms = mine
    added = micropython._install_time_functions(fake)
    assert fake.ticks_ms is mine
    assert "ticks_ms" not in added
    assert fake.ticks_diff is micropython.ticks_diff and "ticks_diff" in added
    # the real import path: re-importing keeps what CPython's time already has
    real_sleep = time.sleep
    sentinel = lambda: -1  # noqa: E731
    monkeypatch.setattr(time, "ticks_us", sentinel)
    importlib.reload(micropython)
    assert time.ticks_us is sentinel
    assert time.sleep is real_sleep
    assert not hasattr(time, "TICKS_PERIOD")
