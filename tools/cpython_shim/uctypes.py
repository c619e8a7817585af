"""CPython stand-in for MicroPython's ``uctypes`` module (address helpers only).

Addresses are *target* addresses: a buffer that lives in a RAM region of the
current address space (see ``_address_space``) reports the address it has
in that space, so ``addressof(bytearray_at(0x202C0000, n)) == 0x202C0000``
exactly as on hardware.  Any other buffer reports its CPython address.
"""

import _address_space as _as

# Layout and type constants, same values as MicroPython's moductypes.c
# (type codes live in the top bits of a 31-bit small int).
LITTLE_ENDIAN = 0
BIG_ENDIAN = 1
NATIVE = 2

UINT8 = 0x00000000
INT8 = 0x08000000
UINT16 = 0x10000000
INT16 = 0x18000000
UINT32 = 0x20000000
INT32 = 0x28000000
UINT64 = 0x30000000
INT64 = 0x38000000
VOID = UINT8          # as in MicroPython: VOID is only a pointer target type
PTR = 0x20000000      # aggregate type codes use the top 2 bits
ARRAY = -0x40000000   # the sign bit is set on the target too


def addressof(obj):
    """Address of the data of a buffer-protocol object.

    Unlike MicroPython (which returns a signed int), the result is never
    negative.  Raises TypeError for non-buffers and ValueError for a buffer
    without an address.
    """
    host = _as.host_address(obj)
    target = _as.get_address_space().host_to_target(host)
    return host if target is None else target


def bytearray_at(addr, size):
    """Writable view of target RAM ``[addr, addr + size)`` (by reference).

    MicroPython returns a bytearray; here it is a memoryview (same indexing,
    slicing, buffer protocol and len(), but no bytearray methods).  Only RAM
    regions of the current address space can be viewed (else BusFault).
    """
    return _as.get_address_space().ram_view(addr, size)


def bytes_at(addr, size):
    """Copy of target RAM ``[addr, addr + size)`` as bytes."""
    return bytes(_as.get_address_space().ram_view(addr, size))


def struct(*args, **kwargs):
    raise NotImplementedError(
        "uctypes.struct is not emulated by the CPython shim; "
        "use viper pointers or machine.memNN")


def sizeof(*args, **kwargs):
    raise NotImplementedError(
        "uctypes.sizeof is not emulated by the CPython shim (no uctypes.struct)")
