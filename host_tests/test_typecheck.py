"""The firmware type-checks with pyright against the MicroPython stubs of
each port it runs on (tools/typecheck.py: rp2 and mimxrt)."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import typecheck  # noqa: E402


@pytest.mark.parametrize("port", sorted(typecheck.PORTS))
def test_firmware_typechecks_against_the_port_stubs(port):
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "tools", "typecheck.py"), port], capture_output=True, timeout=900
    )
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out
    assert "0 errors" in out
    # It really looked at the firmware, not at an empty set of files.
    assert "firmware/rpmsg_lite" in out and "No source files found" not in out
