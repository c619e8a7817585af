"""Decode a shared-memory region (or a dump of one) the way someone
debugging two cores wants to see it: both vrings (indices, flags,
descriptors), which core holds which buffer, the header of every message in
flight, and every anomaly the stack's validation counters would count
(``link.stats()``, ``vring._take``; see the README's Robustness section).

Plain Python for MicroPython and CPython alike, reading only the bytes:

    from rpmsg_lite.inspector import inspect, guess
    inspect(region, config)          # prints; returns the anomalies
    inspect(region, guess(region))   # layout read from the descriptors
    inspect_link(link)               # a live link of this core

tools/inspect runs it on a file (the host port's shared file, or a dump
read from a board over mpremote).

What shared memory alone can tell: each core's consumer index is local (as
in RPMsg-Lite), so a buffer between "handed over" and "given back" is
shown as with the receiver whether or not it has read it yet ("in flight or
held"). ``own_index_repaired``, ``unknown_dst`` and ``callback_errors`` are
events of a running link and cannot be seen in a snapshot.
"""

import struct

from .config import Config, HEADER_SIZE, computed_vring_size
from .layout import Layout
from . import rings

_CHAIN_END = 0x8000  # VQ_RING_DESC_CHAIN_END (virtqueue.h)
_NS_ADDR = 53
_NS_SIZE = 40  # struct rpmsg_std_ns_msg: name[32], addr, flags


def _u16(shm, off):
    return struct.unpack_from("<H", shm, off)[0]


def _u32(shm, off):
    return struct.unpack_from("<I", shm, off)[0]


def guess(shm, pa_base=None):
    """The Config a master formatted ``shm`` with, read from its
    descriptors (rpmsg_lite_master_init chains vring 0's descriptors and
    points them at consecutive buffers; vring 1's follow N buffers later).
    Raises ValueError when the region holds no formatted rings."""
    if len(shm) < 32:
        raise ValueError("%d bytes: too small for a shared region" % len(shm))
    addr0 = _u32(shm, 0)
    size = _u32(shm, 8)
    if size <= HEADER_SIZE or size & 3 or (addr0 == 0 and size == 0):
        raise ValueError(
            "descriptor 0 of vring 0 (address %#x, length %d) is not a formatted buffer: "
            "no rings here (or not at offset 0)" % (addr0, size)
        )
    # N: the descriptor chain, else the run of consecutive buffer addresses.
    n = 0
    i = 0
    while n < 32768 and 16 * i + 16 <= len(shm):
        n += 1
        nxt = _u16(shm, 16 * i + 14)
        if nxt == _CHAIN_END or nxt != i + 1:
            break
        i = nxt
    if n & (n - 1):  # the chain is broken: count consecutive addresses
        n = 1
        while 16 * n + 16 <= len(shm) and _u32(shm, 16 * n) == (addr0 + n * size) & 0xFFFFFFFF:
            n += 1
        p = 1
        while p * 2 <= n:
            p *= 2
        n = p
    # VRING_SIZE: where vring 1's descriptor 0 is (it points N buffers on).
    want = (addr0 + n * size) & 0xFFFFFFFF
    vring_size = None
    off = 16 * n + 4 + 2 * n
    off = (off + 3) & ~3
    while off + 12 <= len(shm):
        if _u32(shm, off) == want and _u32(shm, off + 8) == size:
            vring_size = off
            break
        off += 4
    if vring_size is None:
        raise ValueError("vring 1 not found: no descriptor points at %#x (vring 0 has %d buffers of %d bytes)" % (want, n, size))
    base = (addr0 - 2 * vring_size) & 0xFFFFFFFF if pa_base is None else pa_base
    # VRING_ALIGN: the used ring sits at an aligned absolute address; vring
    # 1's used ring holds N entries (descriptor < N, length = buffer size)
    # from the master's format on. Several alignments may place it alike
    # (nothing in memory tells them apart): the largest one VRING_SIZE is
    # computed from wins, else the smallest that fits.
    payload = size - HEADER_SIZE
    found = None
    computed = None
    align = 4
    while align <= 0x10000:
        cfg = _config(n, payload, align, vring_size, base, len(shm))
        if cfg is not None and _used_ring_fits(shm, Layout(cfg, base).vrings[1].used, n, size):
            if computed_vring_size(n, align) == vring_size:
                computed = align
            if found is None:
                found = cfg
        align *= 2
    if computed is not None:
        return _config(n, payload, computed, None, base, len(shm))
    if found is None:
        raise ValueError("VRING_ALIGN not found: vring 1's used ring matches no alignment (%d buffers of %d bytes)" % (n, size))
    return found


def _config(n, payload, align, vring_size, base, length):
    try:
        cfg = Config(buffer_count=n, payload_size=payload, vring_align=align, vring_size=vring_size, pa_base=base)
    except ValueError:
        return None  # VRING_SIZE too small for this alignment
    return cfg if cfg.shm_size <= length else None


def _used_ring_fits(shm, used, n, size):
    for k in range(n):
        if _u32(shm, used + 4 + 8 * k) >= n or _u32(shm, used + 8 + 8 * k) != size:
            return False
    return True


