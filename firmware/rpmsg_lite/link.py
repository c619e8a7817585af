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

Only what a running link with callbacks needs is here. Bring-up (checks,
geometry, the init image, the link-up check) is bringup.py, run through
env.bring_up, which drops it again; every other method (stats, fault,
waits, errors, restart recovery, zero-copy, HOLD release, deinit...) is in
slowpath.py, which ``__getattr__`` loads on first use and copies onto the
class (README, "Footprint").
"""

from micropython import const

from .env import BLOCK, bring_up, load
from array import array

from . import vring
from .vring import send as _vsend, deliver as _vdeliver
from .endpoint import Endpoint, ADDR_ANY

MASTER = const(1)  # RL_MASTER
REMOTE = const(0)  # RL_REMOTE

# Results of vring's calls that the link tells apart (same values as vring's
# private ones; host_tests check they agree).
_RESTART = const(-4)


class RPMsgLite:
    """An RPMsg-Lite link over a shared-memory buffer.

    Create it with ``RPMsgLite.master(...)`` or ``RPMsgLite.remote(...)``,
    or through the port (``port.master()``). ``platform`` is a
    ``rpmsg_lite.port.Port``: it rings the peer (``notify``), routes the
    peer's doorbells to ``link.isr`` (``attach``/``detach``), lets time
    pass while a call blocks (``wait``) and supplies the link's ``Config``
    when none is given (``link_config``).

    Methods not defined here (``stats``, ``fault``, ``wait_for_link_up``,
    ``deinit``, ``release_rx_buffer``, ``on_peer_restart``, ``ns_announce``,
    ``layout``...) are in slowpath.py: the first use of one loads them.
    """

    # Defaults kept in the class, not in each link's attribute dict (see
    # bringup.init: its size matters), as they are rarely set.
    _alive = True
    _ever_up = False  # a remote that was up once (set only on remotes)
    _fault = None  # why the link cannot come up, see ``fault``
    _restart_listeners = ()
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
        bring_up("init", self, shm, platform, config, link_id, role, attach)

    def __getattr__(self, name):
        # Only for names not found on the link or its class: load
        # slowpath.py and put ALL its methods and properties on the class at
        # once, so that from then on dir(), help() and super() see the whole
        # class, as if it had been defined in one piece.
        if name[:2] == "__":
            raise AttributeError(name)
        slow = load("slowpath", "RPMsgLite")
        have = dir(RPMsgLite)
        for k in dir(slow):
            if k[:2] != "__" and k not in have:
                setattr(RPMsgLite, k, getattr(slow, k))
        if name not in dir(slow):
            raise AttributeError(name)
        return getattr(self, name)

    # -- link state ----------------------------------------------------------

    @property
    def link_id(self):
        return self._tvec >> 1

    @property
    def role(self):
        """MASTER or REMOTE."""
        return self._tvec & 1

    @property
    def _up(self):
        return vring.is_up(self._ctx)

    @_up.setter
    def _up(self, up):
        vring.set_up(self._ctx, up)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()

    # -- endpoints -----------------------------------------------------------

    def create_ept(self, addr, callback):
        """Register an endpoint at addr, or at the lowest free address from 1
        for ADDR_ANY (rpmsg_lite.c rpmsg_lite_create_ept). callback(payload, src) -> RELEASE or HOLD."""
        epts = self._epts
        if addr == ADDR_ANY:
            addr = 1
            while addr in epts:
                addr += 1
        # A receiver bound to a link (a Queue) serves only that link.
        if (
            not self._alive
            or not callable(callback)
            or getattr(callback, "link", self) is not self
            or type(addr) is not int
            or not 0 <= addr < ADDR_ANY
            or addr in epts
        ):
            self._bad_ept(addr, callback)  # raises
        ept = Endpoint(self, addr, callback)
        epts[addr] = ept
        self._tables(epts)
        return ept

    @property
    def _epts(self):
        # {address: Endpoint}, made from _table, whose last entries are the
        # endpoints (a link keeps no dict of its own: see bringup.init).
        t = self._table
        out = {}
        for ept in t[len(t) - t[0][0] :]:
            out[ept.addr] = ept
        return out

    def _tables(self, epts, views=None):
        # drain()'s endpoint table, swapped in as one object: the address
        # count and addresses, then each endpoint's callback, then the
        # payload view of each buffer (see _view), then the endpoints.
        if views is None:
            old = self._table
            n = old[0][0]
            views = old[1 + n : len(old) - n]
        table = [array("I", [len(epts)] + list(epts))]
        for addr in epts:
            table.append(epts[addr].callback)
        self._table = table + views + list(epts.values())

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
        if vector_id != self._tvec or not self._alive:
            return
        # A notification on our TX vring: on the remote, the master's init
        # kick or a consumed-buffers kick brings the link up
        # (rpmsg_lite.c rpmsg_lite_tx_callback); blocked senders simply find
        # the returned buffers on their next poll.
        if vector_id & 1 == REMOTE:
            if not self._master_kick():
                return
            self._ever_up = True
        self._up = True

    def _master_kick(self):
        # A vring-0 notification from the master; returns whether the link
        # may (stay) up. Coming up (or back after a restart): bringup.link_up
        # checks the master's image. While up, with consumed-buffer kicks
        # off, vring-0 kicks are init kicks only: the master restarted?
        if not self._up or vring.frozen(self._ctx, True):
            return bring_up("link_up", self)
        if not self._consumed_notify:
            self._restarted_while_up()
        return True

    def _drained(self, r):
        # A non-zero drain() result (vring.deliver / vring.route call this).
        if r == _RESTART:
            self._master_restarting()
        elif r > 0:
            # RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION (drain() counts freed
            # buffers only then): one kick per batch.
            self._platform.notify(self._rvec)

    def __repr__(self):
        return self._repr()
