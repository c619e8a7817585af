"""Vring hot paths and the link state they work on (``ctx``).

Written in viper so MicroPython runs them as machine code with no heap
allocation; the CPython shim runs the same functions with emulated ptr
types. Two properties follow from viper and are relied on:
  * a viper function runs no bytecode between its lock acquire and release,
    so MicroPython's scheduler cannot run a soft-IRQ callback (which might
    re-enter the stack on the same thread) while a ring lock is held;
  * nothing here allocates, so steady-state messaging never touches the GC.

Cost shapes the code (measured on a Cortex-M3, see README): a call from
Python costs hundreds of instructions, and so does a call from one viper
function to another (it goes through the runtime with boxed arguments).
So a copy send is ONE call (take a buffer, copy, header, publish, decide
the doorbell) and a delivery is ONE call that loops over every pending
message, calls the endpoint callbacks itself and gives the buffers back;
the ring logic they share is written out in each rather than called.

All local state of a link lives in ONE array('I'), ``ctx``, whose layout
is private to this module and ringops.py (the functions a running link
rarely needs, loaded on first use): other modules use their functions. The
master is the virtio "driver" of both vrings (it fills avail and consumes
used), the remote is the "device" (RPMsg-Lite's rpmsg_lite_master_init /
rpmsg_lite_remote_init). Everything read from shared memory is validated
before it is used as an index or address: a corrupted ring or a hostile
peer can make us drop an entry (counted per kind) but never access memory
outside the region.
"""

import micropython
from micropython import const

from .env import BLOCK as _BLOCK  # (the object: send() tests identity first)

# -- ctx layout (words) --------------------------------------------------------
# Two queue blocks (TX, then RX), then the link's buffer geometry and state,
# then three tables (ownership bytes, descriptor u16s, view addresses),
# each located by a WORD index stored in ctx.
_Q_DESC = const(0)  # byte offset of the descriptor table in shared memory
_Q_AVAIL = const(1)  # byte offset of the avail ring
_Q_USED = const(2)  # byte offset of the used ring
_Q_MASK = const(3)  # N - 1 (N is a power of two)
_Q_CONS = const(4)  # local consumer index: vq_used_cons_idx / vq_available_idx
_Q_DRIVER = const(5)  # 1: we fill avail and pop used (master); 0: the reverse
# The index of the ring this side produces into (avail for the driver, used
# for the device) is kept here too and written from here. That field has
# one writer, us, so if shared memory disagrees someone else wrote it: on
# the remote that is the master formatting the rings again (it restarted),
# on the master it can only be corruption, which is repaired.
_Q_PROD = const(6)
_Q_PROD_STATE = const(7)  # _PROD_* below
# Entries dropped, by reason (stats() reads them through counters()):
_Q_BAD_DESC = const(8)  # descriptor index >= N
_Q_BAD_ADDR = const(9)  # address outside the buffer area or not at a buffer start
_Q_BAD_LEN = const(10)  # descriptor length < 16 or > buffer size (device side)
_Q_BAD_HDR = const(11)  # header len larger than the buffer's payload room (given back)
_Q_DUP = const(12)  # a buffer this side already holds, handed over again
_Q_JUMP = const(13)  # the peer's index ran more than N ahead (nothing taken)
_Q_OWN_REPAIRED = const(14)  # the master found its own index overwritten
_Q_MSGS = const(15)  # messages sent (TX) / taken for delivery (RX), wrapping
_Q_BELLS = const(16)  # doorbells this side decided to ring for the queue (TX)
_Q_WORDS = const(17)

