# Instruction counts of the hot paths on the emulated Cortex-M3 and Cortex-M0,
# sent to each board by tools/qemu_bench.py (python3 tools/qemu.py bench).
#
# QEMU runs with -icount shift=0: one guest instruction per virtual
# nanosecond. The CMSDK APB TIMER0 of the MPS2 board (base 0x40000000: CTRL
# +0, VALUE +4, RELOAD +8) counts down at 25 MHz, so one tick is 40
# instructions (see above). Each figure is the cost of one operation,
# averaged over ROUNDS runs after a warm-up, minus the same loop calling an
# empty step. Prints one JSON line. First, before anything else of the
# package is imported, the modules a link with callbacks keeps: a master and
# a remote link, one endpoint each, a send and its delivery ("link_modules",
# whose .mpy sizes tools/qemu_bench.py adds up).

import gc
import json
import micropython
import sys


def _link_modules():
    from rpmsg_lite import RPMsgLite, Config
    from rl_loopback import Loopback

    got = []
    cfg = Config()
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    master = RPMsgLite.master(shm, loop.master, cfg)
    remote = RPMsgLite.remote(shm, loop.remote, cfg)
    loop.deliver()
    ept = master.create_ept(30, _release)
    remote.create_ept(40, lambda payload, src: got.append(bytes(payload)))
    master.send(ept, 40, b"ping", 0)
    loop.deliver()
    assert got == [b"ping"], got
    kept = sorted(k for k in sys.modules if k == "rpmsg_lite" or k.startswith("rpmsg_lite."))
    master.deinit()  # (room on the heap for what follows)
    remote.deinit()
    return kept


def _release(payload, src):
    return 0


LINK_MODULES = _link_modules()
gc.collect()

from rpmsg_lite import RPMsgLite, Config, Queue, DONT_BLOCK  # noqa: E402
from rpmsg_lite import ringops  # noqa: E402
from rl_loopback import Loopback  # noqa: E402

ROUNDS = 50
# The Cortex-M0 board (qemu_microbit_m0, nRF51) runs this file too; its
# TIMER0 (base 0x40008000) counts at 16 MHz: 62.5 instructions per tick.
_NRF51 = "nRF51" in sys.implementation._machine
_PER_TICK = 125 if _NRF51 else 40  # instructions per tick, times _TICK_DIV
_TICK_DIV = 2 if _NRF51 else 1


@micropython.viper
def _restart_cmsdk():
    t = ptr32(0x40000000)
    t[0] = 0  # stop
    t[2] = -1  # RELOAD
    t[1] = -1  # VALUE
    t[0] = 1  # enable


@micropython.viper
def _ticks_cmsdk() -> int:
    return int(uint(0xFFFFFFFF) - uint(ptr32(0x40000004)[0]))


@micropython.viper
def _restart_nrf51():
    t = ptr32(0x40008000)
    t[1] = 1  # TASKS_STOP
    t[0x504 >> 2] = 0  # MODE: timer
    t[0x508 >> 2] = 3  # BITMODE: 32 bit
    t[0x510 >> 2] = 0  # PRESCALER: 16 MHz
    t[3] = 1  # TASKS_CLEAR
    t[0] = 1  # TASKS_START


@micropython.viper
def _ticks_nrf51() -> int:
    t = ptr32(0x40008000)
    t[0x40 >> 2] = 1  # TASKS_CAPTURE[0]
    return t[0x540 >> 2]  # CC[0]


_restart = _restart_nrf51 if _NRF51 else _restart_cmsdk
_ticks = _ticks_nrf51 if _NRF51 else _ticks_cmsdk


def _loop(step, rig, n):
    _restart()
    for i in range(n):
        step(rig, i)
    return _ticks()


def measure(step, rig, n=ROUNDS):
    """Instructions per call of step(rig, i), the loop's own cost removed."""
    step(rig, 0)
    gc.collect()
    base = _loop(_empty, rig, n)
    gc.collect()
    ticks = _loop(step, rig, n)
    return (ticks - base) * _PER_TICK // (_TICK_DIV * n)


def _empty(rig, i):
    pass


class Rig:
    def __init__(self, count=4, payload=496):
        self.cfg = Config(buffer_count=count, payload_size=payload)
        self.shm = bytearray(self.cfg.shm_size)
        self.loop = Loopback()
        self.master = RPMsgLite.master(self.shm, self.loop.master, self.cfg)
        self.remote = RPMsgLite.remote(self.shm, self.loop.remote, self.cfg)
        self.loop.deliver()
        self.src = self.master.create_ept(30, _release)
        self.q = Queue(self.remote)
        self.remote.create_ept(40, _release)
        self.remote.create_ept(41, self.q)
        self.deliver = self.loop.remote.deliver
        self.data64 = bytes(64)
        self.data496 = bytes(496)
        self.buf = bytearray(496)


