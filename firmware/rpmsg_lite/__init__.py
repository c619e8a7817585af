"""RPMsg-Lite for MicroPython: inter-core messaging, byte-compatible with
NXP's C RPMsg-Lite on the other core.

    from rpmsg_lite import RPMsgLite, Config, Queue, NameService, RPMsgError

Layers (each a module of this package): ``config``/``layout`` (where things
sit in shared memory), ``rings`` (formatting), ``vring`` (the viper hot
paths), ``link`` (init, endpoints, send, receive), ``env`` (time and locks),
``port`` (the platform contract every port derives from), ``regs`` (register
access for ports). Optional services load on first use: ``Queue``,
``NameService``, ``aio`` (asyncio: ``AsyncQueue``, awaitable send and
link-up), the REPL ``console`` and the ``echo`` service. Platform
ports are separate packages (``rl_rp2040``, ``rl_imxrt1170``, ``rl_host``,
``rl_loopback``...).
"""

from .errors import (
    RPMsgError,
    LayoutError,
    error_name,
    SUCCESS,
    ERR_NO_MEM,
    ERR_BUFF_SIZE,
    ERR_PARAM,
    ERR_DEV_ID,
    ERR_MAX_VQ,
    ERR_NO_BUFF,
    NOT_READY,
    ALREADY_DONE,
)
from .config import Config
from .endpoint import Endpoint, ADDR_ANY, RELEASE, HOLD
from .link import RPMsgLite, MASTER, REMOTE
from .env import BLOCK

DONT_BLOCK = 0  # RL_DONT_BLOCK

# The version is the package metadata in firmware/manifest.py (one place).

# What loads on first use, and from which module (as extmod/asyncio does):
# a link with callbacks imports none of it.
_lazy = {
    "Queue": "queue",
    "NameService": "nameservice",
    "NS_CREATE": "nameservice",
    "NS_DESTROY": "nameservice",
    "NS_EPT_ADDR": "nameservice",
    "Port": "port",
    "AsyncQueue": "aio",  # asyncio only when used
    "aio": "aio",  # a submodule itself: MicroPython's `from rpmsg_lite import aio` asks here first
}


def __getattr__(attr):
    # A lazy name, or a submodule not loaded yet (MicroPython's
    # `from rpmsg_lite import rings` asks here before importing it).
    mod = _lazy.get(attr, attr)
    try:
        value = __import__("rpmsg_lite." + mod, None, None, [attr])
    except ImportError:
        raise AttributeError(attr)
    if mod != attr:
        value = getattr(value, attr)
    globals()[attr] = value
    return value