_TX = const(0)  # the TX queue block
_RX = const(_Q_WORDS)  # the RX queue block
_C_BUF_PA = const(2 * _Q_WORDS)  # address of buffer 0 as written in descriptors
_C_BUF_OFF = const(_C_BUF_PA + 1)  # byte offset of buffer 0 in shared memory
_C_BUF_SIZE = const(_C_BUF_OFF + 1)
_C_BUF_AREA = const(_C_BUF_SIZE + 1)  # 2N * buffer size
_C_PAYLOAD = const(_C_BUF_AREA + 1)  # the link's payload size (send checks n against it)
_C_UP = const(_C_PAYLOAD + 1)  # 1 while the link is up (sends are refused otherwise)
_C_SRC = const(_C_UP + 1)  # src and len of the message being delivered (for queue.py)
_C_LEN = const(_C_SRC + 1)
_C_LIMIT = const(_C_LEN + 1)  # payload room of the buffer last taken (device: desc.len - 16)
_C_CUR = const(_C_LIMIT + 1)  # 1 + the buffer whose callback is running, or 0
_C_UNKNOWN = const(_C_CUR + 1)  # messages released because no endpoint had their dst
_C_FREED = const(_C_UNKNOWN + 1)  # 1: drain() reports buffers given back (consumed kicks)
# Doorbell suppression: 0 off; 1 used.flags NO_NOTIFY on the RX ring while
# drain() runs; 2 from drain() until rest() (the port calls it before it
# sleeps, see Port.rests).
_C_SUPPRESS = const(_C_FREED + 1)
_C_STATE = const(_C_SUPPRESS + 1)  # word index of the ownership table (1 byte per buffer)
_C_DESCS = const(_C_STATE + 1)  # word index of the descriptor table (u16 per buffer)
# Payload views (views.py): when _C_LENW is not 0, taking a message sets the
# length of buffer b's view itself, at word _C_LENW - 1 of the view object,
# whose address is words _C_VIEWS + 2b (low) and + 2b + 1 (high, shifted by
# _C_ADDR_SHIFT: 32 on 64-bit hosts, 0 where addresses are 32 bits).
_C_VIEWS = const(_C_DESCS + 1)  # word index of the view address table
_C_LENW = const(_C_VIEWS + 1)
_C_ADDR_SHIFT = const(_C_LENW + 1)
# The doorbell send() rings itself (see doorbell()): the vector, ORed with
# _DOOR_FIFO when the port's bell is a FIFO mailbox (else it is the port's
# notify) and with _DOOR_LOCKED when the link has a lock (threads, cores).
_C_DOOR = const(_C_ADDR_SHIFT + 1)
_DOOR_VECTOR = const(0xFFFF)
_DOOR_FIFO = const(0x10000)
_DOOR_LOCKED = const(0x20000)
# Where views are resized in place (MicroPython, _C_LENW not 0), the
# addresses of shared memory and of the doorbell FIFO too (low, high words
# as for views): a viper function then finds them without converting an
# object to a pointer (about a hundred instructions each on a Cortex-M3).
_C_SHM = const(_C_DOOR + 1)
_C_BELL = const(_C_SHM + 2)
_C_WORDS = const(_C_BELL + 2)

_PROD_UNKNOWN = const(0)  # read the producer index from shared memory at the next take
_PROD_VALID = const(1)
_PROD_FROZEN = const(2)  # a restart was seen: take and give nothing until the link resets

# Ownership of each buffer, from this side's view.
_B_PEER = const(0)  # in a ring or in the peer's hands
_B_HELD = const(1)  # received, with the application (callback running or RL_HOLD)
_B_TX = const(2)  # taken for a send, not yet published

# Results (negative; link.py's private copies of the ones it tests carry the
# same values, see the RESULTS check in the tests).
_EMPTY = const(-1)  # no buffer / no message
_BAD = const(-2)  # an entry was consumed and dropped; try again
_JUMP = const(-3)  # the peer's index is corrupt; nothing consumed
_RESTART = const(-4)  # (remote) the master formatted the rings again
_GONE = const(-5)  # a restart was seen; the buffer belongs to the old link
_NOT_MINE = const(-6)  # the buffer is not in the expected state
_DOWN = const(-7)  # send: the link is not up
_TOO_BIG = const(-8)  # send: more than payload_size bytes

