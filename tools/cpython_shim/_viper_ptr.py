"""Viper pointer types and casts (``ptr8``, ``ptr16``, ``ptr32``, ``ptr``,
``uint``) for running ``@micropython.viper`` code on CPython.

In viper, ``ptr16(x)`` takes the address of ``x``'s buffer (or ``x`` itself
when it is an int) and ``p[i]`` loads/stores the 16-bit word at
``address + 2*i``, with no checks at all.  Here:

* a pointer made from a buffer (bytearray, bytes, memoryview incl. slices,
  mmap, array, or another buffer pointer) accesses that buffer directly,
  little-endian, and IS bounds-checked: an element not entirely inside the
  buffer raises IndexError.  This is deliberate: it turns an out-of-region
  access (memory corruption on the target) into a test failure.
* a pointer made from an int accesses the current address space
  (``_address_space``), like ``machine.memNN`` does.

Loads return the unsigned value (viper zero-extends 8/16-bit loads; for
32-bit ones see the README).  Stores keep ``value & mask`` because viper
truncates, so -1 stores all ones.

``ptr`` is ptr32 here (word-sized on a 32-bit target).  Note that real viper
refuses to subscript a plain ``ptr`` at compile time ("can't load from
'ptr'"), so firmware should index ptr8/ptr16/ptr32 only.

Pointers hold memoryviews on the buffer for their own lifetime only; viper
pointers are short-lived locals, so an mmap can be closed once they are gone.
"""

import operator
import struct
import sys

import _address_space as _as
import uctypes

_WORD_MASK = 0xFFFFFFFF
# memoryview.cast uses native byte order and C type sizes; only use it where
# they match the target's (little-endian, 16-bit 'H', 32-bit 'I').
_NATIVE_LITTLE = (sys.byteorder == "little" and struct.calcsize("H") == 2
                  and struct.calcsize("I") == 4)


def uint(x):
    """Viper ``uint(x)`` cast: the value as a 32-bit unsigned machine word.

    A pointer casts to its address, an int is truncated to 32 bits.
    """
    return operator.index(x) & _WORD_MASK


class _Ptr:
    """Common base of ptr8/ptr16/ptr32.  Calling a subclass returns one of
    three concrete kinds, chosen once here so that indexing never has to
    branch on the kind:

    * fast buffer pointer: a memoryview cast to the element width;
    * slow buffer pointer: byte length not a multiple of the width (or a
      big-endian host), uses int.from_bytes / int.to_bytes;
    * address pointer: goes through the current AddressSpace.
    """

    __slots__ = ()
    _name = "ptr"
    _width = 0
    _mask = 0
    _code = ""
    _fast = _slow = _addr_kind = None  # concrete classes, set by _specialise()

    def __new__(cls, target):
        if isinstance(target, _AddrPtr):
            return cls._new_address(target._addr)
        if isinstance(target, _BufPtr):
            raw = target._raw  # re-type another buffer pointer (same memory)
        else:
            try:
                raw = memoryview(target)
            except TypeError:
                # Not a buffer: viper then uses the object's int value as
                # the address (mp_obj_int_get_truncated).
                try:
                    address = operator.index(target)
                except TypeError:
                    raise TypeError("%s() needs a buffer or an int address, not %s"
                                    % (cls._name, type(target).__name__)) from None
                return cls._new_address(address)
            if not raw.c_contiguous:
                raise TypeError("%s() needs a contiguous buffer" % cls._name)
            if raw.format != "B" or raw.ndim != 1:
                raw = raw.cast("B")
        width = cls._width
        if width == 1:
            self = object.__new__(cls._fast)
            self._raw = self._view = raw
        elif _NATIVE_LITTLE and raw.nbytes % width == 0:
            self = object.__new__(cls._fast)
            self._raw = raw
            self._view = raw.cast(cls._code)
        else:
            self = object.__new__(cls._slow)
            self._raw = raw
        return self

    @classmethod
    def _new_address(cls, address):
        self = object.__new__(cls._addr_kind)
        self._addr = address & _WORD_MASK  # target addresses are 32-bit
        return self

    def _out_of_bounds(self, i):
        return IndexError("viper %s access at byte offset %d outside a %d-byte buffer"
                          % (self._name, i * self._width, self._raw.nbytes))


