# Vring hot paths: every access to the rings and message headers.
#
# Written in viper so MicroPython runs them as machine code with no heap
# allocation; the CPython shim runs the same functions with emulated ptr
# types. Two properties follow from viper and are relied on:
#   * a viper function runs no bytecode between its lock acquire and release,
#     so MicroPython's scheduler cannot run a soft-IRQ callback (which might
#     re-enter the stack on the same thread) while a ring lock is held;
#   * nothing here allocates, so steady-state messaging never touches the GC.
#
# Local state of one virtqueue lives in an array('I') ``q`` (word indices
# Q_*). The master is the virtio "driver" of both vrings (it fills avail and
# consumes used), the remote is the "device" (spec 7.1).
#
# Everything read from shared memory is validated before it is used as an
# index or address: a corrupted ring or a hostile peer can make us drop an
# entry (counted per kind in Q_BAD_* / Q_DUP / Q_JUMP) but never access
# memory outside the region.

import micropython
from micropython import const

# Words of a virtqueue state array.
Q_DESC = const(0)  # byte offset of the descriptor table
Q_AVAIL = const(1)  # byte offset of the avail ring
Q_USED = const(2)  # byte offset of the used ring
Q_MASK = const(3)  # N - 1 (N is a power of two)
Q_CONS = const(4)  # local consumer index: vq_used_cons_idx / vq_available_idx
Q_DRIVER = const(5)  # 1: we fill avail and pop used (master); 0: the reverse
Q_BUF_PA = const(6)  # address of buffer 0 as written in descriptors
Q_BUF_OFF = const(7)  # byte offset of buffer 0 in shared memory
Q_BUF_SIZE = const(8)
Q_BUF_AREA = const(9)  # 2N * buffer size
# Entries dropped, by reason:
Q_BAD_DESC = const(10)  # descriptor index >= N
Q_BAD_ADDR = const(11)  # address outside the buffer area or not at a buffer start
Q_BAD_LEN = const(12)  # descriptor length < 16 or > buffer size (device side)
Q_BAD_HDR = const(13)  # header len larger than the buffer's payload room (given back)
Q_DUP = const(14)  # a buffer this side already holds, handed over again
Q_JUMP = const(15)  # times the peer's ring index ran more than N ahead (nothing taken)
# The index of the ring this side produces into (avail for the driver, used
# for the device) is kept here too and written from here. That field has
# one writer, us, so if shared memory disagrees someone else wrote it: on
# the remote that is the master formatting the rings again (it restarted),
# on the master it can only be corruption, which is repaired.
Q_PROD = const(16)  # our producer index (free running, 16 bits)
Q_PROD_STATE = const(17)  # PROD_* below
Q_OWN_REPAIRED = const(18)  # times the master found its own index overwritten
Q_WORDS = const(19)

PROD_UNKNOWN = const(0)  # read the producer index from shared memory at the next take
PROD_VALID = const(1)
PROD_FROZEN = const(2)  # a restart was seen: take nothing until the master's init kick


# Ownership of each buffer, one byte per buffer, from this side's view.
B_PEER = const(0)  # in a ring or in the peer's hands
B_HELD = const(1)  # received, with the application (callback running or RL_HOLD)
B_TX = const(2)  # taken for a send, not yet published

# take() results besides a buffer index.
EMPTY = const(-1)
BAD = const(-2)  # an entry was consumed and dropped; call again
JUMP = const(-3)  # the peer's index is corrupt; nothing consumed
RESTART = const(-4)  # remote: the master re-formatted the rings; nothing consumed

_NEXT_END = const(0x8000)  # VQ_RING_DESC_CHAIN_END (spec 2.9)
_DESC_F_WRITE = const(2)  # every master-written descriptor (spec 2.5)
_AVAIL_F_NO_INTERRUPT = const(1)
_USED_F_NO_NOTIFY = const(1)
_HEADER = const(16)


@micropython.viper
def zero(shm, off: int, n: int):
    """Zero n bytes at off (off and n word aligned)."""
    p = ptr32(shm)
    i = off >> 2
    end = (off + n) >> 2
    while i < end:
        p[i] = 0
        i += 1