_USED_F_NO_NOTIFY = const(1)  # VRING_USED_F_NO_NOTIFY (virtio_ring.h)
_HEADER = const(16)
_SLOW = const(1)  # send/publish: not done, the caller's slow path decides

# FIFO mailbox words (port.py, "doorbell_fifo"): head, count, lost, mask, then the FIFO.
_M_HEAD = const(0)
_M_COUNT = const(1)
_M_LOST = const(2)
_M_MASK = const(3)
_M_FIFO = const(4)
# -- end of the ctx layout (ringops.py repeats it verbatim: const() is per module) --

# Objects viper code compares arguments with (viper has no object constants).
# (Written as ~: -0x40000000 would be folded from 0x40000000, a long int
# on 32-bit ports, and stay one, slow and allocating.)
_HIGH = ~0x3FFFFFFF  # x & _HIGH == 0: an int 0 .. 2**30 - 1
_HIGH16 = ~0xFFFF
_ZERO = 0
_len = len
_str = str
_exc = None  # the exception a callback raised (viper has no typed "as" target)


# -- ctx: what a running link reads and sets (the rest is in ringops.py) -------


def rest(shm, ctx, lock):
    """Before this side sleeps: clear NO_NOTIFY on the RX ring (if
    suppression left it set), then look at the ring once more. Returns the
    messages pending (deliver them before sleeping), 0 if none."""
    if ctx[_C_SUPPRESS] != 2:
        return 0
    used = ctx[_RX + _Q_USED]
    shm[used] &= ~_USED_F_NO_NOTIFY  # flags is little-endian: bit 0 is in the first byte
    if lock:
        # A full barrier between the store above and the load below (see
        # send); without one a doorbell can be lost, which the host port's
        # timed-out wait turns into a delay.
        lock.acquire()
        lock.release()
    return pending(shm, ctx, 1)


def set_up(ctx, up):
    ctx[_C_UP] = 1 if up else 0


def is_up(ctx):
    return ctx[_C_UP] != 0


def frozen(ctx, rx):
    return ctx[(_RX if rx else _TX) + _Q_PROD_STATE] == _PROD_FROZEN


# -- per-message paths -------------------------------------------------------------


@micropython.viper
def _take(shm, ctx, q: int) -> int:
    # Pop the next entry the peer handed over on queue q (virtqueue.c
    # virtqueue_get_buffer on the driver, virtqueue_get_available_buffer on
    # the device), the caller holding the lock. Returns the buffer index
    # (its descriptor index and payload room stored in ctx; the caller marks
    # its ownership), _EMPTY, _BAD (an invalid entry was consumed and
    # counted: call again), _JUMP (corrupt peer index, nothing consumed) or
    # _RESTART (the master formatted the rings again: see _Q_PROD).
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if c[_C_LENW]:
        s16 = ptr16(c[_C_SHM] | (c[_C_SHM + 1] << c[_C_ADDR_SHIFT]))
    else:
        s16 = ptr16(shm)
    mask = c[q + _Q_MASK]
    driver = c[q + _Q_DRIVER]
    if driver:
        ring = c[q + _Q_USED]
        own = (c[q + _Q_AVAIL] + 2) >> 1
    else:
        ring = c[q + _Q_AVAIL]
        own = (c[q + _Q_USED] + 2) >> 1
    cons = c[q + _Q_CONS]
    ahead = (s16[(ring + 2) >> 1] - cons) & 0xFFFF
    # Own index check (see _Q_PROD). The remote also checks the master's
    # index of the ring it consumes: a driver is never behind its device nor
    # more than N ahead, and a fresh format puts it back to 0.
    known = c[q + _Q_PROD_STATE]
    if known == _PROD_FROZEN:
        return _RESTART
    if known == _PROD_UNKNOWN:
        c[q + _Q_PROD] = s16[own]
        c[q + _Q_PROD_STATE] = _PROD_VALID
    elif s16[own] != c[q + _Q_PROD]:
        if not driver:
            c[q + _Q_PROD_STATE] = _PROD_FROZEN
            return _RESTART
        c[q + _Q_OWN_REPAIRED] += 1
        s16[own] = c[q + _Q_PROD]
    if ahead > mask + 1:
        c[q + _Q_JUMP] += 1
        if driver:
            return _JUMP
        c[q + _Q_PROD_STATE] = _PROD_FROZEN
        return _RESTART
    if ahead == 0:
        return _EMPTY
    c[q + _Q_CONS] = (cons + 1) & 0xFFFF
    slot = cons & mask
    s32 = ptr32(s16)
    if driver:
        d = s32[(ring + 4 + 8 * slot) >> 2]
    else:
        d = s16[(ring + 4 + 2 * slot) >> 1]
    why = _Q_BAD_DESC
    if uint(d) <= uint(mask):
        size = c[_C_BUF_SIZE]
        limit = size
        dsc = c[q + _Q_DESC] + 16 * d
        off = uint(s32[dsc >> 2]) - uint(c[_C_BUF_PA])
        why = _Q_BAD_ADDR
        if off < uint(c[_C_BUF_AREA]):
            b = int(off) // size
            if int(off) == b * size:
                # The device takes the buffer's length from the descriptor
                # (the driver's own are all buffer-sized).
                why = _Q_BAD_LEN
                if not driver:
                    limit = s32[(dsc + 8) >> 2]
                    if uint(limit) < uint(_HEADER) or uint(limit) > uint(size):
                        b = -1
                if b >= 0:
                    why = _Q_DUP
                    if c8[(c[_C_STATE] << 2) + b] == _B_PEER:
                        ptr16(c8)[(c[_C_DESCS] << 1) + b] = d
                        c[_C_LIMIT] = limit - _HEADER
                        return b
    c[q + why] += 1
    return _BAD


