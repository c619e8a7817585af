"""Vring hot paths: every per-message access to the rings and headers.

Written in viper so MicroPython runs them as machine code with no heap
allocation; the CPython shim runs the same functions with emulated ptr
types. Two properties follow from viper and are relied on:
  * a viper function runs no bytecode between its lock acquire and release,
    so MicroPython's scheduler cannot run a soft-IRQ callback (which might
    re-enter the stack on the same thread) while a ring lock is held;
  * nothing here allocates, so steady-state messaging never touches the GC.

Cost shapes the code (measured on a Cortex-M3, see README): a call costs
hundreds of instructions and every ptrN(buffer) a buffer lookup, so all
local state of a link lives in ONE array('I'), ``ctx`` (word indices
below), each function takes the shared region and ctx and casts further
pointers from those, and a copy send is a single call.

The master is the virtio "driver" of both vrings (it fills avail and
consumes used), the remote is the "device" (spec 7.1). Everything read
from shared memory is validated before it is used as an index or address:
a corrupted ring or a hostile peer can make us drop an entry (counted per
kind) but never access memory outside the region.
"""

import micropython
from micropython import const

# ctx words: two queue blocks of Q_WORDS (TX at 0, RX at Q_WORDS), then the
# link's buffer geometry, the header of the last message taken, and the
# byte offsets of the per-buffer ownership and descriptor tables.
Q_DESC = const(0)  # byte offset of the descriptor table in shared memory
Q_AVAIL = const(1)  # byte offset of the avail ring
Q_USED = const(2)  # byte offset of the used ring
Q_MASK = const(3)  # N - 1 (N is a power of two)
Q_CONS = const(4)  # local consumer index: vq_used_cons_idx / vq_available_idx
Q_DRIVER = const(5)  # 1: we fill avail and pop used (master); 0: the reverse
# The index of the ring this side produces into (avail for the driver, used
# for the device) is kept here too and written from here. That field has
# one writer, us, so if shared memory disagrees someone else wrote it: on
# the remote that is the master formatting the rings again (it restarted),
# on the master it can only be corruption, which is repaired.
Q_PROD = const(6)
Q_PROD_STATE = const(7)  # PROD_* below
# Entries dropped, by reason:
Q_BAD_DESC = const(8)  # descriptor index >= N
Q_BAD_ADDR = const(9)  # address outside the buffer area or not at a buffer start
Q_BAD_LEN = const(10)  # descriptor length < 16 or > buffer size (device side)
Q_BAD_HDR = const(11)  # header len larger than the buffer's payload room (given back)
Q_DUP = const(12)  # a buffer this side already holds, handed over again
Q_JUMP = const(13)  # the peer's index ran more than N ahead (nothing taken)
Q_OWN_REPAIRED = const(14)  # the master found its own index overwritten
Q_WORDS = const(16)

TX = const(0)  # word offset of the TX queue block
RX = const(16)  # word offset of the RX queue block (Q_WORDS)
C_BUF_PA = const(32)  # address of buffer 0 as written in descriptors
C_BUF_OFF = const(33)  # byte offset of buffer 0 in shared memory
C_BUF_SIZE = const(34)
C_BUF_AREA = const(35)  # 2N * buffer size
C_SRC = const(36)  # header of the message last taken on RX: src, dst, len
C_DST = const(37)
C_LEN = const(38)
C_STATE = const(39)  # byte offset in ctx of the ownership table (1 byte per buffer)
C_DESCS = const(40)  # byte offset in ctx of the descriptor table (u16 per buffer)
# Payload views (views.py): when C_LENW is not 0, take() sets the length of
# buffer b's view itself, at word C_LENW - 1 of the view object, whose
# address is words C_VIEWS + 2b (low) and + 2b + 1 (high, shifted by
# C_ADDR_SHIFT: 32 on 64-bit hosts, 0 where addresses are 32 bits).
C_VIEWS = const(41)  # word index of the view address table
C_LENW = const(42)
C_ADDR_SHIFT = const(43)
C_WORDS = const(44)

PROD_UNKNOWN = const(0)  # read the producer index from shared memory at the next take
PROD_VALID = const(1)
PROD_FROZEN = const(2)  # a restart was seen: take and give nothing until the link resets

# Ownership of each buffer, from this side's view.
B_PEER = const(0)  # in a ring or in the peer's hands
B_HELD = const(1)  # received, with the application (callback running or RL_HOLD)
B_TX = const(2)  # taken for a send, not yet published

