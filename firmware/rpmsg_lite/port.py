"""The platform contract: what a port gives RPMsg-Lite links, and how.

A port is the object a link is created with. It plays the part of
RPMsg-Lite's platform layer (``platform_notify``, ``platform_interrupt_*``
and the ``env_isr`` routing of ``rpmsg_env_*.c``): it rings the other core's
doorbell and hands each doorbell it receives to the link it belongs to.

Porting guide: derive from ``Port`` and implement

* ``notify(vector_id)`` (required): ring the other core with the vector id
  ``(link_id << 1) | vring``. Called on every send, in whatever context sends
  (a thread, a scheduled callback, the REPL): it must not block for long and
  must not allocate (the heap-lock tests call it).
* ``service()`` (polling ports): take every doorbell that has arrived, call
  ``self.dispatch(vector_id)`` for each, return how many. Never blocks.
  Runs in the caller's context, never in a hard IRQ (callbacks run inside).
* ``wait(ms)``, only if the port can sleep until its doorbell (a FIFO with
  ``poll``, WFI on a core): wait up to ``ms`` and deliver what came. The
  default polls ``service()`` with ``idle()`` between rounds.
* ``idle()``, if the port has something better than ``sleep_ms(0)`` to do
  between polls (a WFI, stepping a model in tests).
* ``region(link_id)``, if the port owns the shared memory (a mapped file, a
  fixed SRAM window), so ``port.master()`` / ``port.remote()`` need no buffer.

and set ``config`` (the links' ``Config``) or override ``link_config``.
Where the cores see the shared region at different addresses (processes,
an address translation), set ``pa_base`` to the address descriptors hold
for its first byte when a ``Config`` leaves ``pa_base`` None (None: the
region's own address, identity mapping as on MCUs).
``attach``/``detach`` keep ``links`` (link_id -> link) up to date; override
them to add to that (e.g. enable an interrupt) and call the base method.

A port whose doorbell is a FIFO of vector ids in memory (the loopback's
mailboxes) may set ``doorbell_fifo`` to it, an ``array('I')``: head, count, lost,
mask (capacity - 1, a power of two minus one), then the FIFO. A send then
posts its vector there itself, as ``notify`` would (one step less per
message); ports with a hardware doorbell leave it None.
Counters that grow per message wrap at ``WRAP`` so they stay small ints and
never allocate.
"""

from array import array
from micropython import const

from . import env
from .vring import route as _route

WRAP = const(0x3FFFFFFF)


class Port:
    """Base of every platform port (see the module docstring)."""

    pa_base = None  # descriptor address of the region's first byte, if fixed
    # True if every sleep of this port's cores goes through rest() first
    # (its wait(), doorbell thread and service() do): a link with
    # Config.doorbell_suppression then keeps NO_NOTIFY set between drains,
    # not only during one, and the peer rings far less often.
    rests = False
    # The peer's doorbell FIFO, for ports that have one (see above).
    doorbell_fifo = None  # type: array | None

    def __init__(self, config=None):
        self.config = config  # the Config of this port's links (None: Config())
        self.links = {}  # link_id -> the attached RPMsgLite
        self._seq = ()  # the same links, to iterate without allocating
        self._routes = [array("I", [0])]  # what dispatch() looks vectors up in

    # -- what a port implements ------------------------------------------------

    def notify(self, vector_id):
        raise NotImplementedError("a port must implement notify(vector_id)")

    def service(self):
        """Deliver the doorbells that have arrived; returns how many."""
        return 0

    def idle(self):
        """Let time pass between two polls of wait()."""
        env.sleep_ms(0)

    def region(self, link_id):
        """The shared memory of a link, when the port owns it."""
        raise ValueError("this port has no shared memory of its own: pass shm")

    # -- what RPMsgLite calls ----------------------------------------------------

    def link_config(self, link_id):
        """The Config of link ``link_id`` (the same for every link unless a
        port overrides this)."""
        return self.config

    def attach(self, link):
        """Route this link's doorbells to it from now on."""
        self.links[link.link_id] = link
        self._linked()

    def detach(self, link):
        if self.links.get(link.link_id) is link:
            del self.links[link.link_id]
            self._linked()

    def _linked(self):
        # vring.route's table, swapped in as one object: the count and each
        # link's RX vector, then the links.
        seq = tuple(self.links.values())
        self._seq = seq
        self._routes = [array("I", [len(seq)] + [link._rvec for link in seq])] + list(seq)

    def rest(self):
        """Before sleeping: every link lets the peer ring again and delivers
        what came meanwhile (doorbell suppression); returns how many
        messages that was (0: nothing pending, safe to sleep)."""
        busy = 0
        for link in self._seq:
            busy += link.rest()
        return busy

    def wait(self, ms):
        """Deliver doorbells for up to ms; returns after the first round
        that delivered something (a blocked send or receive then looks at
        its ring again)."""
        start = env.ticks_ms()
        while not self.service():
            if env.ticks_diff(env.ticks_ms(), start) >= ms:
                return
            self.idle()

    # -- shared by every port ------------------------------------------------------

    def dispatch(self, vector_id):
        """Hand one received doorbell to its link (its RX vector straight to
        vring.drain, the other to link.isr); False if no link has it."""
        return _route(self._routes, vector_id) != 0

    def master(self, shm=None, link_id=0, attach=False):
        """A master link on this port (``RPMsgLite.master``)."""
        from .link import RPMsgLite

        return RPMsgLite.master(self._shm(shm, link_id), self, None, link_id, attach)

    def remote(self, shm=None, link_id=0, attach=False):
        """A remote link on this port (``RPMsgLite.remote``)."""
        from .link import RPMsgLite

        return RPMsgLite.remote(self._shm(shm, link_id), self, None, link_id, attach)

    def _shm(self, shm, link_id):
        return self.region(link_id) if shm is None else shm

    def deinit(self):
        """Deinitialise every link still attached."""
        for link in list(self.links.values()):
            link.deinit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()
