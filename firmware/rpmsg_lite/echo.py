"""Echo service: sends every message back to its source.

The benchmark contract of the host port (and the usual "pingpong" remote)
is an endpoint at address 30 that echoes. Echoing from the receive
callback is the fast path; when no TX buffer is free the message is held
(RL_HOLD) and echoed later by service(), in order, so nothing is dropped
however fast the peer sends.
"""

from .endpoint import RELEASE, HOLD
from .nameservice import NS_CREATE
from .errors import RPMsgError, ERR_NO_MEM

ECHO_ADDR = 30


class EchoService:
    """Create it before the link is up (so no early message finds the
    address empty), then ``announce()`` it once the link is up."""

    def __init__(self, link, addr=ECHO_ADDR, name="rpmsg-echo"):
        self.link = link
        self.name = name
        self.count = 0  # messages echoed
        self._backlog = []  # held (payload, src) waiting for a TX buffer
        self.ept = link.create_ept(addr, self._receive)

    def announce(self):
        """Tell the peer's name service about this endpoint (needs link-up)."""
        self.link.ns_announce(self.ept, self.name, NS_CREATE)

    def _receive(self, payload, src):
        if not self._backlog:
            # Try the send and catch the rare "no buffer" rather than ask
            # free_tx_buffers() first: one native call per echo, not two.
            try:
                self.link.send(self.ept, src, payload, 0)
                self.count += 1
                return RELEASE
            except RPMsgError as e:
                if e.code != ERR_NO_MEM:
                    raise
                # (a send that raises has taken no buffer: hold and retry)
        self._backlog.append((payload, src))
        return HOLD

    def service(self):
        """Echo held messages while TX buffers are free; returns how many
        are still waiting."""
        backlog = self._backlog
        link = self.link
        while backlog and link.free_tx_buffers():
            payload, src = backlog.pop(0)
            link.send(self.ept, src, payload, 0)
            link.release_rx_buffer(payload)
            self.count += 1
        return len(backlog)