@micropython.viper
def send(link, ept, dst, data, timeout) -> int:
    """link.send(ept, dst, data, timeout) in one call: check the arguments,
    take a TX buffer, copy, write the header, publish, and ring the peer
    unless used.flags has NO_NOTIFY (virtqueue.c virtqueue_kick). Returns 0
    once sent. Anything unusual returns non-zero with nothing done: the
    caller's slow path checks the arguments (raising), then calls again with
    ``timeout`` = the link itself, which skips the checks and returns the
    reason instead: _DOWN, _TOO_BIG, _EMPTY (no free buffer), _JUMP,
    _RESTART. Non-buffer data raises TypeError before anything changes."""
    if timeout is not link:
        # The common case, checked without a call: an endpoint of this link,
        # dst and timeout small ints (or BLOCK), data not a str. Anything
        # else (an AttributeError or TypeError included) is the slow path's.
        try:
            if ept.link is not link:
                return _SLOW
            if dst & _HIGH:
                return _SLOW
            if timeout is not _ZERO and timeout is not _BLOCK:
                if timeout & _HIGH:
                    return _SLOW
            if data.__class__ is _str:
                return _SLOW
            n = int(_len(data))
        except Exception:
            return _SLOW
    else:
        n = int(_len(data))
    d8 = ptr8(data)  # raises TypeError for a non-buffer, before anything changes
    ctx = link._ctx
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if c[_C_UP] == 0:
        return _DOWN
    if uint(n) > uint(c[_C_PAYLOAD]):
        return _TOO_BIG
    src = int(ept.addr)
    d = int(dst)
    shm = link._shm
    if c[_C_LENW]:
        s8 = ptr8(c[_C_SHM] | (c[_C_SHM + 1] << c[_C_ADDR_SHIFT]))
    else:
        s8 = ptr8(shm)
    s16 = ptr16(s8)
    s32 = ptr32(s8)
    locked = c[_C_DOOR] & _DOOR_LOCKED
    lock = ctx
    if locked:
        lock = link._lock
        lock.acquire()
    # Take (rpmsg_lite.c rpmsg_lite_alloc_tx_buffer).
    result = _BAD
    while result == _BAD:
        result = int(_take(shm, ctx, _TX))
    if result < 0:
        if locked:
            lock.release()
        return result
    b = result  # stays _B_PEER: published below, under the same lock
    desc = ptr16(c8)[(c[_C_DESCS] << 1) + b]
    # Payload: words when the source is word aligned (the destination always
    # is), bytes otherwise (Cortex-M0+ faults on unaligned word access).
    h = c[_C_BUF_OFF] + b * c[_C_BUF_SIZE]
    p = h + _HEADER
    i = 0
    if (int(d8) & 3) == 0:
        d32 = ptr32(d8)
        w = p >> 2
        words = n >> 2
        while i < words:
            s32[w + i] = d32[i]
            i += 1
        i = words << 2
    while i < n:
        s8[p + i] = d8[i]
        i += 1
    # Header (rpmsg_lite.c rpmsg_lite_format_message): src, dst, len, flags
    # 0; reserved is left as it is, as RPMsg-Lite does.
    s32[h >> 2] = src
    s32[(h + 4) >> 2] = d
    s16[(h + 12) >> 1] = n
    s16[(h + 14) >> 1] = 0
    # Publish: the slot before the index (virtqueue.c vq_ring_update_avail,
    # vq_ring_update_used).
    idx = c[_TX + _Q_PROD]
    slot = idx & c[_TX + _Q_MASK]
    if c[_TX + _Q_DRIVER]:
        s16[(c[_TX + _Q_AVAIL] + 4 + 2 * slot) >> 1] = desc
        own = (c[_TX + _Q_AVAIL] + 2) >> 1
    else:
        w = (c[_TX + _Q_USED] + 4 + 8 * slot) >> 2
        s32[w] = desc
        s32[w + 1] = s32[(c[_TX + _Q_DESC] + 16 * desc + 8) >> 2]
        own = (c[_TX + _Q_USED] + 2) >> 1
    idx = (idx + 1) & 0xFFFF
    s16[own] = idx
    c[_TX + _Q_PROD] = idx
    c[_TX + _Q_MSGS] += 1
    # Read used.flags only after the lock release, which is a full barrier
    # where locks are real (pthread, two cores): the index store above is
    # then visible before the load below, as env_mb() orders them in
    # virtqueue.c virtqueue_kick. (The receiver has the same barrier between
    # clearing NO_NOTIFY and its last look at the ring, see rest().)
    if locked:
        lock.release()
    if s16[c[_TX + _Q_USED] >> 1] & _USED_F_NO_NOTIFY:
        return 0
    c[_TX + _Q_BELLS] += 1  # (a lost increment under a race only skews the count)
    door = c[_C_DOOR]
    if door & _DOOR_FIFO:
        # The port's doorbell FIFO (port.py "doorbell_fifo"), what its notify would do.
        m = ptr32(c[_C_BELL] | (c[_C_BELL + 1] << c[_C_ADDR_SHIFT]))
        k = m[_M_COUNT]
        if k > m[_M_MASK]:
            m[_M_LOST] += 1
        else:
            m[_M_FIFO + ((m[_M_HEAD] + k) & m[_M_MASK])] = door & _DOOR_VECTOR
            m[_M_COUNT] = k + 1
    else:
        link._bell(door & _DOOR_VECTOR)
    return 0


