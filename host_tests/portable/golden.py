"""Access to the C library's golden shared-memory images (../shared/vectors)
and the scripted scenario that produced them. Portable."""

import json

from rpmsg_lite import Config
import support

CONFIGS = ("a0x80_c4", "a0x1000_c256")
STEPS = (
    "a_master_init",
    "b_remote_init_linkup",
    "c_master_sent_3",
    "d_remote_consumed",
    "e_remote_ns_announce",
    "f_remote_sent_2",
    "g_master_consumed",
)

_meta = None


def meta():
    global _meta
    if _meta is None:
        with open(support.repo_path("host_tests", "vectors", "vectors.json")) as f:
            _meta = json.load(f)
    return _meta


def config(name):
    c = meta()["configs"][name]
    return Config(
        buffer_count=c["RL_BUFFER_COUNT"],
        payload_size=c["RL_BUFFER_PAYLOAD_SIZE"],
        vring_align=c["VRING_ALIGN"],
        pa_base=int(c["base"], 16),
    )


def entry(name, step):
    for f in meta()["files"]:
        if f["config"] == name and f["scenario"] == step:
            return f
    raise KeyError(name + " " + step)


def image(name, step):
    with open(support.repo_path("host_tests", "vectors", "rl_" + name + "_" + step + ".bin"), "rb") as f:
        return f.read()


def payloads(key):
    return [bytes.fromhex(p) for p in meta()[key]]


def expected_log(name, step):
    """The step's notifications as the loopback log records them."""
    out = []
    for n in entry(name, step)["notifications"]:
        event = "notify" if n["event"] == "platform_notify" else "isr"
        out.append((event, n["direction"], n["vector"]))
    return out


def expected_received(name, step):
    """The step's deliveries as (kind, ...) tuples, in order."""
    out = []
    for r in entry(name, step)["received"]:
        if "ns" in r:
            out.append(("ns", r["at"], r["addr"], r["ns"], r["flags"]))
        else:
            out.append(("msg", r["at"], r["src"], r["dst"], bytes.fromhex(r["data"])))
    return out


def first_difference(actual, expected):
    """A readable description of where two images differ, or None."""
    if len(actual) != len(expected):
        return "length %d != %d" % (len(actual), len(expected))
    for i in range(len(expected)):
        if actual[i] != expected[i]:
            count = 0
            for j in range(i, len(expected)):
                if actual[j] != expected[j]:
                    count += 1
            return "%d bytes differ, first at offset %#x: %#04x, expected %#04x" % (
                count,
                i,
                actual[i],
                expected[i],
            )
    return None


class Scenario:
    """The scripted scenario of vectors.json, step by step, with this stack
    on either or both sides.

    In full replay both sides are this stack and run every step. To continue
    from a C image instead, load the image into ``shm`` and call the step with
    ``attach=True``: the acting side is then created attached to the image
    (its peer is the C library that produced it) and the notifications the C
    peer sent are posted to it.
    """

    def __init__(self, name):
        from rl_loopback import Loopback

        self.name = name
        self.config = config(name)
        self.shm = bytearray(self.config.shm_size)
        self.loop = Loopback(record=True)
        self.master = None
        self.remote = None
        self.m_ept = None
        self.r_ept = None
        self.received = []

    def _inbox(self, at, dst):
        def callback(payload, src):
            self.received.append(("msg", at, src, dst, bytes(payload)))

        return callback

    def _ns(self, addr, name, flags):
        self.received.append(("ns", "master", addr, name, flags))

    def _master(self, attach):
        from rpmsg_lite import RPMsgLite

        if self.master is None:
            self.master = RPMsgLite.master(self.shm, self.loop.master, self.config, 0, attach)
            self.m_ept = self.master.create_ept(30, self._inbox("master", 30))
        return self.master

    def _remote(self, attach):
        from rpmsg_lite import RPMsgLite

        if self.remote is None:
            self.remote = RPMsgLite.remote(self.shm, self.loop.remote, self.config, 0, attach)
            self.r_ept = self.remote.create_ept(40, self._inbox("remote", 40))
        return self.remote

    def _posted(self, side, step, attach):
        # Continuing from a C image: what the C peer notified in the previous
        # step is waiting in this side's mailbox.
        if attach:
            for event, direction, vector in expected_log(self.name, step):
                if event == "notify":
                    side.post(vector)

    def run(self, step, attach=False):
        from rpmsg_lite import DONT_BLOCK, NS_CREATE, NameService

        if step == "a_master_init":
            self._master(False)
        elif step == "b_remote_init_linkup":
            # A remote init is never an attach: it writes nothing and waits
            # for the master's init kick.
            self._remote(False)
            self._posted(self.loop.remote, "a_master_init", attach)
            self.loop.remote.deliver()
        elif step == "c_master_sent_3":
            master = self._master(attach)
            for p in payloads("m2r_payloads"):
                master.send(self.m_ept, 40, p, DONT_BLOCK)
        elif step == "d_remote_consumed":
            self._remote(attach)
            self._posted(self.loop.remote, "c_master_sent_3", attach)
            self.loop.remote.deliver()
        elif step == "e_remote_ns_announce":
            self._remote(attach).ns_announce(self.r_ept, meta()["ns_name"], NS_CREATE, DONT_BLOCK)
        elif step == "f_remote_sent_2":
            remote = self._remote(attach)
            for p in payloads("r2m_payloads"):
                remote.send(self.r_ept, 30, p, DONT_BLOCK)
        elif step == "g_master_consumed":
            master = self._master(attach)
            NameService(master, self._ns)
            if attach:
                for prior in ("e_remote_ns_announce", "f_remote_sent_2"):
                    self._posted(self.loop.master, prior, True)
            self.loop.master.deliver()
        else:
            raise ValueError(step)
