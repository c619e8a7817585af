"""Ring operations off the copy-send and callback path, loaded on first use.

A link that sends by copy and receives in callbacks needs only vring.py.
This module has the rest of what works on a link's ``ctx`` (whose layout
vring.py defines; the block below repeats it, checked by the tests): the
ctx of a new link, restart and stats bookkeeping (plain Python: it runs
rarely and bytecode is a fraction of the size of native code), and the
viper paths of zero-copy sends (``alloc``, ``publish``, ``put``, ``ring``), of giving back a
buffer a callback held (``release``, ``abandon``) and ``copy`` (Queue).
"""

import micropython
from micropython import const

from .vring import _take

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

# Objects viper code compares arguments with (as in vring.py).
_HIGH = ~0x3FFFFFFF  # x & _HIGH == 0: an int 0 .. 2**30 - 1
_HIGH16 = ~0xFFFF


# -- ctx: made and changed by the link's slow paths ----------------------------


def new_ctx(layout, master, payload, view_addrs, len_word):
    """The ctx of a link on ``layout``: queue geometry (TX is vring 1 on the
    master, vring 0 on the remote), buffer geometry, ownership and
    descriptor tables, and the payload views (``view_addrs``: the address
    of each buffer's view, or None when views are sliced instead;
    ``len_word``: index of the length word in a view object)."""
    from array import array
    import sys

    buffers = layout.buffer_total
    state_words = (buffers + 3) >> 2
    desc_words = (2 * buffers + 3) >> 2
    ctx = array("I", [0] * (_C_WORDS + state_words + desc_words + 2 * buffers))
    ctx[_C_STATE] = _C_WORDS
    ctx[_C_DESCS] = _C_WORDS + state_words
    ctx[_C_VIEWS] = views = _C_WORDS + state_words + desc_words
    for q, v in ((_TX, 1 if master else 0), (_RX, 0 if master else 1)):
        geo = layout.vrings[v]
        ctx[q + _Q_DESC] = geo.desc
        ctx[q + _Q_AVAIL] = geo.avail
        ctx[q + _Q_USED] = geo.used
        ctx[q + _Q_MASK] = layout.count - 1
        ctx[q + _Q_DRIVER] = 1 if master else 0
    ctx[_C_BUF_PA] = (layout.pa_base + layout.buffers) & 0xFFFFFFFF
    ctx[_C_BUF_OFF] = layout.buffers
    ctx[_C_BUF_SIZE] = layout.buffer_size
    ctx[_C_BUF_AREA] = buffers * layout.buffer_size
    ctx[_C_PAYLOAD] = payload
    if view_addrs is not None:
        for k in range(buffers):
            a = view_addrs[k]
            ctx[views + 2 * k] = a & 0xFFFFFFFF
            ctx[views + 2 * k + 1] = (a >> 32) & 0xFFFFFFFF
        ctx[_C_ADDR_SHIFT] = 32 if sys.maxsize > 0xFFFFFFFF else 0
        ctx[_C_LENW] = len_word + 1
    return ctx


def formatted(ctx, count):
    """The master just wrote the init image: vring 0's avail ring holds the
    remote's N buffers, vring 1's used ring the master's own."""
    ctx[_RX + _Q_PROD] = count
    ctx[_TX + _Q_PROD_STATE] = ctx[_RX + _Q_PROD_STATE] = _PROD_VALID


def options(ctx, freed, suppress, until_rest):
    """freed: drain() reports buffers given back (for consumed-buffer kicks);
    suppress: NO_NOTIFY doorbell suppression on the RX ring, kept between
    drains until rest() when until_rest."""
    ctx[_C_FREED] = 1 if freed else 0
    ctx[_C_SUPPRESS] = (2 if until_rest else 1) if suppress else 0


def doorbell(ctx, vector, fifo, locked, shm):
    """What send() and publish() ring themselves: ``vector`` into the
    port's FIFO mailbox (``fifo``, an array, see port.py) or through its
    notify, and whether the link has a lock to take. Where views are
    resized in place, the addresses of ``shm`` and of the FIFO go in ctx
    (the FIFO is used only so: returns True then)."""
    door = vector | (_DOOR_LOCKED if locked else 0)
    if fifo is not None and ctx[_C_LENW]:
        door |= _DOOR_FIFO
    ctx[_C_DOOR] = door
    if ctx[_C_LENW]:
        import uctypes

        shift = ctx[_C_ADDR_SHIFT]
        for w, obj in ((_C_SHM, shm), (_C_BELL, fifo)):
            if obj is not None:
                a = uctypes.addressof(obj)
                ctx[w] = a & 0xFFFFFFFF
                ctx[w + 1] = (a >> shift) & 0xFFFFFFFF if shift else 0
    return (door & _DOOR_FIFO) != 0


