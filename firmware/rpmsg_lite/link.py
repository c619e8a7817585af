# One RPMsg-Lite link: the master or remote end of a shared region.
#
# Role mapping (spec 1.5, 7.1): vring 0 carries remote->master traffic,
# vring 1 master->remote. The master is the virtio driver of both (posts
# buffers in avail, takes them back from used); the remote is the device.
# Notifications carry the vring's vector id (link_id << 1) | vring (spec 6.5).

from micropython import const
from array import array
import uctypes

import rl_env
from rl_env import BLOCK, check_timeout, expired, idle, ticks_ms, MS_PER_INTERVAL
from . import vring
from .vring import take, give, stamp, copy, write_header, payload_buffer, must_notify
from .config import Config, HEADER_SIZE
from .layout import Layout
from .errors import RPMsgError, ERR_NO_MEM, ERR_BUFF_SIZE, ERR_PARAM, NOT_READY
from .endpoint import Endpoint, ADDR_ANY, HOLD
from .views import PayloadViews
from .rx_queue import Queue
from . import nameservice

MASTER = const(1)  # RL_MASTER
REMOTE = const(0)  # RL_REMOTE

_B_PEER = const(0)  # vring.B_PEER
_B_HELD = const(1)  # vring.B_HELD
_B_TX = const(2)  # vring.B_TX
_BAD = const(-2)  # vring.BAD
_RESTART = const(-4)  # vring.RESTART
_GONE = const(-2)  # give(): the buffer belonged to the link before a master restart
_MAX_LINK_ID = const(0x7FFF)  # RL_PLATFORM_HIGHEST_LINK_ID upper bound (spec 6.5)


# stats() names of the per-virtqueue drop counters (see vring.Q_*).
_DROP_COUNTERS = (
    ("bad_desc", vring.Q_BAD_DESC),
    ("bad_addr", vring.Q_BAD_ADDR),
    ("bad_len", vring.Q_BAD_LEN),
    ("bad_header", vring.Q_BAD_HDR),
    ("duplicate", vring.Q_DUP),
    ("index_jumps", vring.Q_JUMP),
)


def _new_queue(layout, v, driver):
    """Local state of the virtqueue over vring v (see vring.Q_*)."""
    geo = layout.vrings[v]
    q = array("I", [0] * vring.Q_WORDS)
    q[vring.Q_DESC] = geo.desc
    q[vring.Q_AVAIL] = geo.avail
    q[vring.Q_USED] = geo.used
    q[vring.Q_MASK] = layout.count - 1
    q[vring.Q_DRIVER] = 1 if driver else 0
    q[vring.Q_BUF_PA] = (layout.pa_base + layout.buffers) & 0xFFFFFFFF
    q[vring.Q_BUF_OFF] = layout.buffers
    q[vring.Q_BUF_SIZE] = layout.buffer_size
    q[vring.Q_BUF_AREA] = layout.buffer_total * layout.buffer_size
    return q


def _restarted(link):
    link._master_restarting()
    return RPMsgError(NOT_READY, "the master restarted: this buffer belonged to the previous link")


