"""Two processes over the host port whose cores disagree on the layout: the
remote names the mismatch instead of losing every message (MicroPython and
CPython in both roles). And a plain Config() on both sides works, because
the host port supplies the contract's pa_base."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import hostcores  # noqa: E402

CORE = os.path.join(HERE, "cores", "layout_core.py")


def _run(master, remote, master_args, remote_args):
    for interpreter in (master, remote):
        if interpreter == "micropython" and hostcores.find_micropython() is None:
            pytest.fail("MicroPython not found: run tools/setup.sh")
    with hostcores.Workdir() as wd:
        cores = []
        try:
            for interpreter, args in ((master, ["--master"] + master_args), (remote, remote_args)):
                argv, env = hostcores.core_command(interpreter, CORE, [wd.shm] + args)
                cores.append(hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            results = []
            for core in (cores[1], cores[0]):
                out, err = core.proc.communicate(timeout=60)
                open(wd.shm + ".stop", "w").close()
                assert core.proc.returncode == 0, out.decode() + err.decode()
                results.append(json.loads(out.decode().strip().splitlines()[-1]))
        finally:
            for core in cores:
                core.close()
    return results  # remote, master


@pytest.mark.parametrize("master,remote", [("micropython", "cpython"), ("cpython", "micropython")])
def test_a_remote_with_fewer_buffers_names_the_mismatch(master, remote):
    r, m = _run(master, remote, ["--count", "8"], ["--count", "4"])
    assert r["error"] == "LayoutError", r
    assert r["message"].startswith("RL_NOT_READY (-5007): layout mismatch: vring 0 descriptor 0 at 0x")
    assert "both cores must use the same buffer count, payload size, VRING_ALIGN, VRING_SIZE and pa_base" in r["message"]
    assert r["fault"] in r["message"] and r["send_error"] == r["message"]
    # The remote took nothing from rings it cannot read: no entry was lost.
    assert r["stats"]["rx_bad_entries"] == 0 and m["stats"]["rx_bad_entries"] == 0
    assert m["echoed"] == 0 and m["fault"] is None


@pytest.mark.parametrize("master,remote", [("micropython", "micropython"), ("cpython", "cpython")])
def test_a_remote_with_another_pa_base_names_the_addresses(master, remote):
    r, m = _run(master, remote, [], ["--pa-base", "0x30000000"])
    assert r["error"] == "LayoutError", r
    # Same sizes: descriptor 0 holds the master's 0x2020xxxx, we expect 0x3000xxxx.
    assert "layout mismatch: vring 0 descriptor 0 at 0x20200" in r["message"], r["message"]
    assert "expected 0x30000" in r["message"]


@pytest.mark.parametrize("master,remote", [("micropython", "cpython"), ("cpython", "micropython")])
def test_a_plain_config_on_both_sides_links_up_and_echoes(master, remote):
    r, m = _run(master, remote, ["--plain-config"], ["--plain-config"])
    assert r.get("up") is True and r.get("reply") == "hello", r
    assert r["fault"] is None and m["fault"] is None and m["echoed"] == 1
    assert r["stats"]["rx_bad_entries"] == 0 and m["stats"]["rx_bad_entries"] == 0
