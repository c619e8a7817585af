"""What a running link keeps imported (README, "Footprint"): bring-up modules
are dropped after use, the rare paths load on first use and then work as if
they had always been there. Each check runs in a fresh interpreter, on
CPython (with the shim) and on the MicroPython unix port."""

import os
import subprocess
import sys

import pytest

from _paths import cpython_paths, micropython_paths
from conftest import find_micropython

SCRIPT = r'''
import sys


def mods():
    return sorted(k[11:] for k in sys.modules if k.startswith("rpmsg_lite."))


from rpmsg_lite import RPMsgLite, Config
from rl_loopback import Loopback

got = []
cfg = Config()
shm = bytearray(cfg.shm_size)
loop = Loopback()
master = RPMsgLite.master(shm, loop.master, cfg)
remote = RPMsgLite.remote(shm, loop.remote, cfg)
loop.deliver()
ept = master.create_ept(30, lambda payload, src: 0)
remote.create_ept(40, lambda payload, src: got.append(bytes(payload)))
master.send(ept, 40, b"ping", 0)
loop.deliver()
assert got == [b"ping"], got
print("RUNNING", " ".join(mods()))
try:
    Config(buffer_count=3)
except ValueError as e:
    print("CONFIG", e)
print("AFTER-CONFIG", " ".join(mods()))
assert master.stats()["tx_messages"] == 1
print("STATS", " ".join(mods()))
# The first rare method loaded them all: the class is whole again.
print("WHOLE", all(n in dir(master) for n in ("wait_for_link_up", "deinit", "release_rx_buffer", "fault")))


class Mine(RPMsgLite):
    def stats(self):
        return super().stats()["tx_messages"]


print("SUPER", Mine.master(bytearray(cfg.shm_size), Loopback().master, cfg).stats())
try:
    master.no_such_thing
except AttributeError:
    print("MISSING AttributeError")
buf = master.alloc_tx_buffer(0)
buf[:4] = b"zero"
master.send_nocopy(ept, 40, buf, 4)
loop.deliver()
assert got[-1] == b"zero", got
print("LAYOUT", master.layout.count, remote.link_id, remote.role)
from rpmsg_lite import rings
print("RINGS", rings.__name__)
'''


def _run(argv, env, tmp_path):
    script = tmp_path / "scenario.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(argv + [str(script)], capture_output=True, timeout=60, env=env)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _interpreters():
    yield "cpython", [sys.executable], dict(os.environ, PYTHONPATH=os.pathsep.join(cpython_paths()))
    mp, _ = find_micropython()
    if mp:
        yield "micropython", [mp], dict(os.environ, MICROPYPATH=os.pathsep.join(micropython_paths()))


@pytest.mark.parametrize("name", ["cpython", "micropython"])
def test_a_running_link_keeps_only_its_modules_and_loads_the_rest_on_use(name, tmp_path):
    runs = {n: (argv, env) for n, argv, env in _interpreters()}
    if name not in runs:
        pytest.skip("no MicroPython interpreter")
    out = _run(*runs[name], tmp_path)
    running = set(out["RUNNING"].split())
    assert running == {"config", "endpoint", "env", "errors", "link", "port", "vring"}, running
    assert out["CONFIG"] == "buffer_count must be a power of two, got 3"
    assert set(out["AFTER-CONFIG"].split()) == running  # the checks' module was dropped again
    assert set(out["STATS"].split()) == running | {"slowpath", "ringops"}
    assert out["WHOLE"] == "True" and out["SUPER"] == "0" and out["MISSING"] == "AttributeError"
    assert out["LAYOUT"] == "2 0 0"
    assert out["RINGS"] == "rpmsg_lite.rings"  # a submodule not loaded: the package imports it