@micropython.viper
def format_vring(shm, desc: int, avail: int, count: int, fill: int):
    """Zero one vring and chain its descriptors, as rpmsg_lite_master_init
    does before filling buffers (spec 2.9 steps 1-3)."""
    p8 = ptr8(shm)
    i = 0
    while i < fill:
        p8[desc + i] = 0
        i += 1
    p16 = ptr16(shm)
    i = 0
    while i < count - 1:
        p16[(desc + 16 * i + 14) >> 1] = i + 1
        i += 1
    p16[(desc + 16 * (count - 1) + 14) >> 1] = _NEXT_END
    p16[avail >> 1] = _AVAIL_F_NO_INTERRUPT


@micropython.viper
def write_desc(shm, desc: int, i: int, addr: int, length: int):
    """desc[i] = {addr (high word 0), len, flags=WRITE}; next is kept."""
    p32 = ptr32(shm)
    w = (desc + 16 * i) >> 2
    p32[w] = addr
    p32[w + 1] = 0
    p32[w + 2] = length
    ptr16(shm)[(desc + 16 * i + 12) >> 1] = _DESC_F_WRITE


@micropython.viper
def push_avail(shm, q, d: int):
    """Driver side: avail.ring[avail.idx % N] = d, then avail.idx += 1.
    The slot is written before the index (spec 7.1 write order)."""
    s = ptr16(shm)
    qp = ptr32(q)
    a = qp[Q_AVAIL]
    idx = qp[Q_PROD]
    s[(a + 4 + 2 * (idx & qp[Q_MASK])) >> 1] = d
    idx = (idx + 1) & 0xFFFF
    s[(a + 2) >> 1] = idx
    qp[Q_PROD] = idx


@micropython.viper
def push_used(shm, q, d: int, length: int):
    """Device side: used.ring[used.idx % N] = {d, length}, then used.idx += 1."""
    s32 = ptr32(shm)
    qp = ptr32(q)
    u = qp[Q_USED]
    idx = qp[Q_PROD]
    w = (u + 4 + 8 * (idx & qp[Q_MASK])) >> 2
    s32[w] = d
    s32[w + 1] = length
    idx = (idx + 1) & 0xFFFF
    ptr16(shm)[(u + 2) >> 1] = idx
    qp[Q_PROD] = idx


@micropython.viper
def fill_used(shm, used: int, count: int, length: int):
    """The master's format of vring 1's used ring: every TX buffer reported
    used, {i, length} in slot i, used.idx = count (spec 2.9)."""
    s32 = ptr32(shm)
    i = 0
    while i < count:
        s32[(used + 4 + 8 * i) >> 2] = i
        s32[(used + 8 + 8 * i) >> 2] = length
        i += 1
    ptr16(shm)[(used + 2) >> 1] = count


@micropython.viper
def _give(shm, q, d: int):
    # Return descriptor d to the peer: the driver re-posts it in avail, the
    # device reports it used with the descriptor's own length (RPMsg-Lite
    # echoes desc.len, never the message length: spec 7.1, pitfall 5).
    qp = ptr32(q)
    if qp[Q_DRIVER]:
        push_avail(shm, q, d)
    else:
        push_used(shm, q, d, ptr32(shm)[(qp[Q_DESC] + 16 * d + 8) >> 2])


@micropython.viper
def _own_index_ok(shm, q) -> int:
    """Check the rings before using them. 1: go ahead; 0: a master restart
    was seen (remote side only): the queue is frozen until the link resets.

    The index of the ring we produce into must equal our copy (Q_PROD). On
    the remote a change means the master formatted the rings again; on the
    master it can only be corruption, counted and overwritten with our
    value. The remote also checks the master's index of the ring it
    consumes: a driver is never behind its device nor more than N ahead, so
    an index outside that window (a fresh format puts it back to 0) is
    the same sign."""
    qp = ptr32(q)
    s16 = ptr16(shm)
    if qp[Q_DRIVER]:
        own = (qp[Q_AVAIL] + 2) >> 1
    else:
        own = (qp[Q_USED] + 2) >> 1
        if ((s16[(qp[Q_AVAIL] + 2) >> 1] - qp[Q_CONS]) & 0xFFFF) > qp[Q_MASK] + 1:
            qp[Q_JUMP] += 1
            qp[Q_PROD_STATE] = PROD_FROZEN
            return 0
    known = qp[Q_PROD_STATE]
    if known == PROD_UNKNOWN:
        qp[Q_PROD] = s16[own]
        qp[Q_PROD_STATE] = PROD_VALID
        return 1
    if known == PROD_FROZEN:
        return 0
    if s16[own] != qp[Q_PROD]:
        if qp[Q_DRIVER]:
            qp[Q_OWN_REPAIRED] += 1
            s16[own] = qp[Q_PROD]
            return 1
        qp[Q_PROD_STATE] = PROD_FROZEN
        return 0
    return 1