def _runs(items):
    """"0..3 7 9..12" for [0, 1, 2, 3, 7, 9, 10, 11, 12] (items are ints or
    strings, strings stand alone)."""
    out = []
    i = 0
    while i < len(items):
        j = i
        if isinstance(items[i], int):
            while j + 1 < len(items) and isinstance(items[j + 1], int) and items[j + 1] == items[j] + 1:
                j += 1
        out.append(str(items[i]) if j == i else "%d..%d" % (items[i], items[j]))
        i = j + 1
    return " ".join(out)


class _Report:
    def __init__(self, out):
        self.out = out
        self.anomalies = []  # (counter, text)

    def line(self, text):
        self.out(text)

    def anomaly(self, counter, text):
        self.anomalies.append((counter, text))


def _header(shm, off):
    src, dst, _reserved, length, flags = struct.unpack_from("<IIIHH", shm, off)
    return src, dst, length, flags


def _preview(shm, off, n):
    data = bytes(shm[off : off + min(n, 16)])
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    return "%s |%s|%s" % (" ".join("%02x" % b for b in data), text, " ..." if n > 16 else "")


def inspect(shm, config, pa_base=None, out=print):
    """Print what ``shm`` holds for ``config``; returns the anomalies as a
    list of (counter name, description)."""
    base = config.pa_base if pa_base is None else pa_base
    if base is None:
        raise ValueError("pa_base is needed (the address descriptors are based at)")
    layout = Layout(config, base)
    rep = _Report(out)
    n = layout.count
    size = layout.buffer_size
    rep.line(
        "layout: %d buffers per direction of %d bytes (payload %d), VRING_ALIGN %#x, VRING_SIZE %#x, pa_base %#x, "
        "%d bytes" % (n, size, config.payload_size, config.vring_align, config.vring_size, base, layout.size)
    )
    if len(shm) < layout.size:
        rep.line("region: %d bytes, the layout needs %d" % (len(shm), layout.size))
        rep.anomaly("layout", "the region is %d bytes, smaller than the layout's %d" % (len(shm), layout.size))
        return rep.anomalies
    fault = rings.format_fault(shm, layout)
    if fault:
        rep.line("format: " + fault)
    owner = [None] * (2 * n)  # per buffer: "M" or "R", lower case when it holds a message
    seen = {}  # buffer -> where it was seen
    for v in (0, 1):
        _vring(shm, layout, v, rep, owner, seen)
    rep.line("buffers (M master, R remote; lower case: holds a message in flight or held; ? in no ring):")
    row = []
    b = 0
    while b < 2 * n:
        e = b
        while e + 1 < 2 * n and owner[e + 1] == owner[b]:
            e += 1
        row.append("%s:%s" % (b if e == b else "%d..%d" % (b, e), owner[b] or "?"))
        b = e + 1
    for i in range(0, len(row), 12):
        rep.line("  " + " ".join(row[i : i + 12]))
    for b in range(2 * n):
        if owner[b] is None:
            rep.anomaly("missing", "buffer %d is in no ring window (taken and not given back, or lost)" % b)
    if rep.anomalies:
        rep.line("anomalies (%d):" % len(rep.anomalies))
        for counter, text in rep.anomalies:
            rep.line("  %s: %s" % (counter, text))
    else:
        rep.line("anomalies: none")
    return rep.anomalies