def _copy64(rig, i):
    rig.master.send(rig.src, 40, rig.data64, DONT_BLOCK)
    rig.deliver()


def _copy496(rig, i):
    rig.master.send(rig.src, 40, rig.data496, DONT_BLOCK)
    rig.deliver()


def _send64(rig, i):
    rig.master.send(rig.src, 40, rig.data64, DONT_BLOCK)


def _deliver_only(rig, i):
    rig.deliver()


def _zero_copy(rig, i):
    buf = rig.master.alloc_tx_buffer(DONT_BLOCK)
    buf[0] = i
    rig.master.send_nocopy(rig.src, 40, buf, 64)
    rig.deliver()


def _queue_recv_into(rig, i):
    rig.master.send(rig.src, 41, rig.data64, DONT_BLOCK)
    rig.deliver()
    rig.q.recv_into(rig.buf, DONT_BLOCK)


def _queue_recv_view(rig, i):
    rig.master.send(rig.src, 41, rig.data64, DONT_BLOCK)
    rig.deliver()
    rig.q.nocopy_free(rig.q.recv_view(DONT_BLOCK))


class RingRig:
    """256 buffers per direction: the remote can take every entry of vring
    0's avail ring in a row, then give them all back."""

    def __init__(self):
        r = Rig(count=256, payload=16)
        self.link = r.remote
        self.shm = r.remote._shm
        self.ctx = r.remote._ctx


_alloc = ringops.alloc
_give = ringops._give


def _pop(rig, i):
    _alloc(rig.shm, rig.ctx, None)  # take a TX buffer (as alloc_tx_buffer)


def _push(rig, i):
    _give(rig.shm, rig.ctx, None, 0, i, 2)  # TX queue, buffer in state B_TX


def _two_loads(rig, i):
    rig.shm
    rig.ctx


def run():
    out = {}
    rig = Rig()
    out["copy_send_and_callback_64"] = measure(_copy64, rig)
    out["copy_send_and_callback_496"] = measure(_copy496, rig)
    out["zero_copy_send_and_callback_64"] = measure(_zero_copy, rig)
    out["queue_send_and_recv_into_64"] = measure(_queue_recv_into, rig)
    out["queue_send_and_recv_view_64"] = measure(_queue_recv_view, rig)
    # The send half alone: the remote takes what was sent between rounds.
    n = rig.cfg.buffer_count
    send = 0
    for _ in range(4):
        send += measure(_send64, rig, n - 1)  # plus its warm-up call: n sends
        rig.deliver()
    out["copy_send_only_64"] = send // 4
    out["deliver_only_empty"] = measure(_deliver_only, rig)
    # Ring operations: 256 pops in a row, then the 256 pushes that return
    # them (buffers 256..511 are vring 0's, the remote's TX side).
    # Each figure includes the call from Python (what the stack pays too).
    ring = RingRig()
    loads = measure(_two_loads, ring, 256)
    gc.collect()
    base = _loop(_empty, ring, 256)
    pops = _loop(_pop, ring, 256)
    out["ring_pop"] = (pops - base) * _PER_TICK // (_TICK_DIV * 256) - loads
    base = _loop(_empty, ring, 256)
    pushes = _loop(_push, ring, 256)
    out["ring_push"] = (pushes - base) * _PER_TICK // (_TICK_DIV * 256) - loads
    assert ring.link.free_tx_buffers() == 0  # all 256 taken and given back once
    rig = ring = None  # room for the links below
    gc.collect()
    # Heap of one initialised link with one endpoint, shared memory excluded
    # (every link measured stays alive, so nothing is freed in between).
    links = []
    for count in (2, 16):
        cfg = Config(buffer_count=count)
        shm = bytearray(cfg.shm_size)
        loop = Loopback()
        gc.collect()
        free = gc.mem_free()
        link = RPMsgLite.master(shm, loop.master, cfg)
        link.create_ept(30, _release)
        gc.collect()
        out["heap_link_n%d" % count] = free - gc.mem_free()
        links.append((shm, loop, link))
    out["link_modules"] = LINK_MODULES
    print(json.dumps(out))


run()
