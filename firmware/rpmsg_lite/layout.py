"""Where everything sits in shared memory (docs/protocol.md#layout).

Offsets are relative to the first byte of the shared region. pa_base is the
address the peer knows that byte by; it matters twice: descriptor addresses
are pa_base + offset, and the used ring is aligned on its ABSOLUTE
address, exactly as RPMsg-Lite's vring_init
does with its local pointer.
"""

from .config import align_up


class VringLayout:
    """Byte offsets of one split virtqueue."""

    def __init__(self, start, count, align, pa_base):
        self.desc = start
        self.avail = start + 16 * count
        # The used ring follows avail.ring[N] with NO room for used_event:
        # RPMsg-Lite differs from Linux/OpenAMP here (virtio_ring.h vring_init).
        self.used = align_up(pa_base + self.avail + 4 + 2 * count, align) - pa_base
        self.end = self.used + 4 + 8 * count + 2  # through avail_event


class Layout:
    """The geometry of one link's shared region.

    ``vrings[0]`` carries remote-to-master traffic, ``vrings[1]``
    master-to-remote (docs/protocol.md#layout). Buffer k sits at ``buffers + k*buffer_size``:
    buffers 0..N-1 start as vring 0's descriptors, N..2N-1 as vring 1's.
    """

    def __init__(self, config, pa_base):
        if pa_base & 3:
            raise ValueError("shared memory must start on a word boundary (pa_base %#x)" % pa_base)
        n = config.buffer_count
        self.config = config
        self.pa_base = pa_base
        self.count = n
        self.buffer_size = config.buffer_size
        self.vrings = (
            VringLayout(0, n, config.vring_align, pa_base),
            VringLayout(config.vring_size, n, config.vring_align, pa_base),
        )
        # WORD_ALIGN_UP(base + RL_VRING_OVERHEAD): already word aligned since
        # VRING_SIZE is (Config checks it).
        self.buffers = config.buffers_offset
        self.buffer_total = 2 * n
        self.size = config.shm_size

    def buffer_offset(self, index):
        return self.buffers + index * self.buffer_size

    def check_region(self, length):
        if length < self.size:
            c = self.config
            raise ValueError(
                "shared memory of %d bytes is too small: %d buffers of %d bytes per direction "
                "with VRING_SIZE %#x need %d bytes (2*VRING_SIZE + 2*N*buffer_size)"
                % (length, c.buffer_count, c.buffer_size, c.vring_size, self.size)
            )
