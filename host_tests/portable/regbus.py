"""A register bus for hardware models, portable (CPython and MicroPython).

Platform ports read and write registers through an object used like
``machine.mem32`` (``mem[addr]`` / ``mem[addr] = value``); they take it as a
parameter that defaults to ``machine.mem32``. Tests pass a Bus instead, on
which register models are mapped, so the real port code runs against the
models on both interpreters (on the MicroPython unix port machine.mem32 goes
to /dev/mem). On CPython the same device objects can also be mapped into
the shim's address space (they follow its device protocol: read(offset,
width) and write(offset, width, value)), behind the real machine.mem32.

Each simulated core gets its own Bus: registers such as the RP2040's SIO
answer differently depending on which core reads them.
"""


class BusFault(Exception):
    pass


class Bus:
    def __init__(self, name="core"):
        self.name = name
        self._devices = []  # (base, size, device)
        self.trace = None  # a list to record ('r'|'w', addr, value) into

    def map(self, base, size, device):
        for b, s, _ in self._devices:
            if base < b + s and b < base + size:
                raise ValueError("overlapping mapping at %#x" % base)
        self._devices.append((base, size, device))
        return device

    def _find(self, addr):
        # Returns the index of the mapping rather than a (base, device)
        # tuple, so that a register access allocates nothing (MicroPython
        # heap-lock tests poll through a Bus).
        devices = self._devices
        for i in range(len(devices)):
            base, size, _ = devices[i]
            if base <= addr and addr + 4 <= base + size:
                return i
        raise BusFault("%s: no device at %#010x" % (self.name, addr))

    def __getitem__(self, addr):
        if addr & 3:
            raise BusFault("%s: unaligned word access at %#010x" % (self.name, addr))
        mapping = self._devices[self._find(addr)]
        value = mapping[2].read(addr - mapping[0], 4) & 0xFFFFFFFF
        if self.trace is not None:
            self.trace.append(("r", addr, value))
        return value

    def __setitem__(self, addr, value):
        if addr & 3:
            raise BusFault("%s: unaligned word access at %#010x" % (self.name, addr))
        mapping = self._devices[self._find(addr)]
        value &= 0xFFFFFFFF
        if self.trace is not None:
            self.trace.append(("w", addr, value))
        mapping[2].write(addr - mapping[0], 4, value)

    # The register-accessor interface of firmware/platform/rl_regs.py, so a
    # Bus can stand in for rl_regs.HW in the real port code.
    def read(self, addr):
        return self[addr]

    def write(self, addr, value):
        self[addr] = value

    def test(self, addr, mask):
        return 1 if self[addr] & mask else 0

    def field(self, addr, shift, width):
        return (self[addr] >> shift) & ((1 << width) - 1)
