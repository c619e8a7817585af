"""Bring-up: what a link does once, run through ``env.bring_up``, which
imports this module for the call and drops it again (with the modules it
loaded: layout, rings, views, ringops) unless they were loaded before. On a
board that loads .mpy files their code then leaves RAM once the call
returns (README, "Footprint"): the checks of a Config, link init (geometry,
the master's init image, attach) and the remote's link-up check.
"""

import uctypes
from array import array

from . import vring
from .ringops import doorbell, new_ctx, options, formatted, must_notify, ring_fields, set_consumer, freeze, fresh, fresh_image
from .rings import check_formatted, format_master, format_fault, read16
from .config import Config, HEADER_SIZE
from .config import computed_vring_size, vring_bytes, align_up
from .layout import Layout
from .views import payload_views

_MAX_LINK_ID = 0x7FFF  # RL_PLATFORM_HIGHEST_LINK_ID upper bound (rpmsg_platform.h)
# RPMsg-Lite limits (rpmsg_default_config.h: RL_MAX_BUFFER_COUNT, RL_MAX_VRING_ALIGN).
_MAX_BUFFER_COUNT = 32768
_MAX_VRING_ALIGN = 65536
# The header's len field is 16 bits (docs/protocol.md#header), so a larger payload could not be
# described on the wire.
_MAX_PAYLOAD = 0xFFFF
_MASTER = 1


def _is_power_of_two(v):
    return v > 0 and (v & (v - 1)) == 0


# -- Config ------------------------------------------------------------------


def check_config(
    self, buffer_count, payload_size, vring_align, vring_size, pa_base, consumed_buffers_notification, doorbell_suppression
):
    """Validate a Config's numbers against RPMsg-Lite's limits and set its
    fields and derived sizes (ValueError says what is wrong)."""
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


def config_repr(self):
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


# -- links ---------------------------------------------------------------------


def _pa_base(shm, platform, config):
    pa_base = config.pa_base
    if pa_base is None:
        # A port whose cores see the region at different addresses
        # (the host port's processes) names the address both use.
        pa_base = getattr(platform, "pa_base", None)
    return uctypes.addressof(shm) if pa_base is None else pa_base


def layout_of(link):
    """The Layout of a link."""
    return Layout(link.config, _pa_base(link._shm, link._platform, link.config))


def init(self, shm, platform, config, link_id, role, attach):
    """RPMsgLite.__init__."""
    if not isinstance(link_id, int) or not 0 <= link_id <= _MAX_LINK_ID:
        raise ValueError("link_id must be 0..32767, got %r" % (link_id,))
    if config is None:
        config = platform.link_config(link_id) or Config()
    where = uctypes.addressof(shm)
    if where & 3:
        raise ValueError("shared memory must be word aligned (it is at %#x)" % where)
    layout = Layout(config, _pa_base(shm, platform, config))
    layout.check_region(len(shm))
    # The link's attributes: 10 (11 on a remote that came up), a small
    # instance dict (py/map.c); the rest is in ctx, the config, the class or
    # _table (the endpoints: link._epts).
    self.config = config
    self._shm = shm
    self._platform = platform
    bell = getattr(platform, "doorbell_fifo", None)
    master = role == _MASTER
    # Our RX queue is vring 0 on the master, vring 1 on the remote:
    # vring 1 - role. (link_id and role are read back from _tvec.)
    self._rvec = (link_id << 1) | (1 - role)
    self._tvec = (link_id << 1) | role
    # With the views resized by drain(), a delivery just picks the view.
    views, addrs, len_word = payload_views(
        shm, layout.buffers + HEADER_SIZE, layout.buffer_total, layout.buffer_size, config.payload_size
    )
    ctx = new_ctx(layout, master, config.payload_size, addrs, len_word)
    options(ctx, config.consumed_buffers_notification, config.doorbell_suppression, platform.rests)
    self._ctx = ctx
    from .env import new_lock

    self._lock = lock = new_lock()
    # What vring.send() rings: the port's doorbell FIFO if it has one
    # (port.py "doorbell_fifo"; by its address, in ctx), else its notify
    # (a bound method: 16 bytes of heap the FIFO does without).
    self._bell = bell if doorbell(ctx, self._tvec, bell, lock is not None, shm) else platform.notify
    self._consumed_notify = config.consumed_buffers_notification  # (read per release, also by Queue)
    self._table = [array("I", [0])] + views  # what drain() looks endpoints up in
    if attach:
        check_formatted(shm, layout)
        _adopt_indices(self, layout)
        self._up = True
    else:
        self._up = master
        if master:
            # The exact image rpmsg_lite_master_init writes (docs/protocol.md#layout).
            format_master(shm, layout, config.vring_fill)
            formatted(ctx, layout.count)
    if self._up and not master:
        self._ever_up = True
    # Before the init kick: a remote must be listening before the
    # master's single notification (docs/protocol.md#link-up).
    platform.attach(self)
    if master and not attach and must_notify(shm, ctx, 1):
        # One notification on vring 0 means "master ready" (rpmsg_lite.c rpmsg_lite_master_init).
        platform.notify(self._rvec)


def _adopt_indices(self, layout):
    """Rebuild local consumer indices from formatted rings (attach).

    Invariants while nothing is held: the driver re-posts every buffer it
    takes, so for the master's RX ring avail.idx - cons == N and for its
    TX ring cons == avail.idx; the device reports every buffer it takes,
    so for the remote's RX ring used.idx - cons == N and for its TX ring
    cons == used.idx. Buffers held when the old instance died are simply
    delivered (RX) or reused (TX) again, so none is lost."""
    shm = self._shm
    ctx = self._ctx
    n = layout.count
    for rx in (True, False):
        a, u = ring_fields(ctx, rx)
        avail = read16(shm, a + 2)
        used = read16(shm, u + 2)
        if self.role == _MASTER:
            cons = (avail - n) & 0xFFFF if rx else avail
            ahead = (used - cons) & 0xFFFF
        else:
            cons = (used - n) & 0xFFFF if rx else used
            ahead = (avail - cons) & 0xFFFF
        if ahead > n:
            raise ValueError(
                "shared memory does not hold a consistent RPMsg-Lite link: avail.idx %d, "
                "used.idx %d" % (avail, used)
            )
        set_consumer(ctx, rx, cons)


def link_up(self):
    """(Remote) a vring-0 notification while the link is down or frozen
    after a master restart; returns whether the link may come up. The
    master's descriptors show whether it formatted the region for our
    numbers: if not, every entry would fail validation and be lost, so the
    link stays down and ``fault`` says why."""
    ctx = self._ctx
    frozen = vring.frozen(ctx, True)
    fault = format_fault(self._shm, layout_of(self))
    if fault or self._fault is not None:
        self._fault = fault  # (only set when there is one: see the class defaults)
    if fault:
        freeze(ctx)  # take and give nothing
        self._up = False
        return False
    if not fresh_image(self._shm, ctx):
        if frozen:
            self._up = False  # still formatting: wait for its init kick
            return False
        return True
    if frozen or (not self.config.consumed_buffers_notification and not fresh(ctx)):
        self._new_generation(self._up or frozen and self._ever_up)
    return True
