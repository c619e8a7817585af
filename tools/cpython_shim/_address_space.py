"""Model of the target's physical address space, for the CPython shim.

On the microcontroller, ``machine.mem32[addr]``, viper pointers built from
an int and ``uctypes.bytearray_at(addr, n)`` all touch real physical
addresses (SRAM, shared memory, peripheral registers).  CPython has no such
thing, so the shim routes those accesses through an ``AddressSpace``:

* RAM regions are backed by a writable buffer (a bytearray by default);
* device regions forward every access to a Python object implementing
  ``read(offset, width) -> int`` and ``write(offset, width, value)``, which
  is how host tests plug register models (FIFOs, messaging units, ...)
  behind ``machine.mem32``.

All values are little-endian (the targets are Cortex-M) and 32-bit at most.

This module also owns ``host_address()``, the raw CPython address of a
buffer's data, because mapping a RAM region needs it (to translate host
addresses back into target addresses in ``uctypes.addressof``).
"""

import ctypes
import operator
from bisect import bisect_right
from contextlib import contextmanager

# The targets are 32-bit: no address or access may go beyond 4 GiB.
ADDRESS_LIMIT = 1 << 32

_MASKS = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


class BusFault(MemoryError):
    """An access the hardware would not complete (unmapped or misaligned).

    On a Cortex-M this is a HardFault/BusFault that resets the board; in
    host tests it is an exception so the faulty access is reported.
    """


class AlignmentFault(BusFault, ValueError):
    """A misaligned 2- or 4-byte access.

    Also a ValueError because MicroPython's ``machine.mem16/mem32`` raise
    ValueError("address ... is not aligned to N bytes") before touching
    memory, so firmware code catching ValueError behaves as on target.
    """


def _check_width(width):
    mask = _MASKS.get(width)
    if mask is None:
        raise ValueError("access width must be 1, 2 or 4 bytes, not %r" % (width,))
    return mask


# --- raw host addresses ----------------------------------------------------

class _PyBuffer(ctypes.Structure):
    # Layout of CPython's Py_buffer (stable since 3.3).  ``obj`` is declared
    # as a plain pointer so ctypes never touches its reference count:
    # PyBuffer_Release() is the one that drops the reference it owns.
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_void_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None
_PyBUF_SIMPLE = 0  # contiguous bytes, read-only access is enough


def host_address(obj):
    """CPython address of the first byte of ``obj``'s buffer.

    Writable buffers go through ``ctypes.c_char.from_buffer`` (the temporary
    c_char and its export die with this expression).  Read-only and empty
    buffers, which from_buffer refuses, are asked for a Py_buffer directly,
    released straight away.  Either way no buffer export outlives the call,
    so e.g. an mmap can still be closed afterwards.
    """
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(obj))
    except (TypeError, ValueError, BufferError):
        pass  # read-only, empty or non-contiguous: take the generic path
    view = _PyBuffer()
    # Raises TypeError (not a buffer) or BufferError (not contiguous) itself,
    # because ctypes.pythonapi checks the Python error indicator.
    _get_buffer(obj, ctypes.byref(view), _PyBUF_SIMPLE)
    try:
        address = view.buf
    finally:
        _release_buffer(ctypes.byref(view))
    if not address:
        raise ValueError("buffer of %r has no address" % (type(obj).__name__,))
    return address


# --- regions ---------------------------------------------------------------

class _Region:
    __slots__ = ("base", "size", "end", "name", "mem", "device", "host_base")

    def __init__(self, base, size, name, mem=None, device=None, host_base=None):
        self.base = base
        self.size = size
        self.end = base + size
        self.name = name
        self.mem = mem            # memoryview 'B' for RAM, else None
        self.device = device      # register model for devices, else None
        self.host_base = host_base  # CPython address of mem[0] (RAM only)