@micropython.viper
def take(shm, q, state, descs, lock, mark: int, out) -> int:
    """Pop the next buffer the peer handed over on this virtqueue.

    Returns the buffer index (0..2N-1) and marks it ``mark``, EMPTY, BAD (an
    invalid entry was dropped, try again) or JUMP (corrupt peer index). For a
    received message (mark == B_HELD) the header is validated and out[0..2]
    receive src, dst and len; a message whose len exceeds the buffer is
    returned to the peer at once and reported BAD.
    """
    qp = ptr32(q)
    s16 = ptr16(shm)
    s32 = ptr32(shm)
    st = ptr8(state)
    ds = ptr16(descs)
    o = ptr32(out)
    mask = qp[Q_MASK]
    if lock:
        lock.acquire()
    cons = qp[Q_CONS]
    if qp[Q_DRIVER]:
        ring = qp[Q_USED]
    else:
        ring = qp[Q_AVAIL]
    result = EMPTY
    ahead = (s16[(ring + 2) >> 1] - cons) & 0xFFFF
    if not _own_index_ok(shm, q):
        result = RESTART
    elif ahead == 0:
        pass
    elif ahead > mask + 1:
        qp[Q_JUMP] += 1
        result = JUMP
    else:
        qp[Q_CONS] = (cons + 1) & 0xFFFF
        slot = cons & mask
        if qp[Q_DRIVER]:
            d = s32[(ring + 4 + 8 * slot) >> 2]
        else:
            d = s16[(ring + 4 + 2 * slot) >> 1]
        result = BAD
        why = Q_BAD_DESC
        limit = qp[Q_BUF_SIZE]
        if uint(d) <= uint(mask):
            dsc = qp[Q_DESC] + 16 * d
            off = uint(s32[dsc >> 2]) - uint(qp[Q_BUF_PA])
            why = Q_BAD_ADDR
            if off < uint(qp[Q_BUF_AREA]):
                b = int(off) // limit
                if int(off) == b * limit:
                    # The device takes the buffer's length from the
                    # descriptor (the driver's own are all buffer-sized).
                    why = Q_BAD_LEN
                    if not qp[Q_DRIVER]:
                        length = s32[(dsc + 8) >> 2]
                        if uint(length) < uint(_HEADER) or uint(length) > uint(limit):
                            b = -1
                        else:
                            limit = length
                    if b >= 0:
                        why = Q_DUP
                        if st[b] == B_PEER:
                            result = b
        if result >= 0:
            st[result] = mark
            ds[result] = d
            if mark == B_HELD:
                h = qp[Q_BUF_OFF] + result * qp[Q_BUF_SIZE]
                o[0] = s32[h >> 2]
                o[1] = s32[(h + 4) >> 2]
                n = s16[(h + 12) >> 1]
                o[2] = n
                if n > limit - _HEADER:
                    # Linux's rule too: len <= buffer length - 16. Give the
                    # buffer straight back so the peer does not lose it.
                    st[result] = B_PEER
                    _give(shm, q, d)
                    result = BAD
                    why = Q_BAD_HDR
        if result == BAD:
            qp[why] += 1
    if lock:
        lock.release()
    return result


