"""RPMsg-Lite error codes and the exception that carries them.

The numeric values are RPMsg-Lite's RL_* codes (docs/protocol.md#errors,
rpmsg_lite.h): a C peer, a log line or a user porting C code sees the same
numbers. Functions that return NULL in C (init, create_ept,
alloc_tx_buffer, ns_bind) raise RPMsgError here with the closest code.
"""

from micropython import const

SUCCESS = const(0)
ERR_NO_MEM = const(-5001)  # no free TX buffer within the timeout
ERR_BUFF_SIZE = const(-5002)  # payload larger than the buffer / caller buffer too small
ERR_PARAM = const(-5003)  # bad argument: unknown endpoint, foreign or not-held buffer...
ERR_DEV_ID = const(-5004)  # defined by RPMsg-Lite, unused
ERR_MAX_VQ = const(-5005)  # defined by RPMsg-Lite, unused
ERR_NO_BUFF = const(-5006)  # receive queue empty within the timeout
NOT_READY = const(-5007)  # link is down (not yet up, or deinitialised)
ALREADY_DONE = const(-5008)  # defined by RPMsg-Lite, unused

# The RL_* names of -5001, -5002, ... (compact: a link imports this module).
_NAMES = ("ERR_NO_MEM", "ERR_BUFF_SIZE", "ERR_PARAM", "ERR_DEV_ID", "ERR_MAX_VQ", "ERR_NO_BUFF", "NOT_READY", "ALREADY_DONE")


def error_name(code):
    """The RL_* name of an error code ("RL_ERR_NO_MEM"), or "RL_<code>"."""
    i = ERR_NO_MEM - code
    return "RL_" + (_NAMES[i] if 0 <= i < 8 else str(code))


class RPMsgError(Exception):
    """An RPMsg-Lite failure. ``code`` is the RL_* value (e.g. ERR_NO_MEM)."""

    def __init__(self, code, detail=""):
        self.code = code
        msg = error_name(code) + " (" + str(code) + ")"
        if detail:
            msg += ": " + detail
        super().__init__(msg)

    @property
    def name(self):
        return error_name(self.code)


class LayoutError(RPMsgError):
    """The link cannot come up because the cores disagree on the shared
    memory layout (``link.fault`` says where). Code NOT_READY: the link is
    down, as RPMsg-Lite would report it."""

    def __init__(self, detail):
        super().__init__(NOT_READY, detail)
