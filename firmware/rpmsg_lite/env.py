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

try:
    import time as _clock
except ImportError:
    from .vclock import VirtualClock

    _clock = VirtualClock()

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
    _me = _thread.get_ident
except ImportError:

    def new_lock():
        return None

    def _me():
        return 0


def check_timeout(timeout_ms):
    """Timeouts are 0 (do not block), 1..0xFFFFFFFE ms, or BLOCK (forever),
    as in RPMsg-Lite where the value is a uint32."""
    if not isinstance(timeout_ms, int) or timeout_ms < 0 or timeout_ms > BLOCK:
        raise ValueError("timeout_ms must be 0..0xFFFFFFFF (BLOCK), got %r" % (timeout_ms,))


def expired(start, timeout_ms):
    """True once timeout_ms have passed since ticks_ms() returned start."""
    return timeout_ms != BLOCK and ticks_diff(ticks_ms(), start) >= timeout_ms


# Loading a module on first use from two threads at once could hand one of
# them a module still executing, so one thread at a time loads (a load may
# start another: reentrant per thread). _by: the loading thread, its depth.
_guard = new_lock()
_by = [None, 0]


def _enter():
    if _guard:
        me = _me()
        if _by[0] != me:
            _guard.acquire()
            _by[0] = me
        _by[1] += 1


def _leave():
    if _guard:
        _by[1] -= 1
        if not _by[1]:
            _by[0] = None
            _guard.release()


def load(name, attr):
    """``rpmsg_lite.<name>.<attr>``, importing the module on first use."""
    _enter()
    try:
        return getattr(__import__(__name__[:-3] + name, None, None, (attr,)), attr)
    finally:
        _leave()


# The modules bring-up may load that a running link does not need.
_SETUP = ("bringup", "layout", "rings", "views", "ringops")


def bring_up(what, *args):
    """bringup.<what>(*args), then drop from sys.modules (and the package)
    each of _SETUP that this call loaded: on a board that loads .mpy files
    their code leaves RAM again (README, "Footprint"). Frozen code is in
    flash either way; a later call simply imports them again."""
    import sys

    mods = sys.modules
    pkg = __name__[:-3]  # "rpmsg_lite." (this module is rpmsg_lite.env)
    _enter()
    new = [n for n in _SETUP if pkg + n not in mods]
    try:
        return load("bringup", what)(*args)
    finally:
        top = mods.get(pkg[:-1])
        for n in new:
            if mods.pop(pkg + n, None) is not None and top is not None:
                try:
                    delattr(top, n)
                except AttributeError:
                    pass
        _leave()
