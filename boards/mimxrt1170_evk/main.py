# MIMXRT1170-EVK demo: the CM7 REPL talks to NXP's rpmsg_lite_pingpong
# remote on the CM4.
#
# Put the CM4 image (a raw binary of the SDK's
# multicore_examples/rpmsg_lite_pingpong_rtos (or bm) cm4 project, linked to
# run from 0x20200000 / its CM4 TCM alias) on the board as /cm4.bin, then
# at the REPL:
#
#     >>> import main
#     >>> main.start()           # start the CM4, MCMGR handshake, link-up
#     >>> main.ping(100)         # the pingpong exchange: counters go round
#     >>> main.send(b"hi")       # any bytes to the CM4's endpoint
#
# The CM4 firmware must be built with RL_BUFFER_COUNT == BUFFERS below and
# RL_USE_MCMGR_IPC_ISR_HANDLER=1 (the NXP default for these examples).
# Nothing runs at boot: importing this file only defines the helpers.

import struct

import rl_imxrt1170 as rt
from rpmsg_lite import NameService, Queue, RPMsgError

BUFFERS = 2  # the example's RL_BUFFER_COUNT (SDK rpmsg_config.h)
LOCAL_EPT = 40  # the example master's endpoint
REMOTE_EPT = 30  # the example remote's (cm4/main_remote.c LOCAL_EPT_ADDR)
CM4_IMAGE = "/cm4.bin"

class Session:
    """What start() sets up: the port, the link, the receive queue and the
    address the CM4 announced."""

    def __init__(self, port, link, queue):
        self.port = port
        self.link = link
        self.queue = queue
        self.remote_addr = None

    def announced(self, addr, name, flags):
        print("name service: %r at %d" % (name, addr))
        if flags == 0:
            self.remote_addr = addr


_session = None


def session():
    if _session is None:
        raise RuntimeError("call main.start() first")
    return _session


def start(image=CM4_IMAGE, timeout_ms=5000):
    """Start the CM4 (unless it already runs), wait for its RPMsg-Lite remote
    and bring the link up. Returns the session.

    After a soft reset (Ctrl-D) the CM4 is still running its firmware (only
    a chip reset stops it) and MCMGR sends its ready event and the remote
    its name-service announcement only once per CM4 boot: then the port
    takes the running link over (attach_or_master) and the remote's
    endpoint is the pingpong remote's fixed address."""
    global _session
    port = rt.IMXRT1170(config=rt.sdk_config(buffer_count=BUFFERS))
    if port.cm4_released():
        link = port.attach_or_master()
    else:
        with open(image, "rb") as f:
            port.start_cm4(f.read())
        if not port.wait_remote_ready(timeout_ms):
            raise OSError("the CM4 did not report ready: %r" % (port.stats(),))
        link = port.master()
    s = Session(port, link, Queue(link))
    # Bound before anything is delivered: the CM4 announces right after
    # link-up, and announcements are not repeated.
    NameService(link, s.announced)
    link.create_ept(LOCAL_EPT, s.queue)
    if port.attached:
        s.remote_addr = REMOTE_EPT
    for _ in range(timeout_ms // 10):
        if s.remote_addr is not None:
            break
        port.wait(10)
    else:
        raise OSError("no name-service announcement from the CM4")
    print("link up:", link)
    _session = s
    return s


def ping(count=100, timeout_ms=1000):
    """The NXP pingpong: send a 32-bit counter, the CM4 sends it back
    incremented; returns the last value received. The SDK's remote stops
    answering (and deinitialises) once its counter passes 100."""
    s = session()
    buf = bytearray(4)
    ept = s.link.endpoint(LOCAL_EPT)
    value = 0
    for _ in range(count):
        s.link.send(ept, s.remote_addr, struct.pack("<I", value), timeout_ms)
        s.queue.recv(buf, timeout_ms)
        value = struct.unpack("<I", buf)[0]
    return value


def send(data, timeout_ms=1000):
    """Send bytes to the CM4's endpoint and print what comes back within the
    timeout."""
    s = session()
    s.link.send(s.link.endpoint(LOCAL_EPT), s.remote_addr, data, timeout_ms)
    buf = bytearray(s.link.payload_size)
    try:
        src, n = s.queue.recv(buf, timeout_ms)
        print("from %d: %r" % (src, bytes(buf[:n])))
    except RPMsgError as e:
        print("no answer:", e)
