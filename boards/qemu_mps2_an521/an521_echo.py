# The MicroPython echo remote of the dual-core board, the same service as
# the C remote (cfirmware/remote.c): endpoint 30 "rpmsg-echo" echoes with a
# copy send, 31 checks the test pattern and sequence and echoes zero-copy,
# 32 answers with four little-endian words (checked, bad, echoed, held at
# most); a message to 33 ends serve(), back to the REPL, with the counters
# in an521_echo.last. Run on core 1 (or core 0 opposite a C master):
#     import an521_echo; an521_echo.serve()

import struct

import rl_mps2_an521 as an
from rpmsg_lite import BLOCK, RELEASE, HOLD
from rpmsg_lite.echo import EchoService
import an521_pattern as pattern

CHECKED_ADDR = 31
STATS_ADDR = 32
STOP_ADDR = 33
last = None  # the counters of the last serve(), once it returned


class CheckedEcho:
    def __init__(self, link, addr=CHECKED_ADDR):
        self.link = link
        self.checked = 0
        self.bad = 0
        self.echoed = 0
        self.held_max = 0
        self._next = 0
        self._backlog = []
        self.ept = link.create_ept(addr, self._receive)

    def _receive(self, payload, src):
        n = len(payload)
        seq = pattern.check(payload, n)
        self.checked += 1
        if seq < 0 or (seq != self._next and seq != 0):
            self.bad += 1
        self._next = seq + 1
        if not self._backlog and self._echo(payload, src):
            return RELEASE
        self._backlog.append((payload, src))
        if len(self._backlog) > self.held_max:
            self.held_max = len(self._backlog)
        return HOLD

    def _echo(self, payload, src):
        link = self.link
        if not link.free_tx_buffers():
            return False
        out = link.alloc_tx_buffer(0)
        n = len(payload)
        out[:n] = payload
        link.send_nocopy(self.ept, src, out, n)
        self.echoed += 1
        return True

    def service(self):
        backlog = self._backlog
        while backlog and self._echo(backlog[0][0], backlog[0][1]):
            payload, src = backlog.pop(0)
            self.link.release_rx_buffer(payload)
        return len(backlog)


def serve(rounds=-1, port=None):
    """Serve until a message arrives on STOP_ADDR or rounds waits have
    passed (-1: no limit); returns the link."""
    global last
    port = port or an.AN521Port()
    link = port.remote()
    echo = EchoService(link)  # endpoints before link-up: the master may send at once
    checked = CheckedEcho(link)

    def stats(payload, src):
        words = struct.pack("<4I", checked.checked, checked.bad, checked.echoed + echo.count, checked.held_max)
        link.send(stats_ept, src, words, 100)
        return RELEASE

    def stop(payload, src):
        stopped.append(src)
        return RELEASE

    stopped = []
    stats_ept = link.create_ept(STATS_ADDR, stats)
    link.create_ept(STOP_ADDR, stop)
    link.wait_for_link_up(BLOCK)
    echo.announce()
    while rounds and not stopped:
        port.wait(1 if (echo._backlog or checked._backlog) else 500)
        echo.service()
        checked.service()
        if rounds > 0:
            rounds -= 1
    last = {
        "checked": checked.checked,
        "bad": checked.bad,
        "echoed": checked.echoed + echo.count,
        "held_max": checked.held_max,
        "dropped": link.stats()["rx_bad_entries"],
        "sleeps": port.sleeps,
        "wakeups": port.wakeups,
    }
    return link