# Results besides a buffer index / notify flag.
EMPTY = const(-1)
BAD = const(-2)  # take: an entry was consumed and dropped; call again
JUMP = const(-3)  # take: the peer's index is corrupt; nothing consumed
RESTART = const(-4)  # take (remote): the master re-formatted the rings; nothing consumed
GONE = const(-5)  # give: a restart was seen; the buffer belongs to the old link
NOT_MINE = const(-6)  # give: the buffer is not in the expected state

_DESC_F_WRITE = const(2)  # every master-written descriptor (spec 2.5)
_USED_F_NO_NOTIFY = const(1)
_HEADER = const(16)


def new_ctx(buffers):
    """A zeroed ctx (an array('I'), so Python reads its words by index) for
    a link with ``buffers`` (2N) buffers: C_WORDS words, then one ownership
    byte and one u16 descriptor index per buffer."""
    from array import array

    state_words = (buffers + 3) >> 2
    desc_words = (2 * buffers + 3) >> 2
    ctx = array("I", [0] * (C_WORDS + state_words + desc_words + 2 * buffers))
    ctx[C_STATE] = 4 * C_WORDS
    ctx[C_DESCS] = 4 * (C_WORDS + state_words)
    ctx[C_VIEWS] = C_WORDS + state_words + desc_words
    return ctx


@micropython.viper
def take(shm, ctx, lock, q: int, mark: int) -> int:
    """Pop the next buffer the peer handed over on queue q (TX or RX).

    Returns the buffer index (0..2N-1) and marks it ``mark``, EMPTY, BAD (an
    invalid entry was dropped: call again), JUMP (corrupt peer index) or,
    on the remote, RESTART (the master formatted the rings again: see
    Q_PROD). For a received message (mark == B_HELD) the header is
    validated and stored in C_SRC/C_DST/C_LEN; a message whose len exceeds
    the buffer is given straight back and reported BAD.
    """
    c8 = ptr8(ctx)
    c = ptr32(c8)
    c16 = ptr16(c8)
    s8 = ptr8(shm)
    s16 = ptr16(s8)
    s32 = ptr32(s8)
    st = c[C_STATE]  # ownership byte of buffer b: c8[st + b]
    ds = c[C_DESCS] >> 1  # descriptor index of buffer b: c16[ds + b]
    mask = c[q + Q_MASK]
    driver = c[q + Q_DRIVER]
    if lock:
        lock.acquire()
    cons = c[q + Q_CONS]
    if driver:
        ring = c[q + Q_USED]
        own = (c[q + Q_AVAIL] + 2) >> 1
    else:
        ring = c[q + Q_AVAIL]
        own = (c[q + Q_USED] + 2) >> 1
    ahead = (s16[(ring + 2) >> 1] - cons) & 0xFFFF
    result = EMPTY
    # Own index check (see Q_PROD). The remote also checks the master's index
    # of the ring it consumes: a driver is never behind its device nor more
    # than N ahead, and a fresh format puts it back to 0.
    known = c[q + Q_PROD_STATE]
    if known == PROD_FROZEN:
        result = RESTART
    elif known == PROD_UNKNOWN:
        c[q + Q_PROD] = s16[own]
        c[q + Q_PROD_STATE] = PROD_VALID
    elif s16[own] != c[q + Q_PROD]:
        if driver:
            c[q + Q_OWN_REPAIRED] += 1
            s16[own] = c[q + Q_PROD]
        else:
            c[q + Q_PROD_STATE] = PROD_FROZEN
            result = RESTART
    if result == RESTART:
        pass
    elif ahead > mask + 1:
        c[q + Q_JUMP] += 1
        if driver:
            result = JUMP
        else:
            c[q + Q_PROD_STATE] = PROD_FROZEN
            result = RESTART
    elif ahead:
        c[q + Q_CONS] = (cons + 1) & 0xFFFF
        slot = cons & mask
        if driver:
            d = s32[(ring + 4 + 8 * slot) >> 2]
        else:
            d = s16[(ring + 4 + 2 * slot) >> 1]
        result = BAD
        why = Q_BAD_DESC
        size = c[C_BUF_SIZE]
        limit = size
        if uint(d) <= uint(mask):
            dsc = c[q + Q_DESC] + 16 * d
            off = uint(s32[dsc >> 2]) - uint(c[C_BUF_PA])
            why = Q_BAD_ADDR
            if off < uint(c[C_BUF_AREA]):
                b = int(off) // size
                if int(off) == b * size:
                    # The device takes the buffer's length from the
                    # descriptor (the driver's own are all buffer-sized).
                    why = Q_BAD_LEN
                    if not driver:
                        length = s32[(dsc + 8) >> 2]
                        if uint(length) < uint(_HEADER) or uint(length) > uint(size):
                            b = -1
                        else:
                            limit = length
                    if b >= 0:
                        why = Q_DUP
                        if c8[st + b] == B_PEER:
                            result = b
        if result >= 0:
            c8[st + result] = mark
            c16[ds + result] = d
            if mark == B_HELD:
                h = c[C_BUF_OFF] + result * size
                c[C_SRC] = s32[h >> 2]
                c[C_DST] = s32[(h + 4) >> 2]
                n = s16[(h + 12) >> 1]
                c[C_LEN] = n
                lenw = c[C_LENW]
                if lenw and n <= limit - _HEADER:
                    v = c[C_VIEWS] + 2 * result
                    ptr32(c[v] | (c[v + 1] << c[C_ADDR_SHIFT]))[lenw - 1] = n
                if n > limit - _HEADER:
                    # Linux's rule too: len <= buffer length - 16. Give the
                    # buffer straight back so the peer does not lose it.
                    c8[st + result] = B_PEER
                    idx = c[q + Q_PROD]
                    if driver:
                        s16[(c[q + Q_AVAIL] + 4 + 2 * (idx & mask)) >> 1] = d
                    else:
                        w = (c[q + Q_USED] + 4 + 8 * (idx & mask)) >> 2
                        s32[w] = d
                        s32[w + 1] = s32[(dsc + 8) >> 2]
                    idx = (idx + 1) & 0xFFFF
                    s16[own] = idx
                    c[q + Q_PROD] = idx
                    result = BAD
                    why = Q_BAD_HDR
        if result == BAD:
            c[q + why] += 1
    if lock:
        lock.release()
    return result