class RPMsgLite:
    """An RPMsg-Lite link over a shared-memory buffer.

    Create it with ``RPMsgLite.master(...)`` or ``RPMsgLite.remote(...)``.
    ``platform`` is any object with ``notify(vector_id)``; it may also have
    ``attach(link)`` / ``detach(link)`` (route its doorbell to
    ``link.isr``), ``wait(ms)`` (block until a doorbell or ms pass) and
    ``shmem_config(link_id)`` (per-link Config when none is given).
    """

    @classmethod
    def master(cls, shm, platform, config=None, link_id=0, attach=False):
        """Format ``shm`` and notify the remote (rpmsg_lite_master_init).

        With ``attach=True`` the rings are taken over as they are, with the
        local indices rebuilt from them (e.g. after a soft reset of this
        core while the remote kept running): nothing is written or sent.
        """
        return cls(shm, platform, config, link_id, MASTER, attach)

    @classmethod
    def remote(cls, shm, platform, config=None, link_id=0, attach=False):
        """Attach to the master's rings (rpmsg_lite_remote_init). Writes
        nothing; the link comes up on the master's first notification on
        vring 0. With ``attach=True`` the rings must already be formatted and
        the link is up at once (re-attaching after this core restarted)."""
        return cls(shm, platform, config, link_id, REMOTE, attach)

    def __init__(self, shm, platform, config, link_id, role, attach):
        if not isinstance(link_id, int) or not 0 <= link_id <= _MAX_LINK_ID:
            raise ValueError("link_id must be 0..32767, got %r" % (link_id,))
        if config is None:
            per_link = getattr(platform, "shmem_config", None)
            config = per_link(link_id) if per_link else Config()
        where = uctypes.addressof(shm)
        if where & 3:
            raise ValueError("shared memory must be word aligned (it is at %#x)" % where)
        layout = Layout(config, where if config.pa_base is None else config.pa_base)
        layout.check_region(len(shm))
        self.config = config
        self.layout = layout
        self.link_id = link_id
        self.role = role
        self._shm = shm
        self._platform = platform
        self._notify = platform.notify
        master = role == MASTER
        # Our rx queue is vring 0 on the master, vring 1 on the remote.
        self._rx_vring = 0 if master else 1
        self._rvec = (link_id << 1) | self._rx_vring
        self._tvec = (link_id << 1) | (1 - self._rx_vring)
        self._rq = _new_queue(layout, self._rx_vring, master)
        self._tq = _new_queue(layout, 1 - self._rx_vring, master)
        self._state = bytearray(layout.buffer_total)
        self._descs = bytearray(2 * layout.buffer_total)
        self._hdr = array("I", [0, 0, 0])
        self._lock = rl_env.new_lock()
        self._payload = config.payload_size
        self._buf_off = layout.buffers
        self._buf_size = layout.buffer_size
        self._consumed_notify = config.consumed_buffers_notification
        self._views = PayloadViews(
            shm, layout.buffers + HEADER_SIZE, layout.buffer_total, layout.buffer_size, config.payload_size
        )
        self._epts = {}
        self._alive = True
        self.unknown_dst = 0  # messages released because no endpoint had their dst
        self.callback_errors = 0  # callbacks that raised (their buffer was released)
        self.last_callback_error = None
        self.peer_restarts = 0  # times the master was seen formatting the rings again
        self._restart_listeners = []
        if attach:
            self._adopt_rings()
            self._up = True
        else:
            self._up = master
            if master:
                self._format()
        self._ever_up = self._up
        attach_irq = getattr(platform, "attach", None)
        if attach_irq:
            # Before the init kick: a remote must be listening before the
            # master's single notification (spec 6.3, pitfall 8).
            attach_irq(self)
        if master and not attach:
            # One notification on vring 0 means "master ready" (spec 6.1 step 9).
            self._kick(self._rq, self._rvec)

    # -- init ----------------------------------------------------------------

    def _format(self):
        """Write the initial image exactly as rpmsg_lite_master_init (spec 2.9)."""
        shm = self._shm
        lay = self.layout
        n = lay.count
        size = lay.buffer_size
        for geo in lay.vrings:
            vring.format_vring(shm, geo.desc, geo.avail, n, self.config.vring_fill)
        for v in (0, 1):
            geo = lay.vrings[v]
            for i in range(n):
                off = lay.buffer_offset(v * n + i)
                vring.zero(shm, off, size)
                vring.write_desc(shm, geo.desc, i, (lay.pa_base + off) & 0xFFFFFFFF, size)
                if v == 0:
                    # The remote's TX buffers wait in vring 0's avail ring.
                    vring.push_avail(shm, self._rq, i)
        # The master's own TX buffers start out "used", so that taking from
        # the used ring doubles as the TX allocator (spec 2.9).
        vring.fill_used(shm, lay.vrings[1].used, n, size)
        for q in (self._rq, self._tq):
            q[vring.Q_PROD_STATE] = vring.PROD_VALID

    def _adopt_rings(self):
        """Rebuild local consumer indices from formatted rings (attach).

        Invariants while nothing is held: the driver re-posts every buffer it
        takes, so for the master's rx ring avail.idx - cons == N and for its
        tx ring cons == avail.idx; the device reports every buffer it takes,
        so for the remote's rx ring used.idx - cons == N and for its tx ring
        cons == used.idx. Buffers held when the old instance died are simply
        delivered (rx) or reused (tx) again, so none is lost."""
        shm = self._shm
        lay = self.layout
        n = lay.count
        for v in (0, 1):
            geo = lay.vrings[v]
            for i in range(n):
                want = (lay.pa_base + lay.buffer_offset(v * n + i)) & 0xFFFFFFFF
                if vring.read32(shm, geo.desc + 16 * i) != want:
                    raise ValueError(
                        "shared memory does not hold a formatted RPMsg-Lite link: vring %d desc %d "
                        "addresses %#x, expected %#x (wrong config or pa_base?)"
                        % (v, i, vring.read32(shm, geo.desc + 16 * i), want)
                    )
        for q, rx in ((self._rq, True), (self._tq, False)):
            avail = vring.read16(shm, q[vring.Q_AVAIL] + 2)
            used = vring.read16(shm, q[vring.Q_USED] + 2)
            if self.role == MASTER:
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
            q[vring.Q_CONS] = cons

    # -- link state ----------------------------------------------------------

    def is_link_up(self):
        return self._up

    def wait_for_link_up(self, timeout_ms=BLOCK):
        """True once the link is up, False if timeout_ms passed first."""
        check_timeout(timeout_ms)
        if self._up or timeout_ms == 0:
            return self._up
        start = ticks_ms()
        while not self._up and self._alive:
            idle(self._platform, MS_PER_INTERVAL)
            if expired(start, timeout_ms):
                break
        return self._up

    def deinit(self):
        """Local teardown (rpmsg_lite_deinit): the link goes down and the
        platform stops delivering; shared memory is not touched and the peer
        is not told (RPMsg-Lite has no link-down message, spec 6.4)."""
        if not self._alive:
            return
        detach = getattr(self._platform, "detach", None)
        if detach:
            detach(self)
        self._up = False
        self._alive = False
        self._epts = {}
        self._views.release()  # drop exported views so an mmap can be closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()

    def _check_alive(self):
        if not self._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")

    # -- endpoints -----------------------------------------------------------

    def create_ept(self, addr, callback):
        """Register an endpoint at addr, or at the lowest free address from 1
        for ADDR_ANY (spec 4). callback(payload, src) -> RELEASE or HOLD."""
        self._check_alive()
        if not callable(callback):
            raise RPMsgError(ERR_PARAM, "the endpoint callback must be callable")
        if isinstance(callback, Queue) and callback.link is not self:
            raise RPMsgError(ERR_PARAM, "this Queue belongs to another link")
        epts = self._epts
        if addr == ADDR_ANY:
            addr = 1
            while addr in epts:
                addr += 1
        elif not isinstance(addr, int) or not 0 <= addr < ADDR_ANY:
            raise RPMsgError(ERR_PARAM, "endpoint address must be 0..0xFFFFFFFE or ADDR_ANY")
        elif addr in epts:
            raise RPMsgError(ERR_PARAM, "endpoint address %d is already in use" % addr)
        ept = Endpoint(self, addr, callback)
        epts[addr] = ept
        return ept

    def destroy_ept(self, ept):
        self._check_alive()
        if not isinstance(ept, Endpoint) or self._epts.get(ept.addr) is not ept:
            raise RPMsgError(ERR_PARAM, "not an endpoint of this link")
        del self._epts[ept.addr]

    def endpoint(self, addr):
        """The local endpoint at addr, or None."""
        return self._epts.get(addr)

    # -- sending -------------------------------------------------------------

    def _checked_source(self, ept):
        if not self._up:
            raise RPMsgError(NOT_READY, "link is down" if self._alive else "the link was deinitialised")
        if not isinstance(ept, Endpoint) or self._epts.get(ept.addr) is not ept:
            raise RPMsgError(ERR_PARAM, "not an endpoint of this link")
        return ept.addr

    def _take_tx(self, timeout_ms):
        # tx_alloc (spec 7.2): take a buffer the peer has handed back; poll
        # every RL_MS_PER_INTERVAL while none is free, up to timeout_ms.
        if timeout_ms != 0:
            check_timeout(timeout_ms)  # refuse a bad value even when not waiting
        shm = self._shm
        tq = self._tq
        b = take(shm, tq, self._state, self._descs, self._lock, _B_TX, self._hdr)
        while b == _BAD:
            b = take(shm, tq, self._state, self._descs, self._lock, _B_TX, self._hdr)
        if b == _RESTART:
            self._master_restarting()
        if b >= 0 or timeout_ms == 0:
            return b
        start = ticks_ms()
        while self._up:
            idle(self._platform, MS_PER_INTERVAL)
            b = take(shm, tq, self._state, self._descs, self._lock, _B_TX, self._hdr)
            if b >= 0:
                return b
            if b != _BAD and expired(start, timeout_ms):
                break
        return -1

    def _no_buffer(self, timeout_ms):
        if not self._up:
            return RPMsgError(NOT_READY, "link went down while waiting for a buffer")
        return RPMsgError(ERR_NO_MEM, "no free TX buffer within %d ms" % timeout_ms)

    def _kick(self, q, vector):
        # virtqueue_kick: notify unless the peer set VRING_USED_F_NO_NOTIFY.
        if must_notify(self._shm, q):
            self._notify(vector)

    def send(self, ept, dst, data, timeout_ms=BLOCK):
        """Copy ``data`` (bytes-like, at most payload_size) into a buffer and
        send it from endpoint ``ept`` to address ``dst`` (rpmsg_lite_send).
        Blocks up to timeout_ms for a free buffer: 0 = DONT_BLOCK, BLOCK =
        forever. Raises RPMsgError with ERR_BUFF_SIZE, NOT_READY, ERR_NO_MEM
        or ERR_PARAM."""
        n = len(data)
        if n > self._payload:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (n, self._payload))
        src = self._checked_source(ept)
        b = self._take_tx(timeout_ms)
        if b < 0:
            raise self._no_buffer(timeout_ms)
        h = self._buf_off + b * self._buf_size
        write_header(self._shm, h, src, dst, n)
        copy(self._shm, h + HEADER_SIZE, data, 0, n)
        r = give(self._shm, self._tq, self._state, self._descs, self._lock, b, _B_TX)
        if r > 0:
            self._notify(self._tvec)
        elif r == _GONE:
            raise _restarted(self)

    def alloc_tx_buffer(self, timeout_ms=BLOCK):
        """Zero-copy send, step 1: a payload_size memoryview inside a free
        TX buffer (rpmsg_lite_alloc_tx_buffer). Fill it, then send_nocopy."""
        if not self._up:
            raise RPMsgError(NOT_READY, "link is down" if self._alive else "the link was deinitialised")
        b = self._take_tx(timeout_ms)
        if b < 0:
            raise self._no_buffer(timeout_ms)
        stamp(self._shm, self._tq, self._state, self._descs, self._lock, b, _B_TX)
        return self._views.sized(b, self._payload)

    def send_nocopy(self, ept, dst, buf, size):
        """Zero-copy send, step 2: send ``size`` bytes of a buffer from
        alloc_tx_buffer. Afterwards the buffer belongs to the peer."""
        if size > self._payload or size < 0:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (size, self._payload))
        src = self._checked_source(ept)
        b = payload_buffer(self._shm, self._tq, buf)
        if b < 0 or self._state[b] != _B_TX:
            raise RPMsgError(ERR_PARAM, "not a buffer from this link's alloc_tx_buffer (or already sent)")
        write_header(self._shm, self._buf_off + b * self._buf_size, src, dst, size)
        r = give(self._shm, self._tq, self._state, self._descs, self._lock, b, _B_TX)
        if r == _GONE:
            raise _restarted(self)
        if r < 0:
            raise RPMsgError(ERR_PARAM, "buffer was sent concurrently")
        if r:
            self._notify(self._tvec)

    # -- receiving -----------------------------------------------------------

    def isr(self, vector_id):
        """Doorbell entry point (env_isr): the platform calls it with the
        vector id it received. Call it from a thread or a scheduled callback,
        never from a hard IRQ (callbacks run inside it)."""
        if (vector_id >> 1) != self.link_id or not self._alive:
            return
        if (vector_id & 1) == self._rx_vring:
            self._drain()
        else:
            # A notification on our TX vring: on the remote, the master's
            # init kick or a consumed-buffers kick brings the link up
            # (rpmsg_lite_tx_callback, spec 6.3); blocked senders simply
            # find the returned buffers on their next poll.
            if self.role == REMOTE:
                self._master_kick()
            self._up = self._ever_up = True

    # -- master restart (remote side) ------------------------------------------
    #
    # RPMsg-Lite has no restart support (spec pitfall 9, issue #11). When the
    # master formats the rings again while this remote keeps running, two
    # signs give it away without any field RPMsg-Lite does not have:
    #   * a ring index this side alone writes (used.idx of both vrings)
    #     changes under it: take() reports RESTART and the remote stops
    #     taking anything (the link is down) until...
    #   * ...a vring-0 notification finds the image a fresh format leaves in
    #     the remote-owned indices and the master's receive ring: vring 1
    #     used.idx = N, vring 0 used.idx = 0 and avail.idx = N. With
    #     consumed-buffer notifications off, vring-0 notifications are only
    #     ever init kicks, so a remote whose state is not fresh resets on that
    #     image even if no index of its own moved (it only held buffers).
    # The reset zeroes the local indices, gives every buffer back to the new
    # generation (held payloads and allocated TX buffers become invalid:
    # releasing or sending them is ERR_PARAM) and drops queued messages.

    def _master_restarting(self):
        for q in (self._rq, self._tq):
            q[vring.Q_PROD_STATE] = vring.PROD_FROZEN
        self._up = False

    def _fresh_image(self):
        n = self.layout.count
        shm = self._shm
        v0 = self.layout.vrings[0]
        v1 = self.layout.vrings[1]
        return (
            vring.read16(shm, v1.used + 2) == n
            and vring.read16(shm, v0.used + 2) == 0
            and vring.read16(shm, v0.avail + 2) == n
        )

    def _local_fresh(self):
        if self._rq[vring.Q_CONS] or self._tq[vring.Q_CONS]:
            return False
        for owner in self._state:
            if owner:
                return False
        return True

    def _master_kick(self):
        frozen = self._rq[vring.Q_PROD_STATE] == vring.PROD_FROZEN
        if not self._fresh_image():
            if frozen:
                self._up = False  # still formatting: wait for its init kick
            return
        if frozen or (not self._consumed_notify and not self._local_fresh()):
            for q in (self._rq, self._tq):
                q[vring.Q_CONS] = 0
                q[vring.Q_PROD_STATE] = vring.PROD_UNKNOWN
            state = self._state
            for b in range(len(state)):
                state[b] = _B_PEER
            if self._up or frozen and self._ever_up:
                self.peer_restarts += 1  # not the first link-up on stale memory
            for listener in self._restart_listeners:
                listener()

    def on_peer_restart(self, listener):
        """Call listener() whenever this remote resets after a master
        restart (e.g. a Queue dropping messages of the old generation)."""
        self._restart_listeners.append(listener)

    def poll(self):
        """Process received messages without waiting for a notification."""
        if self._alive:
            self._drain()

    def _drain(self):
        # rpmsg_lite_rx_callback (spec 7.4): deliver every pending message,
        # release it at once unless the callback holds it.
        shm = self._shm
        rq = self._rq
        state = self._state
        descs = self._descs
        lock = self._lock
        hdr = self._hdr
        epts = self._epts
        freed = 0
        while True:
            b = take(shm, rq, state, descs, lock, _B_HELD, hdr)
            if b < 0:
                if b == _BAD:
                    continue
                if b == _RESTART:
                    self._master_restarting()
                break
            ept = epts.get(hdr[1])
            if ept is None:
                # Unknown destination: released silently by RPMsg-Lite too.
                self.unknown_dst += 1
                r = 0
            else:
                try:
                    r = ept.callback(self._views.sized(b, hdr[2]), hdr[0])
                except Exception as e:
                    self.callback_errors += 1
                    self.last_callback_error = e
                    r = 0
            if r == HOLD:
                stamp(shm, rq, state, descs, lock, b, _B_HELD)
            else:
                r = give(shm, rq, state, descs, lock, b, _B_HELD)
                if r > 0:
                    freed += 1
                elif r == _GONE:
                    self._master_restarting()
        if freed and self._consumed_notify:
            # RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION: one kick per batch.
            self._notify(self._rvec)

    def release_rx_buffer(self, payload):
        """Give back a buffer whose callback returned HOLD."""
        if not self._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")
        b = payload_buffer(self._shm, self._rq, payload)
        if b < 0:
            raise RPMsgError(ERR_PARAM, "not a payload buffer of this link")
        r = give(self._shm, self._rq, self._state, self._descs, self._lock, b, _B_HELD)
        if r == _GONE:
            raise _restarted(self)
        if r < 0:
            raise RPMsgError(ERR_PARAM, "buffer is not held: released twice, or never received")
        if r and self._consumed_notify:
            self._notify(self._rvec)

    # -- name service --------------------------------------------------------

    def ns_announce(self, ept, name, flags=0, timeout_ms=BLOCK):
        """Announce (NS_CREATE) or withdraw (NS_DESTROY) ``ept`` under
        ``name`` to the peer's name service (rpmsg_ns_announce)."""
        nameservice.announce(self, ept, name, flags, timeout_ms)

    # -- introspection -------------------------------------------------------

    @property
    def payload_size(self):
        return self._payload

    @property
    def platform(self):
        return self._platform

    def free_tx_buffers(self):
        """TX buffers the peer has handed back and a send could take now
        (without raising or waiting)."""
        return vring.pending(self._shm, self._tq)

    def stats(self):
        """Counters of what this side dropped or survived, for diagnostics."""
        out = {
            "unknown_dst": self.unknown_dst,
            "callback_errors": self.callback_errors,
            "peer_restarts": self.peer_restarts,
            "rx_pending": vring.pending(self._shm, self._rq),
        }
        for prefix, q in (("rx_", self._rq), ("tx_", self._tq)):
            bad = 0
            for name, word in _DROP_COUNTERS:
                out[prefix + name] = q[word]
                if word != vring.Q_JUMP:
                    bad += q[word]
            out[prefix + "bad_entries"] = bad  # every entry dropped, any reason
            out[prefix + "own_index_repaired"] = q[vring.Q_OWN_REPAIRED]
        return out

    def __repr__(self):
        return "<RPMsgLite %s link %d %s>" % (
            "master" if self.role == MASTER else "remote",
            self.link_id,
            "up" if self._up else ("down" if self._alive else "deinitialised"),
        )
