"""Link configuration: the numbers both cores must agree on.

Nothing in shared memory records the buffer count, payload size, VRING_ALIGN
or VRING_SIZE (docs/protocol.md#layout), so a mismatch between the cores breaks the
link silently. Config validates each value against RPMsg-Lite's own limits
and computes the derived sizes once (the checks and their messages are in
bringup.py, loaded for the call).
"""

from micropython import const

from .env import bring_up

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

    # Set by bringup.check_config (declared for type checkers; no code).
    buffer_count: int
    payload_size: int
    vring_align: int
    vring_size: int
    pa_base: "int | None"
    consumed_buffers_notification: bool
    doorbell_suppression: bool
    buffer_size: int
    vring_fill: int
    buffers_offset: int
    shm_size: int

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
        bring_up(
            "check_config",
            self,
            buffer_count,
            payload_size,
            vring_align,
            vring_size,
            pa_base,
            consumed_buffers_notification,
            doorbell_suppression,
        )

    def __repr__(self):
        return bring_up("config_repr", self)