@micropython.viper
def give(shm, ctx, lock, q: int, b: int, expect: int) -> int:
    """Hand buffer b back to the peer on queue q if it is in state
    ``expect``: the driver re-posts it in avail, the device reports it used
    with the descriptor's own length (RPMsg-Lite echoes desc.len, never the
    message length: spec 7.1, pitfall 5). Returns 1 when the peer should be
    notified (used.flags has no NO_NOTIFY, spec 2.6), 0 when not,
    NOT_MINE when b was not in that state, GONE after a master restart
    (the buffer is dropped, the new rings are not touched)."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    s8 = ptr8(shm)
    s16 = ptr16(s8)
    s32 = ptr32(s8)
    st = c[C_STATE]
    if lock:
        lock.acquire()
    driver = c[q + Q_DRIVER]
    if driver:
        own = (c[q + Q_AVAIL] + 2) >> 1
    else:
        own = (c[q + Q_USED] + 2) >> 1
    known = c[q + Q_PROD_STATE]
    moved = 0
    if not driver and known != PROD_UNKNOWN:
        # The checks of take() (see Q_PROD): our own index changed, or the
        # master's avail index left its 0..N window: the master restarted.
        if s16[own] != c[q + Q_PROD]:
            moved = 1
        elif ((s16[(c[q + Q_AVAIL] + 2) >> 1] - c[q + Q_CONS]) & 0xFFFF) > c[q + Q_MASK] + 1:
            moved = 1
    if c8[st + b] != expect:
        r = NOT_MINE
    elif known == PROD_FROZEN or moved:
        c[q + Q_PROD_STATE] = PROD_FROZEN
        c8[st + b] = B_PEER
        r = GONE
    else:
        if known == PROD_UNKNOWN:
            c[q + Q_PROD] = s16[own]
            c[q + Q_PROD_STATE] = PROD_VALID
        c8[st + b] = B_PEER
        d = ptr16(c8)[(c[C_DESCS] >> 1) + b]
        idx = c[q + Q_PROD]
        mask = c[q + Q_MASK]
        if driver:
            # avail.ring[idx % N] = d, then idx += 1: slot before index
            # (spec 7.1 write order).
            s16[(c[q + Q_AVAIL] + 4 + 2 * (idx & mask)) >> 1] = d
        else:
            w = (c[q + Q_USED] + 4 + 8 * (idx & mask)) >> 2
            s32[w] = d
            s32[w + 1] = s32[(c[q + Q_DESC] + 16 * d + 8) >> 2]
        idx = (idx + 1) & 0xFFFF
        s16[own] = idx
        c[q + Q_PROD] = idx
        r = 1
        if s16[c[q + Q_USED] >> 1] & _USED_F_NO_NOTIFY:
            r = 0
    if lock:
        lock.release()
    return r


@micropython.viper
def send(shm, ctx, lock, src: int, dst: int, data, n: int) -> int:
    """A copy send in one call from Python: take a TX buffer, copy the
    payload, publish it. Returns give()'s result, or EMPTY / JUMP / RESTART
    when no buffer could be taken."""
    b = int(take(shm, ctx, lock, TX, B_TX))
    while b == BAD:
        b = int(take(shm, ctx, lock, TX, B_TX))
    if b < 0:
        return b
    # memcpy into the payload: words when the source is word aligned (the
    # destination always is), bytes otherwise (Cortex-M0+ faults on
    # unaligned word access).
    c = ptr32(ctx)
    s8 = ptr8(shm)
    h = c[C_BUF_OFF] + b * c[C_BUF_SIZE] + _HEADER
    d8 = ptr8(data)
    i = 0
    if (int(d8) & 3) == 0:
        s32 = ptr32(s8)
        d32 = ptr32(d8)
        w = h >> 2
        words = n >> 2
        while i < words:
            s32[w + i] = d32[i]
            i += 1
        i = words << 2
    while i < n:
        s8[h + i] = d8[i]
        i += 1
    return int(publish(shm, ctx, lock, b, src, dst, n))


@micropython.viper
def publish(shm, ctx, lock, b: int, src: int, dst: int, n: int) -> int:
    """Send buffer b (in state B_TX): the header (src, dst, len, flags 0;
    reserved is left as it is, as RPMsg-Lite's send does: spec 3, pitfall
    6), then give()."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if c8[c[C_STATE] + b] != B_TX:
        return NOT_MINE
    s8 = ptr8(shm)
    h = c[C_BUF_OFF] + b * c[C_BUF_SIZE]
    s32 = ptr32(s8)
    s32[h >> 2] = src
    s32[(h + 4) >> 2] = dst
    s16 = ptr16(s8)
    s16[(h + 12) >> 1] = n
    s16[(h + 14) >> 1] = 0
    return int(give(shm, ctx, lock, TX, b, B_TX))


