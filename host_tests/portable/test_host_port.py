"""The host port's doorbells (rl_host), both ends of a link in one process:
writes deferred to the end of a delivery, a doorbell the peer has not read
yet not written again, and waits inside a callback ringing first."""

import os
import sys
import time

from rpmsg_lite import RPMsgLite, Queue, Config, ADDR_ANY, DONT_BLOCK, RELEASE
from support import skip

if not sys.platform.startswith("linux"):
    skip("the host port targets Linux")

from rl_host import HostPort  # noqa: E402

_PA = 0x20200000


def _cfg(suppress):
    return Config(buffer_count=8, pa_base=_PA, doorbell_suppression=suppress)


class _Pair:
    """A master on one HostPort and a remote on another, over one file. The
    master does not suppress doorbells, so every send of the remote rings
    (or is deferred or coalesced) and the counters show which."""

    def __init__(self):
        self.path = "/tmp/rl-hostport-test-%d" % time.ticks_us()
        mcfg, rcfg = _cfg(False), _cfg(True)
        self.mport = HostPort.create(self.path, mcfg.shm_size)
        self.master = RPMsgLite.master(self.mport.shm, self.mport, mcfg)
        self.rport = HostPort.open(self.path, rcfg.shm_size, 1000)
        self.remote = RPMsgLite.remote(self.rport.shm, self.rport, rcfg)
        self.rport.wait(0)  # the init kick: the remote comes up
        assert self.remote.is_link_up()
        self.q = Queue(self.master)
        self.ept = self.master.create_ept(ADDR_ANY, self.q)

    def close(self):
        self.mport.close()
        self.rport.close()
        for suffix in ("", ".m2r", ".r2m", ".ready"):
            try:
                os.remove(self.path + suffix)
            except OSError:
                pass


def _echo(p, inside=None):
    def receive(payload, src):
        p.remote.send(rept, src, payload, DONT_BLOCK)
        if inside is not None:
            inside()
        return RELEASE

    rept = p.remote.create_ept(30, receive)
    return rept


def _round(p, k):
    """k messages to the echo, one delivery on the remote, all echoes back."""
    for i in range(k):
        p.master.send(p.ept, 30, bytes([i]) * 4, DONT_BLOCK)
    p.rport.wait(0)
    for _ in range(100):
        if p.q.len() == k:
            break
        p.mport.wait(1)
    buf = bytearray(16)
    for i in range(k):
        assert p.q.recv_into(buf, DONT_BLOCK) == 4 and bytes(buf[:4]) == bytes([i]) * 4


def test_answers_sent_inside_one_delivery_ring_once():
    p = _Pair()
    try:
        _echo(p)
        _round(p, 1)  # the remote has found work: its next wait watches the ring
        written, coalesced = p.rport.written, p.rport.coalesced
        _round(p, 5)
        # One write at the end of the delivery; none of the five sends even
        # asked the pipe (coalescing alone would also write once, after
        # four ioctls).
        assert p.rport.written - written == 1 and p.rport.coalesced == coalesced
    finally:
        p.close()


def test_a_wait_inside_a_callback_rings_for_what_it_sent_first():
    p = _Pair()
    seen = []
    try:
        _echo(p, lambda: seen.append((p.rport.written, p.rport.wait(0), p.rport.written)))
        _round(p, 1)
        before = p.rport.written
        _round(p, 1)
        # Second round: the send's doorbell was deferred, the nested wait wrote it.
        assert seen[-1][0] == before and seen[-1][2] == before + 1
        assert p.rport.written == before + 1
    finally:
        p.close()


def test_a_doorbell_the_peer_has_not_read_is_not_written_again():
    p = _Pair()
    try:
        p.master.create_ept(31, lambda payload, src: RELEASE)
        written, coalesced = p.rport.written, p.rport.coalesced
        rept = p.remote.create_ept(32, lambda payload, src: RELEASE)
        for _ in range(3):  # sends outside any delivery: each would ring
            p.remote.send(rept, 31, b"x", DONT_BLOCK)
        assert p.rport.written - written == 1 and p.rport.coalesced - coalesced == 2
        p.mport.service()  # the master reads it (and delivers the three)
        p.remote.send(rept, 31, b"y", DONT_BLOCK)
        assert p.rport.written - written == 2
    finally:
        p.close()