def unsized(ctx):
    """Views stop being resized (the link is going away)."""
    ctx[_C_LENW] = 0


def ring_fields(ctx, rx):
    """(avail, used) byte offsets of the RX (rx True) or TX ring."""
    q = _RX if rx else _TX
    return ctx[q + _Q_AVAIL], ctx[q + _Q_USED]


def set_consumer(ctx, rx, cons):
    ctx[(_RX if rx else _TX) + _Q_CONS] = cons


def fresh_image(shm, ctx):
    """(Remote) the indices a fresh format leaves: vring 1 used.idx = N,
    vring 0 used.idx = 0 and avail.idx = N (see link.py, master restart)."""
    n = ctx[_TX + _Q_MASK] + 1
    u = ctx[_RX + _Q_USED] + 2
    t = ctx[_TX + _Q_USED] + 2
    a = ctx[_TX + _Q_AVAIL] + 2
    return shm[u] | shm[u + 1] << 8 == n and shm[t] | shm[t + 1] == 0 and shm[a] | shm[a + 1] << 8 == n


def freeze(ctx):
    """A master restart was seen: take and give nothing until reset()."""
    ctx[_TX + _Q_PROD_STATE] = ctx[_RX + _Q_PROD_STATE] = _PROD_FROZEN


def fresh(ctx):
    """Nothing consumed and every buffer with the peer (a new generation)."""
    if ctx[_TX + _Q_CONS] or ctx[_RX + _Q_CONS]:
        return False
    for w in range(ctx[_C_STATE], ctx[_C_DESCS]):
        if ctx[w]:
            return False
    return True


def reset(ctx):
    """Start a new generation: zero local indices, re-read producer indices,
    every buffer back with the peer."""
    for q in (_TX, _RX):
        ctx[q + _Q_CONS] = 0
        ctx[q + _Q_PROD_STATE] = _PROD_UNKNOWN
    for w in range(ctx[_C_STATE], ctx[_C_DESCS]):
        ctx[w] = 0


# Counter names, in the order counters() returns them.
COUNTERS = ("bad_desc", "bad_addr", "bad_len", "bad_header", "duplicate", "index_jumps", "own_index_repaired", "messages", "doorbells")


def counters(ctx, rx):
    """The per-queue counters named in COUNTERS, RX (rx True) or TX."""
    q = _RX if rx else _TX
    return [ctx[q + w] for w in range(_Q_BAD_DESC, _Q_WORDS)]


def unknown_dst(ctx):
    return ctx[_C_UNKNOWN]


# -- zero-copy sends, held buffers -----------------------------------------------


@micropython.viper
def abandon(ctx) -> int:
    """After a callback raised out of drain(): the buffer it was given
    (still held, to be released by the caller), or -1."""
    c = ptr32(ctx)
    b = c[_C_CUR] - 1
    c[_C_CUR] = 0
    return b