@micropython.viper
def give(shm, q, state, descs, lock, b: int, expect: int) -> int:
    """Hand buffer b back to the peer if it is in state ``expect``.
    Returns 1 when the peer should be notified (used.flags has no
    NO_NOTIFY, spec 2.6), 0 when not, -1 when b was not in that state, and
    -2 when a master restart was seen: the buffer belongs to the previous
    generation and is dropped, the new rings are not touched."""
    st = ptr8(state)
    qp = ptr32(q)
    if lock:
        lock.acquire()
    if st[b] != expect:
        r = -1
    elif not _own_index_ok(shm, q):
        st[b] = B_PEER
        r = -2
    else:
        st[b] = B_PEER
        _give(shm, q, ptr16(descs)[b])
        r = 1
        if ptr16(shm)[qp[Q_USED] >> 1] & _USED_F_NO_NOTIFY:
            r = 0
    if lock:
        lock.release()
    return r


@micropython.viper
def stamp(shm, q, state, descs, lock, b: int, expect: int) -> int:
    """Write the descriptor index into the header's reserved.idx (bytes
    10-11) while buffer b is in state ``expect``, as RPMsg-Lite does on
    RL_HOLD and in alloc_tx_buffer (spec 3). Under the lock, so a buffer
    another thread already released is never written."""
    st = ptr8(state)
    if lock:
        lock.acquire()
    r = 0
    if st[b] == expect:
        qp = ptr32(q)
        ptr16(shm)[(qp[Q_BUF_OFF] + b * qp[Q_BUF_SIZE] + 10) >> 1] = ptr16(descs)[b]
        r = 1
    if lock:
        lock.release()
    return r


@micropython.viper
def copy(dst, doff: int, src, soff: int, n: int):
    """memcpy for buffers: words when both ends are word aligned (Cortex-M0+
    faults on unaligned word access), bytes otherwise and for the tail."""
    d8 = ptr8(dst)
    s8 = ptr8(src)
    i = 0
    if ((int(d8) | doff | int(s8) | soff) & 3) == 0:
        d32 = ptr32(dst)
        s32 = ptr32(src)
        dw = doff >> 2
        sw = soff >> 2
        words = n >> 2
        while i < words:
            d32[dw + i] = s32[sw + i]
            i += 1
        i = words << 2
    while i < n:
        d8[doff + i] = s8[soff + i]
        i += 1


@micropython.viper
def write_header(shm, h: int, src: int, dst: int, n: int):
    """Fill src, dst, len and flags=0. reserved (bytes 8-11) is left as it
    is: RPMsg-Lite's send does not clear it either (spec 3, pitfall 6)."""
    s32 = ptr32(shm)
    s32[h >> 2] = src
    s32[(h + 4) >> 2] = dst
    s16 = ptr16(shm)
    s16[(h + 12) >> 1] = n
    s16[(h + 14) >> 1] = 0


@micropython.viper
def payload_buffer(shm, q, view) -> int:
    """Buffer index of a payload view of this region, or -1 if ``view`` does
    not start at the payload of one of its buffers."""
    qp = ptr32(q)
    off = int(ptr8(view)) - int(ptr8(shm)) - qp[Q_BUF_OFF] - _HEADER
    if off < 0 or off >= qp[Q_BUF_AREA]:
        return -1
    size = qp[Q_BUF_SIZE]
    b = off // size
    if off != b * size:
        return -1
    return b


@micropython.viper
def pending(shm, q) -> int:
    """Entries the peer has handed over and we have not taken yet."""
    qp = ptr32(q)
    if qp[Q_DRIVER]:
        ring = qp[Q_USED]
    else:
        ring = qp[Q_AVAIL]
    return (ptr16(shm)[(ring + 2) >> 1] - qp[Q_CONS]) & 0xFFFF


@micropython.viper
def must_notify(shm, q) -> int:
    """virtqueue_kick's test: notify unless used.flags has NO_NOTIFY."""
    if ptr16(shm)[ptr32(q)[Q_USED] >> 1] & _USED_F_NO_NOTIFY:
        return 0
    return 1


@micropython.viper
def read16(shm, off: int) -> int:
    return ptr16(shm)[off >> 1]


@micropython.viper
def read32(shm, off: int) -> uint:
    return uint(ptr32(shm)[off >> 2])