@micropython.viper
def stamp(shm, ctx, lock, b: int, expect: int) -> int:
    """Write buffer b's descriptor index into its header's reserved.idx
    (bytes 10-11) while b is in state ``expect``, as RPMsg-Lite does on
    RL_HOLD and in alloc_tx_buffer (spec 3). Under the lock, so a buffer
    another thread already released is never written."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if lock:
        lock.acquire()
    r = 0
    if c8[c[C_STATE] + b] == expect:
        ptr16(ptr8(shm))[(c[C_BUF_OFF] + b * c[C_BUF_SIZE] + 10) >> 1] = ptr16(c8)[(c[C_DESCS] >> 1) + b]
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
        d32 = ptr32(d8)
        s32 = ptr32(s8)
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
def payload_buffer(shm, ctx, view) -> int:
    """Buffer index of a payload view of this region, or -1 if ``view`` does
    not start at the payload of one of its buffers."""
    c = ptr32(ctx)
    off = int(ptr8(view)) - int(ptr8(shm)) - c[C_BUF_OFF] - _HEADER
    if off < 0 or off >= c[C_BUF_AREA]:
        return -1
    size = c[C_BUF_SIZE]
    b = off // size
    if off != b * size:
        return -1
    return b


@micropython.viper
def owner(ctx, b: int) -> int:
    """The ownership state of buffer b (B_*)."""
    c8 = ptr8(ctx)
    return c8[ptr32(c8)[C_STATE] + b]


@micropython.viper
def pending(shm, ctx, q: int) -> int:
    """Entries the peer has handed over on queue q and we have not taken."""
    c = ptr32(ctx)
    if c[q + Q_DRIVER]:
        ring = c[q + Q_USED]
    else:
        ring = c[q + Q_AVAIL]
    return (ptr16(ptr8(shm))[(ring + 2) >> 1] - c[q + Q_CONS]) & 0xFFFF


@micropython.viper
def must_notify(shm, ctx, q: int) -> int:
    """virtqueue_kick's test: notify unless used.flags has NO_NOTIFY."""
    if ptr16(ptr8(shm))[ptr32(ctx)[q + Q_USED] >> 1] & _USED_F_NO_NOTIFY:
        return 0
    return 1
