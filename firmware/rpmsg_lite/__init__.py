# RPMsg-Lite for MicroPython: the public API.
#
#     from rpmsg_lite import RPMsgLite, Config, Queue, NameService, RPMsgError
#
# The implementation is split by job: config/layout (where things sit in
# shared memory), vring (viper hot paths), link (init, endpoints, send,
# receive), rx_queue, nameservice, endpoint, errors, views. The environment
# layer (rl_env) and platform ports (rl_*) live beside this package.

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
