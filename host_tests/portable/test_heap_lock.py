"""The hot paths allocate nothing on MicroPython.

micropython.heap_lock() makes any allocation raise MemoryError, so each test
runs a warm-up (first use may allocate, e.g. dict resizing, caches) and
then many messages with the heap locked. On CPython the shim cannot lock
the heap, so these tests are skipped there rather than passing vacuously.
"""

import micropython

from rpmsg_lite import Queue, DONT_BLOCK, HOLD
from rpmsg_lite import views
from linkpair import Pair
from support import IS_MICROPYTHON, skip

ROUNDS = 200


def _locked(step, rig, rounds):
    # step is a module-level function taking (rig, i): on MicroPython 1.25
    # calling a closure whose cells plus arguments exceed 5 allocates the
    # argument array on the heap (py/objclosure.c), which would be the
    # test's allocation, not the stack's.
    step(rig, 0)  # warm-up: first use may allocate (caches, dict growth)
    micropython.heap_lock()
    try:
        for i in range(1, rounds + 1):
            step(rig, i)
    finally:
        micropython.heap_unlock()


class _Rig:
    """Everything a step needs, reached through attributes."""

    def __init__(self, **parts):
        for key in parts:
            setattr(self, key, parts[key])


class _Echo:
    """Receive callback that counts and sums without allocating."""

    def __init__(self, result=0):
        self.count = 0
        self.total = 0
        self.result = result
        self.last = None

    def __call__(self, payload, src):
        self.count += 1
        self.total += len(payload)
        self.last = payload
        return self.result


def _need_micropython():
    if not IS_MICROPYTHON:
        skip("heap locking is only observable on MicroPython")


def test_payload_views_are_resized_in_place():
    _need_micropython()
    assert views.LEN_WORD >= 0, "memoryview layout probe failed: receive would allocate"


def _copy_step(rig, i):
    rig.master.send(rig.src, 40, rig.data, DONT_BLOCK)
    rig.p.loop.remote.deliver()


def test_copy_send_and_callback_receive_allocate_nothing():
    _need_micropython()
    p = Pair()
    echo = _Echo()
    p.remote.create_ept(40, echo)
    rig = _Rig(p=p, master=p.master, src=p.master.create_ept(30, _Echo()), data=bytes(range(64)))
    _locked(_copy_step, rig, ROUNDS)
    assert echo.count == ROUNDS + 1 and echo.total == 64 * (ROUNDS + 1)


def _echo_step(rig, i):
    rig.p.master.send(rig.m_src, 40, rig.data, DONT_BLOCK)
    rig.p.loop.deliver()
    rig.q.recv_into(rig.buf, DONT_BLOCK)
    rig.p.remote.send(rig.r_src, rig.q.src, rig.buf, DONT_BLOCK)
    rig.p.loop.deliver()


def test_both_directions_with_queue_recv_into_allocate_nothing():
    _need_micropython()
    p = Pair()
    q = Queue(p.remote)
    back = _Echo()
    rig = _Rig(
        p=p,
        q=q,
        r_src=p.remote.create_ept(40, q),
        m_src=p.master.create_ept(30, back),
        data=bytes(range(200)),
        buf=bytearray(496),
    )
    _locked(_echo_step, rig, ROUNDS)
    assert back.count == ROUNDS + 1 and back.total == 496 * (ROUNDS + 1)


def _zero_copy_step(rig, i):
    buf = rig.p.master.alloc_tx_buffer(DONT_BLOCK)
    buf[0] = i & 0xFF
    rig.p.master.send_nocopy(rig.src, 40, buf, 100)
    rig.p.loop.remote.deliver()
    rig.p.remote.release_rx_buffer(rig.held.last)


def test_zero_copy_send_hold_and_release_allocate_nothing():
    _need_micropython()
    p = Pair()
    held = _Echo(HOLD)
    p.remote.create_ept(40, held)
    rig = _Rig(p=p, held=held, src=p.master.create_ept(30, _Echo()))
    _locked(_zero_copy_step, rig, ROUNDS)
    assert held.count == ROUNDS + 1 and held.last[0] == ROUNDS & 0xFF


def _queue_view_step(rig, i):
    rig.p.master.send(rig.src, 40, rig.data, DONT_BLOCK)
    rig.p.loop.remote.deliver()
    payload = rig.q.recv_view(DONT_BLOCK)
    rig.sizes[0] += len(payload)
    rig.q.nocopy_free(payload)


def test_queue_zero_copy_receive_allocates_nothing():
    _need_micropython()
    p = Pair()
    q = Queue(p.remote)
    p.remote.create_ept(40, q)
    rig = _Rig(p=p, q=q, src=p.master.create_ept(30, _Echo()), data=bytes(32), sizes=[0])
    _locked(_queue_view_step, rig, ROUNDS)
    assert rig.sizes[0] == 32 * (ROUNDS + 1)