@micropython.viper
def release(shm, ctx, lock, view, b: int) -> int:
    """Give received buffer b back to the peer (b < 0: the buffer whose
    payload ``view`` is). Returns 1, or _NOT_MINE (not held: released twice
    or never received), _GONE (a master restart was seen: the buffer belongs
    to the old link and is dropped)."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if b < 0:
        off = int(ptr8(view)) - int(ptr8(shm)) - c[_C_BUF_OFF] - _HEADER
        if off < 0 or off >= c[_C_BUF_AREA]:
            return _NOT_MINE
        b = off // c[_C_BUF_SIZE]
        if off != b * c[_C_BUF_SIZE]:
            return _NOT_MINE
    return int(_give(shm, ctx, lock, _RX, b, _B_HELD))


@micropython.viper
def publish(link, ept, dst, view, size) -> int:
    """link.send_nocopy(ept, dst, view, size) in one call when the
    arguments are the usual ones (as send()): put() then ring the peer.
    Returns 0 once sent, else non-zero with nothing changed (check the
    arguments, then use put()); raises link._restarted() for _GONE."""
    try:
        if ept.link is not link:
            return _SLOW
        if dst & _HIGH:
            return _SLOW
        if size & _HIGH16:
            return _SLOW
    except Exception:
        return _SLOW
    n = int(size)
    ctx = link._ctx
    if n > ptr32(ctx)[_C_PAYLOAD]:
        return _SLOW
    if ptr32(ctx)[_C_DOOR] & _DOOR_LOCKED:
        r = int(put(link._shm, ctx, link._lock, view, ept.addr, dst, n))
    else:  # (link._lock is then the class default None: not looked up)
        r = int(put(link._shm, ctx, None, view, ept.addr, dst, n))
    if r == 1:
        ring(link)
    elif r == _GONE:
        raise link._restarted()
    elif r < 0:
        return r  # _NOT_MINE: nothing changed, the slow path's put() says so again
    return 0


@micropython.viper
def ring(link):
    """Ring the peer with the link's TX vector: into the port's FIFO
    mailbox (port.py "doorbell_fifo"), or through its notify."""
    c = ptr32(link._ctx)
    door = c[_C_DOOR]
    if door & _DOOR_FIFO:
        m = ptr32(c[_C_BELL] | (c[_C_BELL + 1] << c[_C_ADDR_SHIFT]))
        k = m[_M_COUNT]
        if k > m[_M_MASK]:
            m[_M_LOST] += 1
        else:
            m[_M_FIFO + ((m[_M_HEAD] + k) & m[_M_MASK])] = door & _DOOR_VECTOR
            m[_M_COUNT] = k + 1
    else:
        link._bell(door & _DOOR_VECTOR)


@micropython.viper
def put(shm, ctx, lock, view, src: int, dst: int, n: int) -> int:
    """Send the buffer whose payload ``view`` is (from alloc()), n bytes:
    header (src, dst, len, flags 0), then publish. Returns 1 (ring the
    peer), 0, _NOT_MINE (not a TX buffer taken by alloc) or _GONE."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    off = int(ptr8(view)) - int(ptr8(shm)) - c[_C_BUF_OFF] - _HEADER
    if off < 0 or off >= c[_C_BUF_AREA]:
        return _NOT_MINE
    size = c[_C_BUF_SIZE]
    b = off // size
    if off != b * size or c8[(c[_C_STATE] << 2) + b] != _B_TX:
        return _NOT_MINE
    s8 = ptr8(shm)
    h = c[_C_BUF_OFF] + b * size
    s32 = ptr32(s8)
    s32[h >> 2] = src
    s32[(h + 4) >> 2] = dst
    s16 = ptr16(s8)
    s16[(h + 12) >> 1] = n
    s16[(h + 14) >> 1] = 0
    return int(_give(shm, ctx, lock, _TX, b, _B_TX))


def queue_abi(ctx):
    """What queue.py's viper code needs of the private ctx layout: the word
    indices drain() fills for the callback it runs (buffer + 1, length,
    src), _give's RX queue id and held state (queue.py gives a queued
    buffer back with _give itself: one call less per message), and 1 when
    payload views are sliced rather than resized (views.py)."""
    return _C_CUR, _C_LEN, _C_SRC, _RX, _B_HELD, 0 if ctx[_C_LENW] else 1