def _cut(view, n):
    # Views that cannot be resized in place (CPython, an unknown VM layout).
    return view[:n]


@micropython.viper
def drain(link) -> int:
    """Deliver every pending message of ``link`` (rpmsg_lite.c
    rpmsg_lite_rx_callback): take it, find its endpoint in link._table
    ([array('I') of count and addresses, then each endpoint's callback,
    then the payload view of each buffer]), call callback(payload, src)
    and give the buffer back unless the callback returned HOLD (1), in
    which case its descriptor index is stamped in the header's reserved
    field as rpmsg_lite_rx_callback does. Unknown destinations are released
    silently (counted). With suppression on, used.flags of the RX ring carries NO_NOTIFY while
    this runs, cleared before returning and the ring checked once more (a
    message published meanwhile is delivered now).

    Returns buffers given back (when consumed-buffer reporting is on, else
    0), or _RESTART. If a callback raises, the exception propagates with
    the buffer still held and its number in ctx (see deliver())."""
    ctx = link._ctx
    shm = link._shm
    c8 = ptr8(ctx)
    c = ptr32(c8)
    c16 = ptr16(c8)
    if c[_C_LENW]:
        s8 = ptr8(c[_C_SHM] | (c[_C_SHM + 1] << c[_C_ADDR_SHIFT]))
    else:
        s8 = ptr8(shm)
    s16 = ptr16(s8)
    s32 = ptr32(s8)
    st = c[_C_STATE] << 2
    ds = c[_C_DESCS] << 1
    boff = c[_C_BUF_OFF]
    bsize = c[_C_BUF_SIZE]
    used = c[_RX + _Q_USED]
    # The index the peer produces into (used on the master, avail on the
    # remote) and ours, as _take reads them.
    if c[_RX + _Q_DRIVER]:
        peer = (used + 2) >> 1
        mine = (c[_RX + _Q_AVAIL] + 2) >> 1
    else:
        peer = (c[_RX + _Q_AVAIL] + 2) >> 1
        mine = (used + 2) >> 1
    suppress = c[_C_SUPPRESS]
    locked = c[_C_DOOR] & _DOOR_LOCKED
    lock = ctx
    table = ctx  # loaded with the first message
    count = -1
    ea = c
    freed = 0
    done = -1  # a buffer to give back after the next take
    held = -1  # a buffer to stamp before the next take (its callback held it)
    if locked:
        lock = link._lock
        lock.acquire()
    if suppress:
        s16[used >> 1] = s16[used >> 1] | _USED_F_NO_NOTIFY
    while True:
        if held >= 0:
            # rpmsg_lite_rx_callback on RL_HOLD: reserved.idx = desc index,
            # unless the application already released it.
            if c8[st + held] == _B_HELD:
                s16[(boff + held * bsize + 10) >> 1] = c16[ds + held]
            held = -1
        # Take first: a master restart shows there, before anything is
        # written to the rings.
        # (An empty ring whose indices pass _take's checks is answered here,
        # without the call: the last look of every drain.)
        if (
            s16[peer] == c[_RX + _Q_CONS]
            and s16[mine] == c[_RX + _Q_PROD]
            and c[_RX + _Q_PROD_STATE] == _PROD_VALID
        ):
            b = _EMPTY
        else:
            b = int(_take(shm, ctx, _RX))
        if done >= 0:
            if b == _RESTART:
                c8[st + done] = _B_PEER  # it belongs to the old generation
            else:
                # Give back (rpmsg_lite.c rpmsg_lite_release_rx_buffer:
                # virtqueue_add_buffer on the master,
                # virtqueue_add_consumed_buffer on the remote, which reports
                # the descriptor's own length).
                c8[st + done] = _B_PEER
                d = c16[ds + done]
                idx = c[_RX + _Q_PROD]
                slot = idx & c[_RX + _Q_MASK]
                if c[_RX + _Q_DRIVER]:
                    s16[(c[_RX + _Q_AVAIL] + 4 + 2 * slot) >> 1] = d
                    own = (c[_RX + _Q_AVAIL] + 2) >> 1
                else:
                    w = (used + 4 + 8 * slot) >> 2
                    s32[w] = d
                    s32[w + 1] = s32[(c[_RX + _Q_DESC] + 16 * d + 8) >> 2]
                    own = (used + 2) >> 1
                idx = (idx + 1) & 0xFFFF
                s16[own] = idx
                c[_RX + _Q_PROD] = idx
                freed += 1
            done = -1
        if b == _BAD:
            continue
        if b < 0:
            if b == _EMPTY and suppress == 1:
                # Clear NO_NOTIFY, then look once more: a message published
                # before the peer saw the flag cleared came without a
                # doorbell. (Without a full barrier between the two, one can
                # still be missed: the ports' periodic poll bounds that delay.)
                s16[used >> 1] = s16[used >> 1] & ~_USED_F_NO_NOTIFY
                if locked:
                    lock.release()  # a full barrier (see send)
                    lock.acquire()
                if int(pending(shm, ctx, 1)):
                    s16[used >> 1] = s16[used >> 1] | _USED_F_NO_NOTIFY
                    continue
            break
        h = boff + b * bsize
        n = s16[(h + 12) >> 1]
        if n > c[_C_LIMIT]:
            # Linux's rule too: len <= buffer length - 16. Give the buffer
            # straight back so the peer does not lose it.
            c[_RX + _Q_BAD_HDR] += 1
            done = b
            continue
        c8[st + b] = _B_HELD
        c[_RX + _Q_MSGS] += 1
        src = s32[h >> 2]
        dst = s32[(h + 4) >> 2]
        c[_C_SRC] = src  # (for queue.py, see ringops.queue_abi)
        c[_C_LEN] = n
        lenw = c[_C_LENW]
        if lenw:
            v = c[_C_VIEWS] + 2 * b
            ptr32(c[v] | (c[v + 1] << c[_C_ADDR_SHIFT]))[lenw - 1] = n
        # Endpoint lookup: a linear scan of the address table (the table
        # of this drain: a callback that adds an endpoint swaps in a new one).
        if count < 0:
            table = link._table
            ea = ptr32(table[0])
            count = ea[0]
        e = 1
        while e <= count and ea[e] != dst:
            e += 1
        if e > count:
            c[_C_UNKNOWN] += 1
            done = b
            continue
        if locked:
            lock.release()
        p = table[count + 1 + b]
        if not lenw:
            p = _cut(p, n)
        c[_C_CUR] = b + 1
        r = table[e](p, uint(src))
        c[_C_CUR] = 0
        if r and int(r) == 1:
            held = b
        else:
            done = b
        if locked:
            lock.acquire()
    if suppress == 1 or b == _RESTART:
        s16[used >> 1] = s16[used >> 1] & ~_USED_F_NO_NOTIFY
    if locked:
        lock.release()
    if b == _RESTART:
        return _RESTART
    if c[_C_FREED]:
        return freed
    return 0


