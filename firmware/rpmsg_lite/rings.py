"""Whole-ring work done once per link, in plain Python (it is not worth
native code): the master's format, reading ring fields for attach and
restart checks. The per-message ring work is in vring.py.
"""

import struct

_NEXT_END = 0x8000  # VQ_RING_DESC_CHAIN_END (virtqueue.h)
_DESC_F_WRITE = 2  # every master-written descriptor (virtqueue.c vq_ring_add_buffer)
_AVAIL_F_NO_INTERRUPT = 1


def read16(shm, off):
    return struct.unpack_from("<H", shm, off)[0]


def read32(shm, off):
    return struct.unpack_from("<I", shm, off)[0]


def format_master(shm, layout, fill):
    """Write the image rpmsg_lite_master_init leaves (docs/protocol.md#vrings), touching
    exactly the bytes it touches, in the same order."""
    n = layout.count
    size = layout.buffer_size
    zeros = bytes(fill)
    for geo in layout.vrings:
        # Zero vring_size() bytes, chain the descriptors, avail.flags = 1.
        shm[geo.desc : geo.desc + fill] = zeros
        for i in range(n):
            struct.pack_into("<H", shm, geo.desc + 16 * i + 14, i + 1 if i < n - 1 else _NEXT_END)
        struct.pack_into("<H", shm, geo.avail, _AVAIL_F_NO_INTERRUPT)
    empty = bytes(size)
    for v in (0, 1):
        geo = layout.vrings[v]
        for i in range(n):
            off = layout.buffer_offset(v * n + i)
            shm[off : off + size] = empty
            # desc[i] = {addr (high word 0), len, flags = WRITE}; next kept.
            struct.pack_into("<IIIH", shm, geo.desc + 16 * i, (layout.pa_base + off) & 0xFFFFFFFF, 0, size, _DESC_F_WRITE)
            if v == 0:
                # The remote's TX buffers wait in vring 0's avail ring.
                struct.pack_into("<H", shm, geo.avail + 4 + 2 * i, i)
                struct.pack_into("<H", shm, geo.avail + 2, i + 1)
            else:
                # The master's own TX buffers start out "used", so that
                # taking from the used ring doubles as the TX allocator.
                struct.pack_into("<II", shm, geo.used + 4 + 8 * i, i, size)
                struct.pack_into("<H", shm, geo.used + 2, i + 1)


_HINT = (
    "both cores must use the same buffer count, payload size, VRING_ALIGN, VRING_SIZE and pa_base"
)


def format_fault(shm, layout):
    """None if the master's descriptors fit ``layout``, else a message
    naming the first one that does not. Nothing in shared memory records
    the layout, so this is how a remote tells, at link-up, that the master
    formatted the region for other numbers.

    An RPMsg-Lite master fills every descriptor once at init (descriptor i
    of vring v holds buffer v*N + i with the buffer's length,
    virtqueue_fill_avail_buffers) and never changes them. What is required
    is less, what this stack's receive checks need (vring.take): each
    descriptor holds a buffer start in its vring's half of the buffer area,
    vring 0's with the full buffer length, vring 1's with 16..buffer size.
    A vring-1 descriptor still empty is accepted: a Linux master fills its
    TX descriptors per message (virtio_rpmsg_bus)."""
    n = layout.count
    size = layout.buffer_size
    base = layout.pa_base + layout.buffers
    full = True  # every vring-1 descriptor filled, as an RPMsg-Lite master does
    for v in (0, 1):
        geo = layout.vrings[v]
        for i in range(n):
            have = read32(shm, geo.desc + 16 * i)
            length = read32(shm, geo.desc + 16 * i + 8)
            if have == 0 and length == 0:
                if v == 1:
                    full = False
                    continue
                return (
                    "no rings: vring %d descriptor %d is empty (has the master formatted this region, and do both "
                    "cores use the same memory?); %s" % (v, i, _HINT)
                )
            off = (have - base) & 0xFFFFFFFF
            if v == 0:
                fits = off < n * size and length == size
            else:
                fits = n * size <= off < 2 * n * size and 16 <= length <= size
            if not fits or off % size:
                want = (base + (v * n + i) * size) & 0xFFFFFFFF
                seen = ""
                if n > 1 and v == 0 and i == 0:
                    step = (read32(shm, geo.desc + 16) - have) & 0xFFFFFFFF
                    seen = " (the master's buffers: %d bytes apart from %#x)" % (step, have)
                return (
                    "layout mismatch: vring %d descriptor %d at %#x (length %d), expected %#x (length %d)%s; %s"
                    % (v, i, have, length, want, size, seen, _HINT)
                )
    if not full:
        return None
    # The descriptors do not depend on VRING_ALIGN when VRING_SIZE is fixed;
    # the used rings do. An RPMsg-Lite master fills vring 1's used ring at
    # init (virtqueue_fill_used_buffers), and the remote rewrites each entry
    # with a descriptor index and that descriptor's length.
    used = layout.vrings[1].used
    for i in range(n):
        d = read32(shm, used + 4 + 8 * i)
        length = read32(shm, used + 8 + 8 * i)
        if d >= n or not 16 <= length <= size:
            return (
                "layout mismatch: vring 1 used ring entry %d at offset %#x holds (%d, %d), expected a descriptor "
                "index below %d and length %d (another VRING_ALIGN?); %s" % (i, used + 4 + 8 * i, d, length, n, size, _HINT)
            )
    return None


def check_formatted(shm, layout):
    """Raise ValueError unless the descriptors fit ``layout`` (attach: the
    right region, config, pa_base; see format_fault)."""
    fault = format_fault(shm, layout)
    if fault:
        raise ValueError("shared memory does not hold an RPMsg-Lite link formatted for this config: " + fault)
