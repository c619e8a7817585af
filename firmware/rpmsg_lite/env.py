"""Environment layer: what RPMsg-Lite's rpmsg_env_* gives its core (rpmsg_env.h)
in MicroPython terms: milliseconds, sleeping, and locks.

One module serves every MicroPython port and CPython (through the shim,
which adds MicroPython's time.ticks_* to CPython's time module). Where
_thread exists (unix, rp2, CPython) locks are real, because a doorbell
thread or the second core may run the stack concurrently; without it
(e.g. a bare QEMU firmware) there is only one context and locks are None,
which the hot paths skip.
"""

import micropython  # noqa: F401 (first: on CPython the shim installs time.ticks_*)
from micropython import const

class _VirtualClock:
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


try:
    import time as _clock
except ImportError:
    _clock = _VirtualClock()

ticks_ms = _clock.ticks_ms
ticks_diff = _clock.ticks_diff
sleep_ms = _clock.sleep_ms

# RL_MS_PER_INTERVAL: how long a blocked sender or receiver waits between
# polls when the platform offers nothing better (rpmsg_lite.c rpmsg_lite_send).
MS_PER_INTERVAL = const(1)

# RL_BLOCK is ~0UL: wait forever (rpmsg_lite.h).
BLOCK = 0xFFFFFFFF

try:
    # Absent on some ports (mimxrt): the ImportError branch below.
    import _thread  # pyright: ignore[reportMissingImports]

    new_lock = _thread.allocate_lock
except ImportError:

    def new_lock():
        return None


def check_timeout(timeout_ms):
    """Timeouts are 0 (do not block), 1..0xFFFFFFFE ms, or BLOCK (forever),
    as in RPMsg-Lite where the value is a uint32."""
    if not isinstance(timeout_ms, int) or timeout_ms < 0 or timeout_ms > BLOCK:
        raise ValueError("timeout_ms must be 0..0xFFFFFFFF (BLOCK), got %r" % (timeout_ms,))


def expired(start, timeout_ms):
    """True once timeout_ms have passed since ticks_ms() returned start."""
    return timeout_ms != BLOCK and ticks_diff(ticks_ms(), start) >= timeout_ms
