"""CPython stand-in for MicroPython's ``micropython`` module.

Importing it (firmware does ``from micropython import const`` first thing)
also prepares the interpreter for firmware code:

* the viper casts/pointer types ``ptr``, ``ptr8``, ``ptr16``, ``ptr32`` and
  ``uint`` become builtins, because viper code uses them as annotations
  (evaluated at ``def`` time) and as plain names in function bodies;
* MicroPython's extra ``time`` functions (``ticks_ms`` ... ``sleep_us``) are
  added to CPython's ``time`` module where it lacks them, so ``import time``
  works the same in firmware on both interpreters.
"""

import builtins
import operator
import time as _time

import _viper_ptr


# --- compiler directives ------------------------------------------------------

def const(x):
    """The MicroPython compiler inlines const(); at run time it is identity."""
    return x


def native(func):
    """@micropython.native only changes the code emitter: identity here."""
    return func


def viper(func):
    """@micropython.viper: the body runs as plain Python, with the viper
    casts and pointer types provided as builtins (see module docstring).
    Viper's 32-bit wrap-around arithmetic is NOT emulated."""
    return func


def asm_thumb(func):
    """Inline Thumb assembler cannot run on CPython: calling fails loudly."""
    def unavailable(*args, **kwargs):
        raise NotImplementedError("asm_thumb has no CPython equivalent")
    unavailable.__name__ = getattr(func, "__name__", "asm_thumb_function")
    unavailable.__doc__ = getattr(func, "__doc__", None)
    return unavailable


# --- runtime controls: no MicroPython heap/VM behind them, so no-ops ----------

def heap_lock():
    """No-op: CPython cannot forbid allocation (see README)."""


def heap_unlock():
    """No-op; returns the lock depth after unlocking, always 0 here."""
    return 0


def heap_locked():
    """Heap lock depth; the shim never locks, so 0."""
    return 0


def mem_info(*args):
    print("mem_info: CPython shim, no MicroPython heap to report")


def qstr_info(*args):
    print("qstr_info: CPython shim, no qstr pool to report")


def opt_level(*args):
    return 0


def alloc_emergency_exception_buf(size):
    """No-op: CPython can always allocate an exception."""


def kbd_intr(chr):
    """No-op: Ctrl-C handling is CPython's own."""


def schedule(func, arg):
    """MicroPython queues func(arg) to run "soon" in the main thread (used to
    leave IRQ context).  There is no IRQ context here, so run it now."""
    func(arg)


def stack_use():
    return 0


# --- viper builtins -----------------------------------------------------------
# `int` stays CPython's int: in viper it is a cast to a signed machine word,
# which plain Python code cannot tell apart except on overflow.

for _name in ("ptr", "ptr8", "ptr16", "ptr32", "uint"):
    setattr(builtins, _name, getattr(_viper_ptr, _name))
del _name


# --- MicroPython's time extensions ---------------------------------------------
# Same arithmetic as MicroPython's extmod/modtime.c: ticks are small ints
# wrapping at TICKS_PERIOD, ticks_diff gives the signed distance in
# [-TICKS_PERIOD/2, TICKS_PERIOD/2) and ticks_add refuses deltas that
# ticks_diff could not give back.

TICKS_PERIOD = 1 << 30            # MICROPY_PY_TIME_TICKS_PERIOD (small-int range)
TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2


def ticks_ms():
    return (_time.monotonic_ns() // 1_000_000) & TICKS_MAX


def ticks_us():
    return (_time.monotonic_ns() // 1_000) & TICKS_MAX


def ticks_cpu():
    """Highest-resolution counter: nanoseconds here, CPU cycles on target."""
    return _time.monotonic_ns() & TICKS_MAX


def ticks_diff(end, start):
    """Signed ``end - start`` modulo the ticks period."""
    return ((end - start + _TICKS_HALF) & TICKS_MAX) - _TICKS_HALF


def ticks_add(ticks, delta):
    """``ticks + delta`` wrapped into the ticks period.

    Like current MicroPython, |delta| must be below TICKS_PERIOD/2 so that
    ticks_diff(ticks_add(t, d), t) == d always holds.
    """
    delta = operator.index(delta)
    if not -_TICKS_HALF < delta < _TICKS_HALF:
        raise OverflowError("ticks interval overflow")
    return (ticks + delta) & TICKS_MAX


def sleep_ms(ms):
    # MicroPython takes ints only and ignores negative delays.
    ms = operator.index(ms)
    if ms >= 0:
        _time.sleep(ms / 1000)


def sleep_us(us):
    us = operator.index(us)
    if us > 0:
        _time.sleep(us / 1_000_000)


_TIME_EXTRAS = {
    "ticks_ms": ticks_ms,
    "ticks_us": ticks_us,
    "ticks_cpu": ticks_cpu,
    "ticks_add": ticks_add,
    "ticks_diff": ticks_diff,
    "sleep_ms": sleep_ms,
    "sleep_us": sleep_us,
}


def _install_time_functions(module):
    """Add the MicroPython-only functions to ``module`` (normally CPython's
    ``time``) without replacing anything it already has; returns the names
    added."""
    added = []
    for name, func in _TIME_EXTRAS.items():
        if not hasattr(module, name):
            setattr(module, name, func)
            added.append(name)
    return added


_install_time_functions(_time)
