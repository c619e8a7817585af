"""One RPMsg-Lite link: the master or remote end of a shared region.

Role mapping (docs/protocol.md#vrings; rpmsg_lite.c
rpmsg_lite_master_init): vring 0 carries remote->master traffic, vring 1
master->remote. The master is the virtio driver of both (posts buffers in
avail, takes them back from used); the remote is the device. Notifications
carry the vring's vector id (link_id << 1) | vring (rpmsg_lite.c
RL_GET_VQ_ID).

The per-message paths (send, isr) are kept flat: on a Cortex-M every call
and attribute lookup costs tens to hundreds of instructions (README,
"Emulated Cortex-M"), so each makes one viper call (vring.send,
vring.drain) and leaves waiting, errors and restarts to slow paths.
"""

from micropython import const
import uctypes

from . import env
from .env import BLOCK, check_timeout, expired, ticks_ms, MS_PER_INTERVAL
from array import array

from . import vring
from .vring import send as _vsend, deliver as _vdeliver, release as _vrelease
from .vring import alloc as _valloc, publish as _vpublish, put as _vput
from . import rings
from .config import Config, HEADER_SIZE
from .layout import Layout
from .errors import RPMsgError, LayoutError, ERR_NO_MEM, ERR_BUFF_SIZE, ERR_PARAM, NOT_READY
from .endpoint import Endpoint, ADDR_ANY
from .views import payload_views

MASTER = const(1)  # RL_MASTER
REMOTE = const(0)  # RL_REMOTE

# Results of vring's calls that the link tells apart (same values as vring's
# private ones; host_tests check they agree).
_EMPTY = const(-1)
_JUMP = const(-3)
_RESTART = const(-4)
_GONE = const(-5)
_DOWN = const(-7)
_TOO_BIG = const(-8)
_MAX_LINK_ID = const(0x7FFF)  # RL_PLATFORM_HIGHEST_LINK_ID upper bound (rpmsg_platform.h)
_SMALL = const(30)  # dst >> _SMALL == 0: a small int in range, checked no further

# Cached builtins: a module global is found faster than a builtin.
_len = len
_type = type
_str = str


