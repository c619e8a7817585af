"""tools/loopback_bench.py: both ends in one process, the shape of its
report (no timing asserts)."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

TOOL = os.path.join(REPO, "tools", "loopback_bench.py")


@pytest.mark.parametrize("interpreter", ["micropython", "cpython"])
def test_reports_msgs_per_s_and_one_doorbell_per_message(interpreter):
    if interpreter == "micropython" and hostcores.find_micropython() is None:
        pytest.skip("MicroPython unix port not found (tools/setup.sh)")
    proc = subprocess.run(
        [sys.executable, TOOL, "--messages", "300", "--interpreter", interpreter], capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["interpreter"] == interpreter
    assert [r["size"] for r in report["results"]] == [64, 496]
    for r in report["results"]:
        assert r["messages"] == 300 and r["msgs_per_s"] > 0 and r["doorbells_per_msg"] == 1.0


def test_rejects_a_bad_message_count():
    proc = subprocess.run([sys.executable, TOOL, "--messages", "0"], capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"--messages" in proc.stderr
