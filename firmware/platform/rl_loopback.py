"""Loopback platform: both ends of a link in one interpreter.

Each side's doorbell is a mailbox FIFO of vector ids (like the named FIFOs
of the host port or a hardware mailbox): notify() queues a vector for the
other side, deliver() hands queued vectors to that side's links, in order.
Nothing happens on its own, so tests decide exactly when each core "takes
its interrupt" and scenarios are deterministic.

The mailboxes are fixed rings, so notifying allocates nothing (the heap-lock
tests run through here). A full mailbox drops the vector and counts it:
like a coalesced interrupt, that is harmless because one delivery makes the
receiver scan the whole ring.
"""

from array import array
from rpmsg_lite import env
from rpmsg_lite.port import Port

from micropython import const

_MAILBOX = const(64)  # a power of two: indices wrap with a mask


class _Side(Port):
    """The port one core's links are created with."""

    def __init__(self, loop, name):
        Port.__init__(self)
        self.loop = loop
        self.name = name
        self.peer = self  # Loopback pairs the two sides right after creating them
        self._box = array("H", [0] * _MAILBOX)
        self._head = 0
        self._count = 0
        self.dropped = 0  # notifications lost to a full mailbox

    # -- the platform contract ------------------------------------------------

    def notify(self, vector_id):
        # post() on the peer, written out: this runs for every message.
        if self.loop.log is not None:
            self.loop._record("notify", self, vector_id)
        peer = self.peer
        if peer._count == _MAILBOX:
            peer.dropped += 1
        else:
            peer._box[(peer._head + peer._count) & (_MAILBOX - 1)] = vector_id
            peer._count += 1

    def service(self):
        # The polling entry of the contract (e.g. rpmsg_lite.aio.serve).
        return self.deliver()

    def wait(self, ms):
        # A blocked caller on either core lets both cores take their
        # interrupts; only if nothing was pending does time pass.
        if not self.loop.deliver():
            env.sleep_ms(ms)

    # -- test control --------------------------------------------------------

    def post(self, vector_id):
        """Queue a notification for this side as if the other core sent it
        (also used for a peer this process does not run, e.g. C firmware
        whose shared-memory image a test starts from)."""
        if self._count == _MAILBOX:
            self.dropped += 1
            return
        self._box[(self._head + self._count) & (_MAILBOX - 1)] = vector_id
        self._count += 1

    def pending(self):
        """Vectors waiting in this side's mailbox, oldest first."""
        return [self._box[(self._head + i) % _MAILBOX] for i in range(self._count)]

    def deliver(self, limit=-1):
        """Deliver queued notifications to this side's links (FIFO order).
        Returns how many were taken from the mailbox."""
        done = 0
        log = self.loop.log
        while self._count and done != limit:
            vector = self._box[self._head]
            self._head = (self._head + 1) & (_MAILBOX - 1)
            self._count -= 1
            done += 1
            if log is not None:
                self.loop._record("isr", self, vector)
            link = self.links.get(vector >> 1)
            if link is not None:
                link.isr(vector)
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
        self.master = _Side(self, "master")
        self.remote = _Side(self, "remote")
        self.master.peer = self.remote
        self.remote.peer = self.master
        self.log = [] if record else None

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
