"""tools/soak.py: a short run must report no loss, no duplicates, no
corruption and no leaked heap or file descriptors (the 10-million-message
run is the README's command, not a CI test)."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

SOAK = os.path.join(REPO, "tools", "soak.py")


@pytest.mark.parametrize("interpreter,messages", [("micropython", 50000), ("cpython", 3000)])
def test_short_soak_is_clean(interpreter, messages):
    if interpreter == "micropython" and hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    proc = subprocess.run(
        [sys.executable, SOAK, "--messages", str(messages), "--interpreter", interpreter, "--count", "8"],
        capture_output=True,
        timeout=600,
    )
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    summary = lines[-1]["summary"]
    assert summary["ok"] and summary["messages"] == 2 * messages
    assert summary["lost"] == summary["duplicates"] == summary["corrupt"] == 0
    for core in lines[:-1]:
        assert core["interpreter"] == interpreter
        assert core["fds_end"] == core["fds_start"]
        assert core["stats"]["rx_bad_entries"] == 0 and core["stats"]["unknown_dst"] == 0
