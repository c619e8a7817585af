"""Loopback platform: both ends of a link in one interpreter.

Each side's doorbell is a mailbox FIFO of vector ids (like the named FIFOs
of the host port or a hardware mailbox): notify() queues a vector for the
other side, deliver() hands queued vectors to that side's links, in order.
Nothing happens on its own, so tests decide exactly when each core "takes
its interrupt" and scenarios are deterministic.

The mailboxes are fixed rings, so notifying allocates nothing (the heap-lock
tests run through here). A full mailbox drops the vector and counts it:
like a coalesced interrupt, that is harmless because one delivery makes the
receiver scan the whole ring. Each side's ``doorbell_fifo`` is the peer's mailbox
(the FIFO layout of port.py), so a send posts its vector there itself;
deliver() takes vectors out in order and hands each to Port's routing.
"""

from array import array
import micropython
from micropython import const

from rpmsg_lite import env
from rpmsg_lite.port import Port
from rpmsg_lite.vring import route as _route

_MAILBOX = const(64)  # a power of two: indices wrap with a mask
# Mailbox words (port.py, "doorbell_fifo"): head, count, vectors lost to a full
# mailbox, mask, then the FIFO.
_HEAD = const(0)
_COUNT = const(1)
_LOST = const(2)
_MASK = const(3)
_FIFO = const(4)


@micropython.viper
def _post(box, vector_id: int):
    # Queue a vector in a side's mailbox: what the other core's doorbell
    # write does. Allocation-free (the heap-lock tests send through here).
    m = ptr32(box)
    n = m[_COUNT]
    if n == _MAILBOX:
        m[_LOST] += 1
    else:
        m[_FIFO + ((m[_HEAD] + n) & (_MAILBOX - 1))] = vector_id
        m[_COUNT] = n + 1


@micropython.viper
def _pop(box) -> int:
    # The oldest queued vector, or -1: what taking the interrupt does.
    m = ptr32(box)
    if m[_COUNT] == 0:
        return -1
    head = m[_HEAD]
    m[_HEAD] = (head + 1) & (_MAILBOX - 1)
    m[_COUNT] -= 1
    return m[_FIFO + head]


class _Side(Port):
    """The port one core's links are created with."""

    def __init__(self, loop, name):
        Port.__init__(self)
        self.loop = loop
        self.name = name
        self.peer = self  # Loopback pairs the two sides right after creating them
        self._box = array("I", [0] * (_FIFO + _MAILBOX))
        self._box[_MASK] = _MAILBOX - 1
        self._peer_box = self._box
        if loop.log is not None:
            self.notify = self._notify_logged
            self.deliver = self._deliver_logged

    # -- the platform contract ------------------------------------------------

    def notify(self, vector_id):
        # Rings the peer: a vector queued in its mailbox. Sends post into
        # doorbell_fifo (the same mailbox) themselves; this serves the other
        # kicks (link-up, consumed buffers, logging).
        _post(self._peer_box, vector_id)

    def _notify_logged(self, vector_id):
        self.loop._record("notify", self, vector_id)
        _post(self._peer_box, vector_id)

    def service(self):
        # The polling entry of the contract (e.g. rpmsg_lite.aio.serve).
        return self.deliver()

    def wait(self, ms):
        # A blocked caller on either core lets both cores take their
        # interrupts; only if nothing was pending does time pass.
        if not self.loop.deliver():
            env.sleep_ms(ms)

    # -- test control --------------------------------------------------------

    @property
    def dropped(self):
        """Notifications lost to a full mailbox."""
        return self._box[_LOST]

    def post(self, vector_id):
        """Queue a notification for this side as if the other core sent it
        (also used for a peer this process does not run, e.g. C firmware
        whose shared-memory image a test starts from)."""
        _post(self._box, vector_id)

    def pending(self):
        """Vectors waiting in this side's mailbox, oldest first."""
        box = self._box
        return [box[_FIFO + ((box[_HEAD] + i) & (_MAILBOX - 1))] for i in range(box[_COUNT])]

    @micropython.viper
    def deliver(self) -> int:
        """Deliver queued notifications to this side's links (FIFO order),
        as taking the interrupt would. Returns how many were taken from the
        mailbox. (A viper method: one native call per delivery.)"""
        m = ptr32(self._box)
        done = 0
        while m[_COUNT]:
            head = m[_HEAD]
            m[_HEAD] = (head + 1) & (_MAILBOX - 1)
            m[_COUNT] -= 1
            done += 1
            # (the routes are read per vector: a callback may attach or
            # detach a link)
            _route(self._routes, m[_FIFO + head])
        return done

    def _deliver_logged(self):
        done = 0
        while True:
            vector = _pop(self._box)
            if vector < 0:
                break
            done += 1
            self.loop._record("isr", self, vector)
            self.dispatch(vector)
        return done


class Loopback:
    """Two cores in one process: ``loop.master`` and ``loop.remote`` are
    the platform objects to create each side's link with.

    With ``record=True`` every notification and delivery is appended to
    ``loop.log`` as (event, direction, vector): event is "notify" (sent,
    platform_notify) or "isr" (delivered, env_isr); direction is
    "master->remote" or "remote->master".
    """

    def __init__(self, record=False):
        self.log = [] if record else None
        self.master = _Side(self, "master")
        self.remote = _Side(self, "remote")
        for side, peer in ((self.master, self.remote), (self.remote, self.master)):
            side.peer = peer
            side._peer_box = peer._box
            if not record:
                side.doorbell_fifo = peer._box  # sends post here themselves (port.py "doorbell_fifo")

    def _record(self, event, side, vector):
        if self.log is not None:
            if event == "notify":
                sender = side
            else:
                sender = side.peer
            self.log.append((event, sender.name + "->" + sender.peer.name, vector))

    def deliver(self, rounds=1000):
        """Deliver until both mailboxes are empty (callbacks may notify back).
        Returns the number of notifications delivered."""
        total = 0
        while rounds:
            n = self.remote.deliver() + self.master.deliver()
            if not n:
                break
            total += n
            rounds -= 1
        return total
