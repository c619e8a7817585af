"""The clock of a port without one (env.py uses it when there is no time
module), in its own module so that the others do not carry it."""


class VirtualClock:
    """For a port without a clock (the bare QEMU firmware has no time
    module): time passes only while the stack waits, one sleep_ms(ms) at a
    time, so a timeout of T ms means T milliseconds' worth of polls.
    Deterministic, and the only meaning a timeout can have there."""

    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.now = (self.now + ms) & 0x3FFFFFFF
