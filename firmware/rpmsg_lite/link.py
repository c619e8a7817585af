"""One RPMsg-Lite link: the master or remote end of a shared region.

Role mapping (spec 1.5, 7.1): vring 0 carries remote->master traffic,
vring 1 master->remote. The master is the virtio driver of both (posts
buffers in avail, takes them back from used); the remote is the device.
Notifications carry the vring's vector id (link_id << 1) | vring (spec 6.5).

The per-message paths (send, _drain) are kept flat: on a Cortex-M every
call and attribute lookup costs tens to hundreds of instructions (README,
"Emulated Cortex-M"), so they make one viper call where they can and
leave waiting, errors and restarts to separate slow paths.
"""

from micropython import const
import uctypes

from . import env
from .env import BLOCK, check_timeout, expired, ticks_ms, MS_PER_INTERVAL
from . import vring
from .vring import take, give, stamp, payload_buffer, must_notify, TX, RX
from .vring import send as _vsend, publish as _vpublish
from . import rings
from .config import Config, HEADER_SIZE
from .layout import Layout
from .errors import RPMsgError, LayoutError, ERR_NO_MEM, ERR_BUFF_SIZE, ERR_PARAM, NOT_READY
from .endpoint import Endpoint, ADDR_ANY, HOLD
from .views import PayloadViews

MASTER = const(1)  # RL_MASTER
REMOTE = const(0)  # RL_REMOTE

# vring constants, repeated as private consts so they fold at compile time.
_B_PEER = const(0)
_B_HELD = const(1)
_B_TX = const(2)
_BAD = const(-2)
_RESTART = const(-4)
_GONE = const(-5)
_C_SRC = const(36)
_C_DST = const(37)
_C_LEN = const(38)
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


def _not_ours():
    return RPMsgError(ERR_PARAM, "not an endpoint of this link")