class _BufPtr:
    """Mixin: pointer into a Python buffer (``_raw`` = its bytes, 'B' view)."""

    __slots__ = ("_raw",)

    def __index__(self):
        # Same function as uctypes.addressof so both agree, including the
        # translation of address-space RAM back to target addresses.
        return uctypes.addressof(self._raw)

    __int__ = __index__

    def __repr__(self):
        return "<%s to a %d-byte buffer>" % (self._name, self._raw.nbytes)


class _FastBufPtr(_BufPtr):
    """Indexes a memoryview of the element width; memoryview already does
    the little-endian unsigned conversion and the upper bound check."""

    __slots__ = ("_view",)

    def __getitem__(self, i):
        if i < 0:  # memoryview would count from the end: not viper semantics
            raise self._out_of_bounds(i)
        try:
            return self._view[i]
        except IndexError:
            raise self._out_of_bounds(i) from None

    def __setitem__(self, i, value):
        if i < 0:
            raise self._out_of_bounds(i)
        try:
            self._view[i] = value & self._mask
        except IndexError:
            raise self._out_of_bounds(i) from None
        # a read-only buffer raises TypeError from memoryview itself


class _SlowBufPtr(_BufPtr):
    """Byte-level access for buffers whose length is not a multiple of the
    element width (the last partial element is out of bounds)."""

    __slots__ = ()

    def __getitem__(self, i):
        width = self._width
        start = operator.index(i) * width
        if start < 0 or start + width > self._raw.nbytes:
            raise self._out_of_bounds(i)
        return int.from_bytes(self._raw[start:start + width], "little")

    def __setitem__(self, i, value):
        width = self._width
        start = operator.index(i) * width
        if start < 0 or start + width > self._raw.nbytes:
            raise self._out_of_bounds(i)
        if self._raw.readonly:
            raise TypeError("cannot store through %s into a read-only buffer" % self._name)
        self._raw[start:start + width] = (value & self._mask).to_bytes(width, "little")


class _AddrPtr:
    """Pointer to a target address: accesses go through the current address
    space (looked up each time), which checks mapping and alignment."""

    __slots__ = ("_addr",)

    def __getitem__(self, i):
        width = self._width
        return _as.get_address_space().read(
            (self._addr + operator.index(i) * width) & _WORD_MASK, width)

    def __setitem__(self, i, value):
        width = self._width
        _as.get_address_space().write(
            (self._addr + operator.index(i) * width) & _WORD_MASK, width, value)

    def __index__(self):
        return self._addr

    __int__ = __index__

    def __repr__(self):
        return "<%s 0x%08x>" % (self._name, self._addr)


class ptr8(_Ptr):
    """Pointer to 8-bit memory."""
    __slots__ = ()
    _name, _width, _mask, _code = "ptr8", 1, 0xFF, "B"


class ptr16(_Ptr):
    """Pointer to 16-bit memory (element i at byte offset 2*i)."""
    __slots__ = ()
    _name, _width, _mask, _code = "ptr16", 2, 0xFFFF, "H"


class ptr32(_Ptr):
    """Pointer to 32-bit memory (element i at byte offset 4*i)."""
    __slots__ = ()
    _name, _width, _mask, _code = "ptr32", 4, 0xFFFFFFFF, "I"


def _specialise(public):
    # One concrete subclass per kind, so isinstance(p, ptr16) holds and the
    # hot __getitem__/__setitem__ are looked up without any dispatch.
    def make(mixin):
        return type(public.__name__, (mixin, public),
                    {"__slots__": (), "__module__": __name__,
                     "__qualname__": public.__qualname__})
    public._fast = make(_FastBufPtr)
    public._slow = make(_SlowBufPtr)
    public._addr_kind = make(_AddrPtr)


for _public in (ptr8, ptr16, ptr32):
    _specialise(_public)
del _public

# Viper's generic machine-word pointer; 32-bit targets, so 32-bit words.
ptr = ptr32