def _print_error(link, exc):
    # The default callback-error handler: print it, as asyncio's default
    # exception handler does, and carry on delivering.
    import sys

    print("rpmsg_lite: an endpoint callback raised (link %d):" % link.link_id)
    pe = getattr(sys, "print_exception", None)
    if pe is not None:
        pe(exc)
    else:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


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

    # Defaults kept in the class, not in each link's attribute dict: an
    # instance dict of at most 17 entries is a third smaller on the heap
    # (py/map.c hash_allocation_sizes), and these are rarely set.
    _alive = True
    _ever_up = False  # a remote that was up once (set only on remotes)
    _fault = None  # why the link cannot come up, see ``fault``
    _restart_listeners = ()
    _error_handler = staticmethod(_print_error)
    callback_errors = 0  # callbacks that raised (their buffer was released)
    last_callback_error = None
    peer_restarts = 0  # times the master was seen formatting the rings again

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
        # What vring.send() rings: the port's doorbell FIFO if it has one
        # (port.py "doorbell_fifo"), else its notify.
        bell = getattr(platform, "doorbell_fifo", None)
        self._bell = platform.notify if bell is None else bell
        master = role == MASTER
        # Our RX queue is vring 0 on the master, vring 1 on the remote:
        # vring 1 - role.
        self._rvec = (link_id << 1) | (1 - role)
        self._tvec = (link_id << 1) | role
        # With the views resized by drain(), a delivery just picks the view.
        views, addrs, len_word = payload_views(
            shm, layout.buffers + HEADER_SIZE, layout.buffer_total, layout.buffer_size, config.payload_size
        )
        ctx = vring.new_ctx(layout, master, config.payload_size, addrs, len_word)
        vring.options(ctx, config.consumed_buffers_notification, config.doorbell_suppression, platform.rests)
        self._ctx = ctx
        self._lock = lock = env.new_lock()
        vring.doorbell(ctx, self._tvec, bell is not None, lock is not None)
        self._payload = config.payload_size
        self._consumed_notify = config.consumed_buffers_notification  # (read per release)
        self._epts = {}
        self._table = [array("I", [0])] + views  # what drain() looks endpoints up in
        if attach:
            rings.check_formatted(shm, layout)
            self._adopt_indices()
            self._up = True
        else:
            self._up = master
            if master:
                # The exact image rpmsg_lite_master_init writes (docs/protocol.md#layout).
                rings.format_master(shm, layout, config.vring_fill)
                vring.formatted(ctx, layout.count)
        if self._up and role == REMOTE:
            self._ever_up = True
        # Before the init kick: a remote must be listening before the
        # master's single notification (docs/protocol.md#link-up).
        platform.attach(self)
        if master and not attach and vring.must_notify(shm, ctx, 1):
            # One notification on vring 0 means "master ready" (rpmsg_lite.c rpmsg_lite_master_init).
            self._platform.notify(self._rvec)

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
        for rx in (True, False):
            a, u = vring.ring_fields(ctx, rx)
            avail = rings.read16(shm, a + 2)
            used = rings.read16(shm, u + 2)
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
            vring.set_consumer(ctx, rx, cons)

    # -- link state ----------------------------------------------------------

    @property
    def _up(self):
        return vring.is_up(self._ctx)

    @_up.setter
    def _up(self, up):
        vring.set_up(self._ctx, up)

    @property
    def unknown_dst(self):
        """Messages released because no endpoint had their dst."""
        return vring.unknown_dst(self._ctx)

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
        bad = []
        for what, rx in (("received", True), ("returned", False)):
            n = sum(vring.counters(self._ctx, rx)[:3])  # bad_desc, bad_addr, bad_len
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
        is not told (RPMsg-Lite has no link-down message: rpmsg_lite.c rpmsg_lite_deinit)."""
        if not self._alive:
            return
        self._platform.detach(self)
        self._up = False
        self._alive = False
        self._rvec = -1  # isr() delivers nothing from now on
        for ept in self._epts.values():
            ept.link = None
        self._epts = {}
        vring.unsized(self._ctx)  # never write to a view that is gone
        self._tables([])  # drop exported views so an mmap can be closed

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
        for ADDR_ANY (rpmsg_lite.c rpmsg_lite_create_ept). callback(payload, src) -> RELEASE or HOLD."""
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
        self._tables()
        return ept

    def _tables(self, views=None):
        # drain()'s endpoint table, swapped in as one object: the address
        # count and addresses, then each endpoint's callback, then the
        # payload view of each buffer (see _view).
        epts = self._epts
        if views is None:
            old = self._table
            views = old[1 + old[0][0] :]
        table = [array("I", [len(epts)] + list(epts))]
        for addr in epts:
            table.append(epts[addr].callback)
        self._table = table + views

    def _view(self, b):
        table = self._table
        return table[1 + table[0][0] + b]

    def destroy_ept(self, ept):
        self._check_alive()
        if not isinstance(ept, Endpoint) or self._epts.get(ept.addr) is not ept:
            raise _not_ours()
        del self._epts[ept.addr]
        self._tables()
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

    def _check_send(self, ept, dst, data, timeout_ms):
        # Everything send() refuses, checked before a buffer is taken so a
        # call that raises changes nothing (rpmsg_lite_send's order: size,
        # link up, endpoint; then what C's types rule out: data and dst).
        if isinstance(data, str):
            raise TypeError("data must be a bytes-like object (bytes, bytearray, memoryview), not str")
        n = len(data)
        if n > self._payload:
            raise RPMsgError(ERR_BUFF_SIZE, "%d bytes exceed the %d-byte payload" % (n, self._payload))
        self._sender(ept, timeout_ms)
        if not isinstance(dst, int) or not 0 <= dst <= 0xFFFFFFFF:
            raise RPMsgError(ERR_PARAM, "dst must be an address 0..0xFFFFFFFF, got %r" % (dst,))

    def _wait_for_tx(self, timeout_ms):
        # tx_alloc's wait (rpmsg_lite.c rpmsg_lite_alloc_tx_buffer): poll
        # every RL_MS_PER_INTERVAL for a buffer the peer hands back, up to
        # timeout_ms; raise when none came. Returns when a buffer may be
        # free; the caller tries again.
        if vring.frozen(self._ctx, False):
            self._master_restarting()
        if timeout_ms != 0 and self._up:
            start = ticks_ms()
            while self._up:
                self._platform.wait(MS_PER_INTERVAL)
                if vring.pending(self._shm, self._ctx, 0):
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
        or ERR_PARAM, TypeError for data that is not bytes-like; a call that
        raises has taken no buffer."""
        # One viper call checks, sends and rings the peer; anything unusual
        # (a check failing, no free buffer) goes to the slow path. (Kept to
        # at most 11 words of locals and stack: a bigger frame is taken from
        # the heap on every call, py/objfun.c VM_MAX_STATE_ON_STACK.)
        if _vsend(self, ept, dst, data, timeout_ms):
            self._send_slow(ept, dst, data, timeout_ms)

    def _send_slow(self, ept, dst, data, timeout_ms):
        self._check_send(ept, dst, data, timeout_ms)  # raises for what the fast path refused
        while True:
            r = _vsend(self, ept, dst, data, self)  # (the link: arguments checked)
            if r >= 0:
                return
            if r == _DOWN or r == _TOO_BIG:
                self._check_send(ept, dst, data, timeout_ms)  # raises
            if r == _RESTART:
                self._master_restarting()
            self._wait_for_tx(timeout_ms)

    def alloc_tx_buffer(self, timeout_ms=BLOCK):
        """Zero-copy send, step 1: a payload_size memoryview inside a free
        TX buffer (rpmsg_lite_alloc_tx_buffer). Fill it, then send_nocopy."""
        if timeout_ms != 0 and timeout_ms is not BLOCK and (_type(timeout_ms) is not int or timeout_ms >> _SMALL):
            check_timeout(timeout_ms)
        b = _valloc(self._shm, self._ctx, self._lock)
        while b < 0:
            if b == _DOWN:
                raise self._down_error()
            if b == _RESTART:
                self._master_restarting()
            self._wait_for_tx(timeout_ms)
            b = _valloc(self._shm, self._ctx, self._lock)
        return self._view(b)  # payload_size long (vring.alloc set it)

    def send_nocopy(self, ept, dst, buf, size):
        """Zero-copy send, step 2: send ``size`` bytes of a buffer from
        alloc_tx_buffer. Afterwards the buffer belongs to the peer."""
        if _vpublish(self, ept, dst, buf, size):
            self._nocopy_slow(ept, dst, buf, size)

    def _nocopy_slow(self, ept, dst, buf, size):
        if not isinstance(size, int) or size > self._payload or size < 0:
            raise RPMsgError(ERR_BUFF_SIZE, "%r bytes exceed the %d-byte payload" % (size, self._payload))
        self._sender(ept, 0)
        if not isinstance(dst, int) or not 0 <= dst <= 0xFFFFFFFF:
            raise RPMsgError(ERR_PARAM, "dst must be an address 0..0xFFFFFFFF, got %r" % (dst,))
        r = _vput(self._shm, self._ctx, self._lock, buf, ept.addr, dst, size)
        if r > 0:
            self._platform.notify(self._tvec)
        elif r == _GONE:
            raise self._restarted()
        elif r < 0:
            raise RPMsgError(ERR_PARAM, "not a buffer from this link's alloc_tx_buffer (or already sent)")

    # -- receiving -----------------------------------------------------------

    def isr(self, vector_id):
        """Doorbell entry point (env_isr): the platform calls it with the
        vector id it received. Call it from a thread or a scheduled callback,
        never from a hard IRQ (callbacks run inside it). (Ports reach
        vring.drain directly through Port.dispatch.)"""
        if vector_id != self._rvec:
            return self._other_vector(vector_id)
        # rpmsg_lite_rx_callback: one viper call delivers every pending
        # message; a callback that raises goes to _callback_failed.
        _vdeliver(self)

    def _other_vector(self, vector_id):
        if (vector_id >> 1) != self.link_id or not self._alive or (vector_id & 1) != self.role:
            return
        # A notification on our TX vring: on the remote, the master's init
        # kick or a consumed-buffers kick brings the link up
        # (rpmsg_lite.c rpmsg_lite_tx_callback); blocked senders simply find
        # the returned buffers on their next poll.
        if self.role == REMOTE:
            if not self._master_kick():
                return
            self._ever_up = True
        self._up = True

    def _drained(self, r):
        if r == _RESTART:
            self._master_restarting()
        elif r > 0 and self._consumed_notify:
            # RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION: one kick per batch.
            self._platform.notify(self._rvec)

    def _callback_failed(self, exc):
        # A callback raised inside drain(): its buffer is still held. Give it
        # back, count, and report through the handler.
        b = vring.abandon(self._ctx)
        if b >= 0:
            r = _vrelease(self._shm, self._ctx, self._lock, self._shm, b)
            if r == _GONE:
                self._master_restarting()
            elif r >= 0 and self._consumed_notify:
                self._platform.notify(self._rvec)
        self.callback_errors += 1
        self.last_callback_error = exc
        handler = self._error_handler
        if handler is not None:
            handler(self, exc)

    def set_callback_error_handler(self, handler):
        """Call handler(link, exception) when an endpoint callback raises
        (its message is released and delivery goes on). The default prints
        the exception (sys.print_exception), as asyncio's default exception
        handler does; None keeps only callback_errors / last_callback_error."""
        self._error_handler = handler

    def poll(self):
        """Process received messages without waiting for a notification."""
        if self._alive:
            self.isr(self._rvec)

    def rest(self):
        """The port is about to sleep: with doorbell suppression, let the
        peer ring again (clear NO_NOTIFY) and deliver what came meanwhile.
        Returns how many messages were pending (0: safe to sleep)."""
        # Only while up: a remote's rest() before the master's init kick is
        # taken from the doorbell FIFO would deliver messages to endpoints
        # that cannot answer yet (sends refuse a link that is down).
        n = vring.rest(self._shm, self._ctx, self._lock) if self._up else 0
        if n:
            self.isr(self._rvec)
        return n

    def release_rx_buffer(self, payload):
        """Give back a buffer whose callback returned HOLD."""
        r = _vrelease(self._shm, self._ctx, self._lock, payload, -1)
        if r >= 0:
            # (r is 0 when our own doorbell suppression has NO_NOTIFY set on
            # this ring: that flag is for the peer's sends, not this kick.)
            if self._consumed_notify:
                self._platform.notify(self._rvec)
            return
        if not self._alive:
            raise RPMsgError(ERR_PARAM, "the link was deinitialised")
        if r == _GONE:
            raise self._restarted()
        raise RPMsgError(ERR_PARAM, "buffer is not held: released twice, never received, or not of this link")

    # -- master restart (remote side) ------------------------------------------
    #
    # RPMsg-Lite has no restart support (its issue #11). When the
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
        vring.freeze(self._ctx)
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

    def _master_kick(self):
        # A vring-0 notification from the master; returns whether the link
        # may (stay) up.
        ctx = self._ctx
        frozen = vring.frozen(ctx, True)
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
        if frozen or (not self._consumed_notify and not vring.fresh(ctx)):
            vring.reset(ctx)
            if self._up or frozen and self._ever_up:
                self.peer_restarts += 1  # not the first link-up on stale memory
            for listener in self._restart_listeners:
                listener()
        return True

    def on_peer_restart(self, listener):
        """Call listener() whenever this remote resets after a master
        restart (e.g. a Queue dropping messages of the old generation)."""
        self._restart_listeners += (listener,)  # (a tuple: see the class defaults)

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
        return vring.pending(self._shm, self._ctx, 0)

    def stats(self):
        """Counters of what this side dropped or survived, for diagnostics,
        and the messages and doorbells it sent."""
        ctx = self._ctx
        out = {
            "unknown_dst": self.unknown_dst,
            "callback_errors": self.callback_errors,
            "peer_restarts": self.peer_restarts,
            "rx_pending": vring.pending(self._shm, ctx, 1),
        }
        for prefix, rx in (("rx_", True), ("tx_", False)):
            values = vring.counters(ctx, rx)
            bad = 0
            for i in range(len(values)):
                name = vring.COUNTERS[i]
                out[prefix + name] = values[i]
                if i < 5:  # every entry dropped, any reason (not index jumps)
                    bad += values[i]
            out[prefix + "bad_entries"] = bad
        del out["rx_doorbells"]  # drain() rings nothing per message
        return out

    def __repr__(self):
        return "<RPMsgLite %s link %d %s>" % (
            "master" if self.role == MASTER else "remote",
            self.link_id,
            "up" if self._up else ("down" if self._alive else "deinitialised"),
        )