class RPMsgLite:
    """An RPMsg-Lite link over a shared-memory buffer.

    Create it with ``RPMsgLite.master(...)`` or ``RPMsgLite.remote(...)``,
    or through the port (``port.master()``). ``platform`` is a
    ``rpmsg_lite.port.Port``: it rings the peer (``notify``), routes the
    peer's doorbells to ``link.isr`` (``attach``/``detach``), lets time
    pass while a call blocks (``wait``) and supplies the link's ``Config``
    when none is given (``link_config``).
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
            config = platform.link_config(link_id) or Config()
        where = uctypes.addressof(shm)
        if where & 3:
            raise ValueError("shared memory must be word aligned (it is at %#x)" % where)
        pa_base = config.pa_base
        if pa_base is None:
            # A port whose cores see the region at different addresses
            # (the host port's processes) names the address both use.
            pa_base = getattr(platform, "pa_base", None)
        layout = Layout(config, where if pa_base is None else pa_base)
        layout.check_region(len(shm))
        self.config = config
        self.layout = layout
        self.link_id = link_id
        self.role = role
        self._shm = shm
        self._platform = platform
        self._notify = platform.notify
        master = role == MASTER
        # Our RX queue is vring 0 on the master, vring 1 on the remote.
        self._rx_vring = 0 if master else 1
        self._rvec = (link_id << 1) | self._rx_vring
        self._tvec = (link_id << 1) | (1 - self._rx_vring)
        ctx = vring.new_ctx(layout.buffer_total)
        for q, v in ((TX, 1 - self._rx_vring), (RX, self._rx_vring)):
            geo = layout.vrings[v]
            ctx[q + vring.Q_DESC] = geo.desc
            ctx[q + vring.Q_AVAIL] = geo.avail
            ctx[q + vring.Q_USED] = geo.used
            ctx[q + vring.Q_MASK] = layout.count - 1
            ctx[q + vring.Q_DRIVER] = 1 if master else 0
        ctx[vring.C_BUF_PA] = (layout.pa_base + layout.buffers) & 0xFFFFFFFF
        ctx[vring.C_BUF_OFF] = layout.buffers
        ctx[vring.C_BUF_SIZE] = layout.buffer_size
        ctx[vring.C_BUF_AREA] = layout.buffer_total * layout.buffer_size
        self._ctx = ctx
        self._lock = env.new_lock()
        self._payload = config.payload_size
        self._consumed_notify = config.consumed_buffers_notification
        self._views = PayloadViews(
            shm, layout.buffers + HEADER_SIZE, layout.buffer_total, layout.buffer_size, config.payload_size
        )
        self._views.share(ctx, ctx[vring.C_VIEWS], vring.C_LENW, vring.C_ADDR_SHIFT)
        # With the views resized by take(), a delivery just picks the view.
        self._view_list = self._views.full
        self._views_sized = ctx[vring.C_LENW] != 0
        self._epts = {}
        self._alive = True
        self.unknown_dst = 0  # messages released because no endpoint had their dst
        self.callback_errors = 0  # callbacks that raised (their buffer was released)
        self.last_callback_error = None
        self.peer_restarts = 0  # times the master was seen formatting the rings again
        # Why the link cannot come up (a remote that found the master's
        # rings laid out for other numbers), or None: see ``fault``.
        self._fault = None
        self._restart_listeners = []
        if attach:
            rings.check_formatted(shm, layout)
            self._adopt_indices()
            self._up = True
        else:
            self._up = master
            if master:
                # The exact image rpmsg_lite_master_init writes (spec 2.9).
                rings.format_master(shm, layout, config.vring_fill)
                ctx[RX + vring.Q_PROD] = layout.count  # vring 0 avail.idx
                for q in (TX, RX):
                    ctx[q + vring.Q_PROD_STATE] = vring.PROD_VALID
        self._ever_up = self._up
        # Before the init kick: a remote must be listening before the
        # master's single notification (spec 6.3, pitfall 8).
        platform.attach(self)
        if master and not attach and must_notify(shm, ctx, RX):
            # One notification on vring 0 means "master ready" (spec 6.1 step 9).
            self._notify(self._rvec)

    def _adopt_indices(self):
        """Rebuild local consumer indices from formatted rings (attach).

        Invariants while nothing is held: the driver re-posts every buffer it
        takes, so for the master's RX ring avail.idx - cons == N and for its
        TX ring cons == avail.idx; the device reports every buffer it takes,
        so for the remote's RX ring used.idx - cons == N and for its TX ring
        cons == used.idx. Buffers held when the old instance died are simply
        delivered (RX) or reused (TX) again, so none is lost."""
        shm = self._shm
        ctx = self._ctx
        n = self.layout.count
        for q, rx in ((RX, True), (TX, False)):
            avail = rings.read16(shm, ctx[q + vring.Q_AVAIL] + 2)
            used = rings.read16(shm, ctx[q + vring.Q_USED] + 2)
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
            ctx[q + vring.Q_CONS] = cons

    # -- link state ----------------------------------------------------------

    def is_link_up(self):
        return self._up

    def wait_for_link_up(self, timeout_ms=BLOCK):
        """True once the link is up, False if timeout_ms passed first."""
        check_timeout(timeout_ms)
        if not self._up and timeout_ms != 0:
            start = ticks_ms()
            while not self._up and self._alive and self._fault is None:
                self._platform.wait(MS_PER_INTERVAL)
                if expired(start, timeout_ms):
                    break
        if self._fault is not None and not self._up:
            raise LayoutError(self._fault)
        return self._up

    @property
    def fault(self):
        """Why messages cannot flow, in words, or None. On a remote whose
        Config does not match the rings the master formatted: "layout
        mismatch: ..." (the link stays down, wait_for_link_up and send raise
        LayoutError with it). On either side once the peer handed over ring
        entries that failed validation (counted in stats()): what was
        dropped, and that a layout mismatch is the usual cause."""
        if self._fault is not None:
            return self._fault
        ctx = self._ctx
        bad = []
        for what, q in (("received", RX), ("returned", TX)):
            n = ctx[q + vring.Q_BAD_DESC] + ctx[q + vring.Q_BAD_ADDR] + ctx[q + vring.Q_BAD_LEN]
            if n:
                bad.append("%d %s" % (n, what))
        if not bad:
            return None
        return (
            "the peer handed over ring entries that fail validation (%s buffers dropped, see stats()): a layout "
            "mismatch or a corrupted ring; both cores must use the same buffer count, payload size, VRING_ALIGN, "
            "VRING_SIZE and pa_base" % " and ".join(bad)
        )

    def _down_error(self):
        if self._fault is not None:
            return LayoutError(self._fault)
        return RPMsgError(NOT_READY, "link is down" if self._alive else "the link was deinitialised")

    def deinit(self):
        """Local teardown (rpmsg_lite_deinit): the link goes down and the
        platform stops delivering; shared memory is not touched and the peer
        is not told (RPMsg-Lite has no link-down message, spec 6.4)."""
        if not self._alive:
            return
        self._platform.detach(self)
        self._up = False
        self._alive = False
        for ept in self._epts.values():
            ept.link = None
        self._epts = {}
        self._ctx[vring.C_LENW] = 0  # never write to a view that is gone
        self._views.release()  # drop exported views so an mmap can be closed
        self._view_list = []

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
        # A receiver bound to a link (a Queue) serves only that link.
        if getattr(callback, "link", self) is not self:
            raise RPMsgError(ERR_PARAM, "this %s belongs to another link" % type(callback).__name__)
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
            raise _not_ours()
        del self._epts[ept.addr]
        ept.link = None  # sends from it are refused from now on

    def endpoint(self, addr):
        """The local endpoint at addr, or None."""
        return self._epts.get(addr)

    # -- sending -------------------------------------------------------------

    def _sender(self, ept, timeout_ms):
        # The checks every send makes, in RPMsg-Lite's order after the size
        # check: link up, then a valid endpoint (a destroyed one has no link).
        if not self._up:
            raise self._down_error()
        try:
            ours = ept.link is self
        except AttributeError:
            ours = False
        if not ours:
            raise _not_ours()
        if timeout_ms != 0 and timeout_ms is not BLOCK:
            check_timeout(timeout_ms)

    def _wait_for_tx(self, timeout_ms):
        # tx_alloc's wait (spec 7.2): poll every RL_MS_PER_INTERVAL for a
        # buffer the peer hands back, up to timeout_ms; raise when none came.
        # Returns when a buffer may be free; the caller tries again.
        if self._ctx[TX + vring.Q_PROD_STATE] == vring.PROD_FROZEN:
            self._master_restarting()
        if timeout_ms != 0 and self._up:
            start = ticks_ms()
            while self._up:
                self._platform.wait(MS_PER_INTERVAL)
                if vring.pending(self._shm, self._ctx, TX):
                    return start
                if expired(start, timeout_ms):
                    break
        if not self._up:
            if self._fault is not None:
                raise LayoutError(self._fault)
            raise RPMsgError(NOT_READY, "link went down while waiting for a buffer")
        fault = self.fault
        raise RPMsgError(ERR_NO_MEM, "no free TX buffer within %d ms%s" % (timeout_ms, "; " + fault if fault else ""))

    def send(self, ept, dst, data, timeout_ms=BLOCK):
        """Copy ``data`` (bytes-like, at most payload_size) into a buffer and
        send it from endpoint ``ept`` to address ``dst`` (rpmsg_lite_send).
        Blocks up to timeout_ms for a free buffer: 0 = DONT_BLOCK, BLOCK =
        forever. Raises RPMsgError with ERR_BUFF_SIZE, NOT_READY, ERR_NO_MEM
        or ERR_PARAM."""
        n = len(data)
        if n > self._payload:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (n, self._payload))
        try:
            ours = ept.link is self
        except AttributeError:
            ours = False
        if not ours or not self._up or (timeout_ms != 0 and timeout_ms is not BLOCK):
            self._sender(ept, timeout_ms)  # raises, or checks the timeout value
        r = _vsend(self._shm, self._ctx, self._lock, ept.addr, dst, data, n)
        while r < 0:
            if r == _GONE:
                raise self._restarted()
            self._wait_for_tx(timeout_ms)
            r = _vsend(self._shm, self._ctx, self._lock, ept.addr, dst, data, n)
        if r:
            self._notify(self._tvec)

    def _take_tx(self, timeout_ms):
        b = take(self._shm, self._ctx, self._lock, TX, _B_TX)
        while b < 0:
            if b != _BAD:
                self._wait_for_tx(timeout_ms)
            b = take(self._shm, self._ctx, self._lock, TX, _B_TX)
        return b

    def alloc_tx_buffer(self, timeout_ms=BLOCK):
        """Zero-copy send, step 1: a payload_size memoryview inside a free
        TX buffer (rpmsg_lite_alloc_tx_buffer). Fill it, then send_nocopy."""
        if not self._up:
            raise self._down_error()
        if timeout_ms != 0 and timeout_ms is not BLOCK:
            check_timeout(timeout_ms)
        b = self._take_tx(timeout_ms)
        stamp(self._shm, self._ctx, self._lock, b, _B_TX)  # as RPMsg-Lite (spec 7.3)
        return self._views.sized(b, self._payload)

    def send_nocopy(self, ept, dst, buf, size):
        """Zero-copy send, step 2: send ``size`` bytes of a buffer from
        alloc_tx_buffer. Afterwards the buffer belongs to the peer."""
        if size > self._payload or size < 0:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (size, self._payload))
        self._sender(ept, 0)
        b = payload_buffer(self._shm, self._ctx, buf)
        r = vring.NOT_MINE if b < 0 else _vpublish(self._shm, self._ctx, self._lock, b, ept.addr, dst, size)
        if r == _GONE:
            raise self._restarted()
        if r < 0:
            raise RPMsgError(ERR_PARAM, "not a buffer from this link's alloc_tx_buffer (or already sent)")
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
            if self.role == REMOTE and not self._master_kick():
                return
            self._up = self._ever_up = True

    def poll(self):
        """Process received messages without waiting for a notification."""
        if self._alive:
            self._drain()

    def _drain(self):
        # rpmsg_lite_rx_callback (spec 7.4): deliver every pending message,
        # release it at once unless the callback holds it.
        shm = self._shm
        ctx = self._ctx
        lock = self._lock
        epts = self._epts
        views = self._view_list
        sized = self._views_sized
        freed = 0
        while True:
            b = take(shm, ctx, lock, RX, _B_HELD)
            if b < 0:
                if b == _BAD:
                    continue
                if b == _RESTART:
                    self._master_restarting()
                break
            ept = epts.get(ctx[_C_DST])
            if ept is None:
                # Unknown destination: released silently by RPMsg-Lite too.
                self.unknown_dst += 1
                r = 0
            else:
                try:
                    if sized:
                        payload = views[b]
                    else:
                        payload = views[b][: ctx[_C_LEN]]
                    r = ept.callback(payload, ctx[_C_SRC])
                except Exception as e:
                    self.callback_errors += 1
                    self.last_callback_error = e
                    r = 0
            if r == HOLD:
                stamp(shm, ctx, lock, b, _B_HELD)
            else:
                r = give(shm, ctx, lock, RX, b, _B_HELD)
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
        b = payload_buffer(self._shm, self._ctx, payload)
        if b < 0:
            raise RPMsgError(ERR_PARAM, "not a payload buffer of this link")
        r = give(self._shm, self._ctx, self._lock, RX, b, _B_HELD)
        if r == _GONE:
            raise self._restarted()
        if r < 0:
            raise RPMsgError(ERR_PARAM, "buffer is not held: released twice, or never received")
        if r and self._consumed_notify:
            self._notify(self._rvec)

    # -- master restart (remote side) ------------------------------------------
    #
    # RPMsg-Lite has no restart support (spec pitfall 9, issue #11). When the
    # master formats the rings again while this remote keeps running, two
    # signs give it away without any field RPMsg-Lite does not have:
    #   * a ring index this side alone writes (used.idx of both vrings)
    #     changes under it, or the master's avail.idx leaves its 0..N window:
    #     vring reports RESTART and the remote stops taking and giving
    #     anything (the link is down) until...
    #   * ...a vring-0 notification finds the image a fresh format leaves in
    #     the remote-owned indices and the master's receive ring: vring 1
    #     used.idx = N, vring 0 used.idx = 0 and avail.idx = N. With
    #     consumed-buffer notifications off, vring-0 notifications are only
    #     ever init kicks, so a remote whose state is not fresh resets on that
    #     image even if no index of its own moved (it only held buffers).
    # The reset zeroes the local indices, gives every buffer back to the new
    # generation (held payloads and allocated TX buffers become invalid:
    # releasing or sending them is ERR_PARAM) and drops queued messages.

    def _restarted(self):
        self._master_restarting()
        return RPMsgError(NOT_READY, "the master restarted: this buffer belonged to the previous link")

    def _master_restarting(self):
        for q in (TX, RX):
            self._ctx[q + vring.Q_PROD_STATE] = vring.PROD_FROZEN
        self._up = False

    def _fresh_image(self):
        n = self.layout.count
        shm = self._shm
        v0 = self.layout.vrings[0]
        v1 = self.layout.vrings[1]
        return (
            rings.read16(shm, v1.used + 2) == n
            and rings.read16(shm, v0.used + 2) == 0
            and rings.read16(shm, v0.avail + 2) == n
        )

    def _local_fresh(self):
        ctx = self._ctx
        if ctx[TX + vring.Q_CONS] or ctx[RX + vring.Q_CONS]:
            return False
        for b in range(self.layout.buffer_total):
            if vring.owner(ctx, b) != _B_PEER:
                return False
        return True

    def _master_kick(self):
        # A vring-0 notification from the master; returns whether the link
        # may (stay) up.
        ctx = self._ctx
        frozen = ctx[RX + vring.Q_PROD_STATE] == vring.PROD_FROZEN
        if not self._up or frozen:
            # Coming up: the master's descriptors show whether it formatted
            # the region for our numbers. If not, every entry would fail
            # validation and be lost, so stay down and say why.
            self._fault = rings.format_fault(self._shm, self.layout)
            if self._fault is not None:
                self._master_restarting()  # take and give nothing
                return False
        if not self._fresh_image():
            if frozen:
                self._up = False  # still formatting: wait for its init kick
                return False
            return True
        if frozen or (not self._consumed_notify and not self._local_fresh()):
            for q in (TX, RX):
                ctx[q + vring.Q_CONS] = 0
                ctx[q + vring.Q_PROD_STATE] = vring.PROD_UNKNOWN
            first = ctx[vring.C_STATE] >> 2
            for w in range(first, ctx[vring.C_DESCS] >> 2):
                ctx[w] = 0  # every buffer B_PEER
            if self._up or frozen and self._ever_up:
                self.peer_restarts += 1  # not the first link-up on stale memory
            for listener in self._restart_listeners:
                listener()
        return True

    def on_peer_restart(self, listener):
        """Call listener() whenever this remote resets after a master
        restart (e.g. a Queue dropping messages of the old generation)."""
        self._restart_listeners.append(listener)

    # -- name service --------------------------------------------------------

    def ns_announce(self, ept, name, flags=0, timeout_ms=BLOCK):
        """Announce (NS_CREATE) or withdraw (NS_DESTROY) ``ept`` under
        ``name`` to the peer's name service (rpmsg_ns_announce)."""
        from .nameservice import announce

        announce(self, ept, name, flags, timeout_ms)

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
        return vring.pending(self._shm, self._ctx, TX)

    def stats(self):
        """Counters of what this side dropped or survived, for diagnostics."""
        ctx = self._ctx
        out = {
            "unknown_dst": self.unknown_dst,
            "callback_errors": self.callback_errors,
            "peer_restarts": self.peer_restarts,
            "rx_pending": vring.pending(self._shm, ctx, RX),
        }
        for prefix, q in (("rx_", RX), ("tx_", TX)):
            bad = 0
            for name, word in _DROP_COUNTERS:
                out[prefix + name] = ctx[q + word]
                if word != vring.Q_JUMP:
                    bad += ctx[q + word]
            out[prefix + "bad_entries"] = bad  # every entry dropped, any reason
            out[prefix + "own_index_repaired"] = ctx[q + vring.Q_OWN_REPAIRED]
        return out

    def __repr__(self):
        return "<RPMsgLite %s link %d %s>" % (
            "master" if self.role == MASTER else "remote",
            self.link_id,
            "up" if self._up else ("down" if self._alive else "deinitialised"),
        )