def _vring(shm, layout, v, rep, owner, seen):
    n = layout.count
    size = layout.buffer_size
    geo = layout.vrings[v]
    aflags, aidx = _u16(shm, geo.avail), _u16(shm, geo.avail + 2)
    uflags, uidx = _u16(shm, geo.used), _u16(shm, geo.used + 2)
    rep.line(
        "vring %d (%s) at %#x: avail flags %#x%s idx %d; used flags %#x%s idx %d"
        % (
            v,
            "remote -> master" if v == 0 else "master -> remote",
            geo.desc,
            aflags,
            " (NO_INTERRUPT)" if aflags & 1 else "",
            aidx,
            uflags,
            " (NO_NOTIFY)" if uflags & 1 else "",
            uidx,
        )
    )
    # Descriptors: where they point (the stack accepts any buffer start in
    # the area, vring._take; the master's format gives vring v buffers v*N..).
    area = layout.pa_base + layout.buffers
    target = []
    odd = []
    for i in range(n):
        d = geo.desc + 16 * i
        addr, length = _u32(shm, d), _u32(shm, d + 8)
        off = (addr - area) & 0xFFFFFFFF
        b = off // size if off < 2 * n * size and off % size == 0 else None
        target.append((b, length))
        if b != v * n + i or length != size:
            odd.append("desc %d -> %s, length %d" % (i, "buffer %d" % b if b is not None else "%#x" % addr, length))
    if odd:
        rep.line("  descriptors differing from the master's format: " + "; ".join(odd))
    else:
        rep.line("  descriptors: %d..%d -> buffers %d..%d, length %d (as formatted)" % (0, n - 1, v * n, v * n + n - 1, size))
    # Windows (see module comment). vring 0: the master posts empty buffers
    # in avail (the remote's TX), takes messages from used. vring 1: the
    # master takes free buffers from used (its TX), posts messages in avail.
    if v == 0:
        with_remote = (aidx - uidx) & 0xFFFF  # posted, not yet returned
        windows = (
            ("R", False, geo.avail, aidx - with_remote if with_remote <= n else aidx, min(with_remote, n), "posted, free for its TX"),
            ("m", True, geo.used, uidx - (n - with_remote) if with_remote <= n else uidx, max(n - with_remote, 0),
             "messages for the master"),
        )
        jump = with_remote > n
        relation = "avail.idx - used.idx = %d" % with_remote
    else:
        with_master = (uidx - aidx) & 0xFFFF  # used entries the master has not posted again
        windows = (
            ("M", False, geo.used, uidx - with_master if with_master <= n else uidx, min(with_master, n), "free for its TX"),
            ("r", True, geo.avail, aidx - (n - with_master) if with_master <= n else aidx, max(n - with_master, 0),
             "messages for the remote"),
        )
        jump = with_master > n
        relation = "used.idx - avail.idx = %d" % with_master
    if jump:
        rep.anomaly("index_jumps", "vring %d: %s, more than N = %d (a corrupt or re-formatted index)" % (v, relation, n))
    for mark, message, ring, start, count, what in windows:
        who = "master" if mark in "Mm" else "remote"
        used_ring = ring == geo.used
        names = []
        lines = []
        for k in range(count):
            slot = (start + k) & (n - 1)
            if used_ring:
                d = _u32(shm, ring + 4 + 8 * slot)
                where = "vring %d used.ring[%d]" % (v, slot)
            else:
                d = _u16(shm, ring + 4 + 2 * slot)
                where = "vring %d avail.ring[%d]" % (v, slot)
            b = _check_entry(shm, geo, target, where, d, n, size, not used_ring, rep)
            if b is None:
                names.append("desc%d!" % d)
                continue
            if b in seen:
                rep.anomaly("duplicate", "buffer %d in %s and %s" % (b, seen[b], where))
                names.append("%d!" % b)
                continue
            seen[b] = where
            owner[b] = mark
            names.append(b)
            if message:
                # The remote (device) bounds a message by the descriptor's
                # length, the master by the buffer size (vring._take).
                limit = target[d][1] if not used_ring else size
                lines.append(_message(shm, layout.buffer_offset(b), b, d, limit, rep))
        rep.line("  with the %s: %d %s%s" % (who, count, what, (": " + _runs(names)) if names else ""))
        for text in lines:
            rep.line(text)


def _check_entry(shm, geo, target, where, d, n, size, device_reads, rep):
    """The buffer a ring entry names, or None after counting why not, in
    vring._take's order: descriptor index, address, (device side) length."""
    if d >= n:
        rep.anomaly("bad_desc", "%s names descriptor %d (N = %d)" % (where, d, n))
        return None
    b, length = target[d]
    if b is None:
        addr = _u32(shm, geo.desc + 16 * d)
        rep.anomaly("bad_addr", "%s: descriptor %d's address %#x is not a buffer start" % (where, d, addr))
        return None
    if device_reads and (length < HEADER_SIZE or length > size):
        rep.anomaly("bad_len", "%s: descriptor %d's length %d (16..%d)" % (where, d, length, size))
        return None
    return b


def _message(shm, off, b, d, limit, rep):
    src, dst, hlen, flags = _header(shm, off)
    text = "    buffer %d (desc %d): src %d -> dst %d, len %d, flags %#x" % (b, d, src, dst, hlen, flags)
    if hlen > limit - HEADER_SIZE:
        rep.anomaly("bad_header", "buffer %d: header len %d exceeds the buffer's room %d" % (b, hlen, limit - HEADER_SIZE))
        return text + " (len too large)"
    text += ": " + _preview(shm, off + HEADER_SIZE, hlen)
    if dst == _NS_ADDR:
        text += _ns(shm, off + HEADER_SIZE, hlen, rep, b)
    return text


def _ns(shm, off, length, rep, b):
    if length != _NS_SIZE:
        rep.anomaly("ns_malformed", "buffer %d: a name-service message of %d bytes (40 expected)" % (b, length))
        return " (name service: malformed)"
    raw = bytes(shm[off : off + 32])
    end = raw.find(b"\x00")
    name = raw[: end if end >= 0 else 32]
    addr, flags = struct.unpack_from("<II", shm, off + 32)
    try:
        label = name.decode()
    except UnicodeError:
        rep.anomaly("ns_malformed", "buffer %d: a name-service name that does not decode" % b)
        label = repr(name)
    return " -> name service: %s %r at address %d" % ("destroy" if flags & 1 else "create", label, addr)


def inspect_link(link, out=print):
    """inspect() on a live link of this core (a snapshot is taken first:
    the other core keeps running)."""
    return inspect(bytes(link._shm), link.config, link.layout.pa_base, out)
