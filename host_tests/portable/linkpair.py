"""Test helpers: a master and a remote over one region, and a recording
endpoint callback. Portable (CPython and MicroPython)."""

from rpmsg_lite import RPMsgLite, Config, RELEASE
from rl_loopback import Loopback

PA_BASE = 0x20200000


def small_config(**overrides):
    """4 buffers per direction of 496 bytes, align 0x10: the imxrt1170 style."""
    args = {"buffer_count": 4, "payload_size": 496, "vring_align": 0x10, "pa_base": PA_BASE}
    for key in overrides:
        args[key] = overrides[key]
    return Config(**args)


class Pair:
    """Both ends of one link on a loopback platform."""

    def __init__(self, config=None, record=False, link_id=0, up=True, shm=None, loop=None):
        self.config = config or small_config()
        self.shm = shm if shm is not None else bytearray(self.config.shm_size)
        self.loop = loop or Loopback(record)
        self.master = RPMsgLite.master(self.shm, self.loop.master, self.config, link_id)
        self.remote = RPMsgLite.remote(self.shm, self.loop.remote, self.config, link_id)
        if up:
            self.loop.remote.deliver()

    def to_remote(self):
        return self.loop.remote.deliver()

    def to_master(self):
        return self.loop.master.deliver()


class Inbox:
    """An endpoint callback that records (bytes, src) and returns ``result``."""

    def __init__(self, result=RELEASE):
        self.result = result
        self.messages = []
        self.views = []

    def __call__(self, payload, src):
        self.messages.append((bytes(payload), src))
        self.views.append(payload)
        return self.result


class Counter:
    """An endpoint callback that counts messages and bytes without
    allocating (for heap-lock tests)."""

    def __init__(self):
        self.count = 0
        self.total = 0

    def __call__(self, payload, src):
        self.count += 1
        self.total += len(payload)
        return RELEASE


def pattern(n, seed=0):
    """n bytes of a recognisable pattern."""
    return bytes([(seed + 7 * i) & 0xFF for i in range(n)])
