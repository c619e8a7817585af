# RPMsg-Lite for MicroPython: the public API.
#
#     from rpmsg_lite import RPMsgLite, Config, Queue, NameService, RPMsgError
#
# The implementation is split by job: config/layout (where things sit in
# shared memory), vring (viper hot paths), link (init, endpoints, send,
# receive), rx_queue, nameservice, endpoint, errors, views. The environment
# layer (rl_env) and platform ports (rl_*) live beside this package.

try:
    import rl_env  # the environment layer, deployed beside this package
except ImportError:
    # From the source tree with only firmware/ on the path (e.g. `mpremote
    # mount firmware`): the layer is in firmware/environment.
    import sys

    _parts = __file__.rsplit("/", 2)
    sys.path.append((_parts[0] if len(_parts) == 3 else ".") + "/environment")
    import rl_env  # noqa: F401

from .errors import (
    RPMsgError,
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
from .rx_queue import Queue
from .nameservice import NameService, NS_CREATE, NS_DESTROY, NS_EPT_ADDR
from rl_env import BLOCK

DONT_BLOCK = 0  # RL_DONT_BLOCK

__version__ = "0.1.0"
