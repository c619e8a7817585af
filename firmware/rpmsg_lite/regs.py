"""Register access for platform ports.

Ports take a ``regs`` object with four methods and default to HW, which
goes through viper pointers on integer addresses:
    read(addr)              the 32-bit value (for set-up code: on 32-bit
                            MicroPython a value >= 2**30 is a long int,
                            which allocates and fails in a hard IRQ)
    write(addr, value)      store a 32-bit value
    test(addr, mask)        1 if any bit of mask is set, else 0
    field(addr, shift, width)  (value >> shift) & (2**width - 1)
test() and field() mask inside viper and return small ints, so polling a
status register (MU SR with GIP at bits 28-31, SIO FIFO_ST) allocates
nothing. Tests pass a register-model bus with the same methods instead,
which is how the real port code runs against models on MicroPython's unix
port (where machine.mem32 would go to /dev/mem); on CPython HW itself runs
against models mapped into the shim's address space.
"""

import micropython


@micropython.viper
def _read(addr: int) -> uint:
    return uint(ptr32(addr)[0])


@micropython.viper
def _write(addr: int, value: int):
    ptr32(addr)[0] = value


@micropython.viper
def _test(addr: int, mask: int) -> int:
    if ptr32(addr)[0] & mask:
        return 1
    return 0


@micropython.viper
def _field(addr: int, shift: int, width: int) -> int:
    return (ptr32(addr)[0] >> shift) & ((1 << width) - 1)


class _Hardware:
    """Registers of the chip this code runs on."""

    read = staticmethod(_read)
    write = staticmethod(_write)
    test = staticmethod(_test)
    field = staticmethod(_field)


HW = _Hardware()