class AddressSpace:
    """A set of non-overlapping RAM and device regions.

    ``trace``: set it to a list to record every read/write made through
    ``read``/``write`` (hence ``machine.memNN`` and address pointers) as
    ``('r' | 'w', addr, width, value)``.  Writes are recorded before being
    dispatched, so a device model that reacts to a write with more accesses
    appears after the write that caused them.  Direct buffer accesses
    (``bytearray_at`` views, pointers made from buffers) are not traced.
    """

    def __init__(self):
        self._regions = []   # sorted by base address
        self._bases = []     # parallel list of bases, for bisect
        self.trace = None

    # -- mapping --

    def _insert(self, region):
        if region.base < 0 or region.size <= 0 or region.end > ADDRESS_LIMIT:
            raise ValueError(
                "region 0x%x+0x%x is not a non-empty range inside the 32-bit "
                "address space" % (region.base, region.size))
        for r in self._regions:
            if region.base < r.end and r.base < region.end:
                raise ValueError(
                    "region %r [0x%08x, 0x%08x) overlaps %r [0x%08x, 0x%08x)"
                    % (region.name, region.base, region.end, r.name, r.base, r.end))
        i = bisect_right(self._bases, region.base)
        self._regions.insert(i, region)
        self._bases.insert(i, region.base)

    def map_ram(self, base, size_or_buffer, name=""):
        """Map RAM at ``[base, base + size)`` and return its backing object.

        An int allocates a zeroed bytearray; a writable buffer (bytearray,
        mmap, ...) is used as is, so host code and the model share memory.
        The space keeps a memoryview on the buffer while it is mapped (an
        mmap cannot be closed before ``unmap``).
        """
        base = operator.index(base)
        if isinstance(size_or_buffer, int):
            backing = bytearray(size_or_buffer)
        else:
            backing = size_or_buffer
        mem = memoryview(backing)
        if mem.readonly:
            mem.release()
            raise TypeError("RAM backing buffer must be writable")
        if not mem.c_contiguous:
            mem.release()
            raise TypeError("RAM backing buffer must be contiguous")
        mem = mem.cast("B")
        host_base = host_address(mem) if mem.nbytes else None
        self._insert(_Region(base, mem.nbytes, name, mem=mem, host_base=host_base))
        return backing

    def map_device(self, base, size, device, name=""):
        """Map a register model at ``[base, base + size)``.

        ``device.read(offset, width)`` / ``device.write(offset, width, value)``
        get offsets relative to ``base`` and widths of 1, 2 or 4 bytes.
        Returns ``device``.
        """
        if not (callable(getattr(device, "read", None))
                and callable(getattr(device, "write", None))):
            raise TypeError("device needs read(offset, width) and write(offset, width, value)")
        self._insert(_Region(operator.index(base), operator.index(size), name, device=device))
        return device

    def unmap(self, base):
        """Remove the region starting exactly at ``base``."""
        i = bisect_right(self._bases, base) - 1
        if i < 0 or self._bases[i] != base:
            raise ValueError("no region starts at 0x%08x" % (base,))
        region = self._regions.pop(i)
        del self._bases[i]
        if region.mem is not None:
            try:
                region.mem.release()  # lets an mmap backing be closed at once
            except BufferError:
                pass  # something still exports it; dropped with the last user

    def regions(self):
        """``[(base, size, name), ...]`` sorted by base."""
        return [(r.base, r.size, r.name) for r in self._regions]

    # -- accesses --

    def _find(self, addr, size, what):
        i = bisect_right(self._bases, addr) - 1
        if i >= 0:
            region = self._regions[i]
            if addr + size <= region.end:
                return region
        raise BusFault("%s at 0x%08x (%d bytes) is not inside one mapped region"
                       % (what, addr, size))

    def read(self, addr, width):
        """Read ``width`` bytes at ``addr``; returns an unsigned int."""
        mask = _check_width(width)
        addr = operator.index(addr)
        if addr % width:
            raise AlignmentFault("%d-byte read at 0x%08x: address is not aligned to %d bytes"
                                 % (width, addr, width))
        region = self._find(addr, width, "%d-byte read" % width)
        offset = addr - region.base
        if region.mem is not None:
            value = int.from_bytes(region.mem[offset:offset + width], "little")
        else:
            value = operator.index(region.device.read(offset, width)) & mask
        if self.trace is not None:
            self.trace.append(("r", addr, width, value))
        return value

    def write(self, addr, width, value):
        """Write ``value & mask`` (truncated like a bus store) at ``addr``."""
        mask = _check_width(width)
        addr = operator.index(addr)
        value = operator.index(value) & mask
        if addr % width:
            raise AlignmentFault("%d-byte write at 0x%08x: address is not aligned to %d bytes"
                                 % (width, addr, width))
        region = self._find(addr, width, "%d-byte write" % width)
        if self.trace is not None:
            self.trace.append(("w", addr, width, value))
        offset = addr - region.base
        if region.mem is not None:
            region.mem[offset:offset + width] = value.to_bytes(width, "little")
        else:
            region.device.write(offset, width, value)

    def ram_view(self, addr, size):
        """Writable memoryview aliasing RAM ``[addr, addr + size)``.

        The range must lie inside one RAM region (not a device: register
        side effects cannot be expressed as plain memory).
        """
        addr = operator.index(addr)
        size = operator.index(size)
        if size < 0:
            raise ValueError("negative size")
        region = self._find(addr, max(size, 1), "RAM view")
        if region.mem is None:
            raise BusFault("RAM view at 0x%08x: region %r is a device, not RAM"
                           % (addr, region.name))
        offset = addr - region.base
        return region.mem[offset:offset + size]

    def host_to_target(self, host_addr):
        """Target address for a CPython address inside a RAM region's backing
        store, else None.  Used by ``uctypes.addressof``."""
        for r in self._regions:
            if r.host_base is not None and r.host_base <= host_addr < r.host_base + r.size:
                return r.base + (host_addr - r.host_base)
        return None


# --- the current address space ----------------------------------------------
# Looked up on every access (never cached by users) so tests can swap it.

_current = AddressSpace()


def get_address_space():
    return _current


def set_address_space(space):
    """Make ``space`` current; returns the previous one."""
    global _current
    if not isinstance(space, AddressSpace):
        raise TypeError("expected an AddressSpace, got %r" % (type(space).__name__,))
    previous = _current
    _current = space
    return previous


@contextmanager
def use_address_space(space):
    """``with use_address_space(s):`` makes ``s`` current for the block."""
    previous = set_address_space(space)
    try:
        yield space
    finally:
        set_address_space(previous)
