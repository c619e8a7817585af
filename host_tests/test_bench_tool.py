"""tools/bench.py runs and reports what it promises (no timing asserts:
only the shape of the report and the allocation figure)."""

import json
import os
import shlex
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

BENCH = os.path.join(REPO, "tools", "bench.py")
FIELDS = {"mode", "window", "size", "zero_copy", "master", "remote", "messages", "msgs_per_s",
          "mb_per_s", "rtt_median_us", "rtt_p99_us", "alloc_bytes_per_msg"}


def _bench(*args):
    """The records of a bench.py run, without its C <-> C reference records
    (where the C peer can be built; test_cpeer.py checks those)."""
    proc = subprocess.run([sys.executable, BENCH] + list(args), capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    records = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]
    return [r for r in records if not r["master"] == r["remote"] == "c"], proc


def test_micropython_pair_reports_every_combination_and_allocates_nothing():
    if hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    records, proc = _bench("--pairs", "mp-mp", "--messages", "300", "--sizes", "16,496", "--count", "4", "--window", "4")
    combos = {(r["mode"], r["zero_copy"], r["size"]) for r in records}
    assert combos == {(m, z, s) for m in ("pingpong", "stream") for z in (False, True) for s in (16, 496)}
    for r in records:
        assert FIELDS <= set(r), r
        assert r["master"] == r["remote"] == "micropython"
        assert r["messages"] == 300 and r["msgs_per_s"] > 0 and r["rtt_p99_us"] >= r["rtt_median_us"] > 0
        assert r["alloc_bytes_per_msg"] == 0, r  # steady state allocates nothing on MicroPython
    assert "msg/s" in proc.stderr.decode()  # the table


def test_external_peer_command_and_layout_options():
    # The echo core started as an arbitrary shell command, as another
    # implementation of the host contract would be.
    argv, env = hostcores.core_command("cpython", hostcores.REMOTE_MAIN, ["{shm}", "--quiet", "--payload", "128"])
    cmd = "PYTHONPATH=%s %s" % (shlex.quote(env["PYTHONPATH"]), " ".join(shlex.quote(a) for a in argv))
    cmd = cmd.replace(shlex.quote("{shm}"), "{shm}")
    records, _ = _bench(
        "--pairs", "cpy-cpy", "--modes", "pingpong", "--copy", "--messages", "50", "--sizes", "64,496",
        "--payload", "128", "--peer", cmd,
    )
    assert [r["size"] for r in records] == [64]  # 496 exceeds the 128-byte payload
    assert records[0]["remote"].startswith("peer: ") and records[0]["alloc_bytes_per_msg"] is None
