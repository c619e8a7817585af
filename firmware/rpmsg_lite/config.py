"""Link configuration: the numbers both cores must agree on.

Nothing in shared memory records the buffer count, payload size, VRING_ALIGN
or VRING_SIZE (docs/protocol.md#layout), so a mismatch between the cores breaks the
link silently. Config validates each value against RPMsg-Lite's own limits
and computes the derived sizes once.
"""

from micropython import const

# RPMsg-Lite limits (rpmsg_default_config.h: RL_MAX_BUFFER_COUNT, RL_MAX_VRING_ALIGN).
_MAX_BUFFER_COUNT = const(32768)
_MAX_VRING_ALIGN = const(65536)
# The header's len field is 16 bits (docs/protocol.md#header), so a larger payload could not be
# described on the wire.
_MAX_PAYLOAD = const(0xFFFF)
HEADER_SIZE = const(16)


def align_up(value, align):
    return (value + align - 1) & ~(align - 1)


def vring_bytes(count, align):
    """RPMsg-Lite's vring_size() function (virtio_ring.h): the length the master
    zero-fills at init. It never positions anything."""
    return align_up(16 * count + 6 + 2 * count + 2, align) + 12 + 8 * count + 2


def computed_vring_size(count, align):
    """The VRING_SIZE macro of MCU-to-MCU platforms (platform/imxrt1170/rpmsg_platform.h):
    descriptor table, avail ring and used ring each rounded up to the
    alignment. Not equal to vring_bytes() (docs/protocol.md#layout)."""
    return (
        align_up(16 * count, align)
        + align_up(6 + 2 * count + 2, align)
        + align_up(12 + 8 * count + 2, align)
    )


def _is_power_of_two(v):
    return v > 0 and (v & (v - 1)) == 0


class Config:
    """Shared-memory configuration of one link.

    buffer_count   buffers per direction (RL_BUFFER_COUNT), a power of two
                   up to 32768; also the number of descriptors per vring.
    payload_size   RL_BUFFER_PAYLOAD_SIZE; a buffer is payload + 16 bytes of
                   header, rounded up to a word.
    vring_align    VRING_ALIGN, a power of two from 4 to 65536.
    vring_size     VRING_SIZE: None computes it the MCU-to-MCU way; a number
                   fixes it (Linux-facing platforms use 0x8000 with align
                   0x1000). It places vring 1 and the buffers.
    pa_base        the address written into descriptors for the first byte of
                   shared memory. None: the region's real address (identity
                   mapping, as on MCUs). The golden images use 0x20200000.
    consumed_buffers_notification
                   RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION: notify the peer
                   after freeing received buffers (needed with Linux as peer,
                   docs/protocol.md#data-path).
    doorbell_suppression
                   while this side drains its receive ring it sets
                   VRING_USED_F_NO_NOTIFY in that ring's used.flags, so a
                   sender (this library, or C's virtqueue_kick) skips the
                   doorbell; cleared, and the ring checked again, before
                   the drain returns. Local only: the peer needs no setting.
    """

    def __init__(
        self,
        buffer_count=2,
        payload_size=496,
        vring_align=0x10,
        vring_size=None,
        pa_base=None,
        consumed_buffers_notification=False,
        doorbell_suppression=False,
    ):
        if not isinstance(buffer_count, int) or not _is_power_of_two(buffer_count):
            raise ValueError("buffer_count must be a power of two, got %r" % (buffer_count,))
        if buffer_count > _MAX_BUFFER_COUNT:
            raise ValueError("buffer_count %d exceeds RPMsg-Lite's limit of 32768" % buffer_count)
        if not isinstance(payload_size, int) or not 0 < payload_size <= _MAX_PAYLOAD:
            raise ValueError("payload_size must be 1..65535 (16-bit header len), got %r" % (payload_size,))
        if (
            not isinstance(vring_align, int)
            or not _is_power_of_two(vring_align)
            or not 4 <= vring_align <= _MAX_VRING_ALIGN
        ):
            # Below 4 the used ring's 32-bit entries would be misaligned.
            raise ValueError("vring_align must be a power of two in 4..65536, got %r" % (vring_align,))
        fill = vring_bytes(buffer_count, vring_align)
        if vring_size is None:
            vring_size = computed_vring_size(buffer_count, vring_align)
        elif not isinstance(vring_size, int) or vring_size & 3 or vring_size < fill:
            raise ValueError(
                "vring_size %r must be a word-aligned number >= %d (one vring's extent for "
                "%d buffers at align %d)" % (vring_size, fill, buffer_count, vring_align)
            )
        if pa_base is not None and (not isinstance(pa_base, int) or pa_base & 3 or not 0 <= pa_base <= 0xFFFFFFFF):
            raise ValueError("pa_base must be a word-aligned 32-bit address, got %r" % (pa_base,))
        self.buffer_count = buffer_count
        self.payload_size = payload_size
        self.vring_align = vring_align
        self.vring_size = vring_size
        self.pa_base = pa_base
        self.consumed_buffers_notification = bool(consumed_buffers_notification)
        self.doorbell_suppression = bool(doorbell_suppression)
        # Derived sizes (docs/protocol.md#layout).
        self.buffer_size = align_up(payload_size + HEADER_SIZE, 4)
        self.vring_fill = fill
        self.buffers_offset = 2 * vring_size  # RL_VRING_OVERHEAD, word aligned already
        self.shm_size = self.buffers_offset + 2 * buffer_count * self.buffer_size

    def __repr__(self):
        return (
            "Config(buffer_count=%d, payload_size=%d, vring_align=%#x, vring_size=%#x, pa_base=%s, "
            "consumed_buffers_notification=%s, doorbell_suppression=%s)"
        ) % (
            self.buffer_count,
            self.payload_size,
            self.vring_align,
            self.vring_size,
            "None" if self.pa_base is None else "%#x" % self.pa_base,
            self.consumed_buffers_notification,
            self.doorbell_suppression,
        )
