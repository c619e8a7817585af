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


def check_formatted(shm, layout):
    """Raise ValueError unless every descriptor holds the address an
    RPMsg-Lite master gives it (attach: the right region, config, pa_base)."""
    n = layout.count
    for v in (0, 1):
        geo = layout.vrings[v]
        for i in range(n):
            want = (layout.pa_base + layout.buffer_offset(v * n + i)) & 0xFFFFFFFF
            have = read32(shm, geo.desc + 16 * i)
            if have != want:
                raise ValueError(
                    "shared memory does not hold a formatted RPMsg-Lite link: vring %d desc %d "
                    "addresses %#x, expected %#x (wrong config or pa_base?)" % (v, i, have, want)
                )
