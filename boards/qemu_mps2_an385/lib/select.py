"""A ``select.poll`` for this firmware's asyncio (ports/qemu builds without
select): it polls registered stream objects through their ioctl, as
extmod/modselect.c does for Python streams (ThreadSafeFlag, asyncio's
streams), and lets the virtual clock (time.py here) run while it waits.
There are no file descriptors on this board."""

import time

POLLIN = 0x0001
POLLOUT = 0x0004
POLLERR = 0x0008
POLLHUP = 0x0010
_MP_STREAM_POLL = 3


class _Poll:
    def __init__(self):
        self._map = {}  # id(obj) -> [obj, event mask]

    def register(self, obj, mask=POLLIN | POLLOUT):
        self._map[id(obj)] = [obj, mask]

    def modify(self, obj, mask):
        self._map[id(obj)][1] = mask

    def unregister(self, obj):
        self._map.pop(id(obj), None)

    def _ready(self):
        out = []
        for entry in self._map.values():
            ev = entry[0].ioctl(_MP_STREAM_POLL, entry[1] | POLLERR | POLLHUP)
            if ev:
                out.append((entry[0], ev))
        return out

    def ipoll(self, timeout=-1, flags=0):
        start = time.ticks_ms()
        while True:
            ready = self._ready()
            if ready or timeout == 0:
                return ready
            if timeout > 0 and time.ticks_diff(time.ticks_ms(), start) >= timeout:
                return ready
            time.sleep_ms(1)

    poll = ipoll


def poll():
    return _Poll()
