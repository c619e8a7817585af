"""A virtual clock as this firmware's ``time`` module (ports/qemu has none):
time passes only while something sleeps, one sleep_ms(ms) at a time, as
rpmsg_lite.env's own virtual clock does. It lets MicroPython's asyncio,
which imports ticks_ms/ticks_diff/ticks_add from ``time``, run here; timings
stay deterministic (QEMU runs with -icount)."""

_PERIOD = 0x40000000  # MicroPython's ticks wrap at 2**30
_now = 0


def ticks_ms():
    return _now


def ticks_us():
    return (_now * 1000) & (_PERIOD - 1)


def ticks_add(ticks, delta):
    return (ticks + delta) & (_PERIOD - 1)


def ticks_diff(a, b):
    return ((a - b + _PERIOD // 2) & (_PERIOD - 1)) - _PERIOD // 2


def sleep_ms(ms):
    global _now
    if ms > 0:
        _now = (_now + ms) & (_PERIOD - 1)


def sleep_us(us):
    sleep_ms((us + 999) // 1000)


def sleep(s):
    sleep_ms(int(s * 1000))