@micropython.viper
def deliver(link):
    """drain() until done: a callback that raised goes to
    link._callback_failed (its buffer is still held), then delivery goes
    on; a non-zero result goes to link._drained."""
    global _exc
    while True:
        try:
            r = int(drain(link))
            break
        except Exception as _exc:
            link._callback_failed(_exc)
    if r:
        link._drained(r)


@micropython.viper
def route(routes, vector: int) -> int:
    """Hand one doorbell to the link it belongs to (env_isr): ``routes`` is
    Port._routes, [array('I') of count and each link's RX vector, then the
    links]. A link's RX vector goes straight to drain() (deliver() written
    out), its other vector to link.isr(). Returns 1, or 0 if no link has
    the vector."""
    global _exc
    ea = ptr32(routes[0])
    n = ea[0]
    i = 1
    while i <= n:
        v = ea[i]
        if (v >> 1) == (vector >> 1):
            link = routes[i]
            if v != vector:
                link.isr(vector)
                return 1
            while True:
                try:
                    r = int(drain(link))
                    break
                except Exception as _exc:
                    link._callback_failed(_exc)
            if r:
                link._drained(r)
            return 1
        i += 1
    return 0


@micropython.viper
def pending(shm, ctx, rx: int) -> int:
    """Entries the peer has handed over on the RX (rx 1) or TX (rx 0) queue
    and we have not taken."""
    c = ptr32(ctx)
    q = _TX
    if rx:
        q = _RX
    if c[q + _Q_DRIVER]:
        ring = c[q + _Q_USED]
    else:
        ring = c[q + _Q_AVAIL]
    return (ptr16(ptr8(shm))[(ring + 2) >> 1] - c[q + _Q_CONS]) & 0xFFFF