@micropython.viper
def _give(shm, ctx, lock, q: int, b: int, expect: int) -> int:
    # Hand buffer b back to the peer on queue q if it is in state ``expect``:
    # the driver re-posts it in avail, the device reports it used with the
    # descriptor's own length (virtqueue.c virtqueue_add_consumed_buffer
    # echoes desc.len, never the message length). Returns 1 when the peer
    # should be notified (virtqueue_kick), 0 when not, _NOT_MINE, _GONE.
    c8 = ptr8(ctx)
    c = ptr32(c8)
    s8 = ptr8(shm)
    s16 = ptr16(s8)
    s32 = ptr32(s8)
    st = c[_C_STATE] << 2
    if lock:
        lock.acquire()
    driver = c[q + _Q_DRIVER]
    if driver:
        own = (c[q + _Q_AVAIL] + 2) >> 1
    else:
        own = (c[q + _Q_USED] + 2) >> 1
    known = c[q + _Q_PROD_STATE]
    moved = 0
    if not driver and known != _PROD_UNKNOWN:
        # The checks of take (see _Q_PROD): our own index changed, or the
        # master's avail index left its 0..N window: the master restarted.
        if s16[own] != c[q + _Q_PROD]:
            moved = 1
        elif ((s16[(c[q + _Q_AVAIL] + 2) >> 1] - c[q + _Q_CONS]) & 0xFFFF) > c[q + _Q_MASK] + 1:
            moved = 1
    if c8[st + b] != expect:
        r = _NOT_MINE
    elif known == _PROD_FROZEN or moved:
        c[q + _Q_PROD_STATE] = _PROD_FROZEN
        c8[st + b] = _B_PEER
        r = _GONE
    else:
        if known == _PROD_UNKNOWN:
            c[q + _Q_PROD] = s16[own]
            c[q + _Q_PROD_STATE] = _PROD_VALID
        c8[st + b] = _B_PEER
        d = ptr16(c8)[(c[_C_DESCS] << 1) + b]
        idx = c[q + _Q_PROD]
        mask = c[q + _Q_MASK]
        if driver:
            s16[(c[q + _Q_AVAIL] + 4 + 2 * (idx & mask)) >> 1] = d
        else:
            w = (c[q + _Q_USED] + 4 + 8 * (idx & mask)) >> 2
            s32[w] = d
            s32[w + 1] = s32[(c[q + _Q_DESC] + 16 * d + 8) >> 2]
        idx = (idx + 1) & 0xFFFF
        s16[own] = idx
        c[q + _Q_PROD] = idx
        r = 1
        if q == _TX:
            c[_TX + _Q_MSGS] += 1
    if lock:
        lock.release()  # a full barrier before reading used.flags (see send)
    if r == 1:
        if s16[c[q + _Q_USED] >> 1] & _USED_F_NO_NOTIFY:
            r = 0
        elif q == _TX:
            c[_TX + _Q_BELLS] += 1
    return r


@micropython.viper
def alloc(shm, ctx, lock) -> int:
    """Take a free TX buffer for a zero-copy send (rpmsg_lite.c
    rpmsg_lite_alloc_tx_buffer, which also writes the descriptor index into
    the header's reserved field) and set its payload view's length to
    payload_size. Returns the buffer index, or _EMPTY, _JUMP, _RESTART,
    _DOWN."""
    c8 = ptr8(ctx)
    c = ptr32(c8)
    if c[_C_UP] == 0:
        return _DOWN
    if lock:
        lock.acquire()
    b = _BAD
    while b == _BAD:
        b = int(_take(shm, ctx, _TX))
    if b >= 0:
        c8[(c[_C_STATE] << 2) + b] = _B_TX
        d = ptr16(c8)[(c[_C_DESCS] << 1) + b]
        ptr16(ptr8(shm))[(c[_C_BUF_OFF] + b * c[_C_BUF_SIZE] + 10) >> 1] = d
        lenw = c[_C_LENW]
        if lenw:
            # Its view, payload_size long again (views.py).
            v = c[_C_VIEWS] + 2 * b
            ptr32(c[v] | (c[v + 1] << c[_C_ADDR_SHIFT]))[lenw - 1] = c[_C_PAYLOAD]
    if lock:
        lock.release()
    return b


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


# -- diagnostics -------------------------------------------------------------------


def payload_buffer(shm, ctx, view):
    """Buffer index of a payload view of this region, or -1 (diagnostics)."""
    import uctypes

    off = uctypes.addressof(view) - uctypes.addressof(shm) - ctx[_C_BUF_OFF] - _HEADER
    if off < 0 or off >= ctx[_C_BUF_AREA] or off % ctx[_C_BUF_SIZE]:
        return -1
    return off // ctx[_C_BUF_SIZE]


def owner(ctx, b):
    """The ownership state of buffer b: 0 with the peer, 1 held (received),
    2 taken for a send."""
    w = ctx[ctx[_C_STATE] + (b >> 2)]  # one byte per buffer, little-endian words
    return (w >> (8 * (b & 3))) & 0xFF


def must_notify(shm, ctx, rx):
    """virtqueue.c vq_ring_must_notify_host: notify unless used.flags has
    NO_NOTIFY (rx 1: the RX ring, 0: the TX ring)."""
    return 0 if shm[ctx[(_RX if rx else _TX) + _Q_USED]] & _USED_F_NO_NOTIFY else 1
