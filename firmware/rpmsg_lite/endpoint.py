"""An endpoint: a local address with a receive callback (rpmsg_lite_create_ept; docs/protocol.md#endpoints)."""

from micropython import const

from .env import BLOCK
from .vring import send as _vsend

ADDR_ANY = 0xFFFFFFFF  # RL_ADDR_ANY: let the link choose the lowest free address
RELEASE = const(0)  # RL_RELEASE: the stack returns the buffer when the callback returns
HOLD = const(1)  # RL_HOLD: the application keeps the buffer until release_rx_buffer


class Endpoint:
    """Created by ``RPMsgLite.create_ept``. ``addr`` is the local address.

    The callback is called as ``callback(payload, src)`` where ``payload`` is
    a memoryview of the message (valid until the callback returns, or until
    ``release_rx_buffer`` if it returns HOLD) and ``src`` the sender's
    address. Returning None counts as RELEASE.
    """

    def __init__(self, link, addr, callback):
        self.link = link
        self.addr = addr
        self.callback = callback

    def send(self, dst, data, timeout_ms=BLOCK):
        """Shorthand for ``link.send(self, dst, data, timeout_ms)``."""
        link = self.link
        # (link.send's fast path written out: one call fewer per message;
        # at most 11 words of frame, see link.send)
        if link is None or _vsend(link, self, dst, data, timeout_ms):
            self._send_slow(dst, data, timeout_ms)

    def _send_slow(self, dst, data, timeout_ms):
        link = self.link
        if link is None:
            from .errors import RPMsgError, ERR_PARAM

            raise RPMsgError(ERR_PARAM, "not an endpoint of this link")
        link._send_slow(self, dst, data, timeout_ms)

    def send_nocopy(self, dst, buf, size):
        self.link.send_nocopy(self, dst, buf, size)

    def __repr__(self):
        return "<Endpoint %d>" % self.addr
