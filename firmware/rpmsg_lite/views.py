"""Payload views: how a received message reaches a callback without a heap
allocation.

A callback gets a memoryview of exactly the message's length. Slicing a
memoryview allocates a new object on MicroPython, which a receive path must
not do (a hard-IRQ caller cannot allocate, and steady-state messaging
should never trigger the GC). So each buffer gets one view, made at link
init, whose length is rewritten in place for every message.

The length lives in MicroPython's mp_obj_array_t (py/objarray.h):
  { mp_obj_base_t base; size_t typecode:8, free:N-8; size_t len; void *items; }
i.e. word 2 of the object, which id() gives the address of. Before trusting
this, probe() checks the layout on a scratch view: the word must hold the
view's length and writing it must change len(). If the check fails (another
VM, a future layout) or on CPython, views are made by slicing instead.
"""

import sys
import micropython


@micropython.viper
def _peek(addr: int, index: int) -> int:
    return ptr32(addr)[index]


@micropython.viper
def _poke(addr: int, index: int, value: int):
    ptr32(addr)[index] = value


def _probe():
    """Index (in 32-bit words) of a memoryview's len field, or -1."""
    if sys.implementation.name != "micropython":
        return -1
    word = 8 if sys.maxsize > 0xFFFFFFFF else 4
    index = 2 * word // 4
    scratch = bytearray(16)
    view = memoryview(scratch)[3:13]
    addr = id(view)
    if _peek(addr, index) != 10 or (word == 8 and _peek(addr, index + 1) != 0):
        return -1
    _poke(addr, index, 4)
    ok = len(view) == 4 and bytes(view) == b"\x00\x00\x00\x00"
    _poke(addr, index, 10)
    return index if ok and len(view) == 10 else -1


LEN_WORD = _probe()


def payload_views(shm, first, count, stride, capacity):
    """One payload view per buffer of a shared region: (the list of views,
    the object address of each for vring's ctx or None when views cannot be
    resized in place and are sliced instead, LEN_WORD). A link keeps only
    the list: no object around it, less heap per link."""
    whole = memoryview(shm)
    full = [whole[first + k * stride : first + k * stride + capacity] for k in range(count)]
    return full, ([id(v) for v in full] if LEN_WORD >= 0 else None), LEN_WORD
