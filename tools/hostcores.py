"""Run "cores" on the host: the search paths, interpreters and processes
behind the demo, the console, the benchmarks and the process tests.

A core is a program (e.g. boards/host/main.py) run by MicroPython's unix
port or by CPython with the shim; two of them talk over the host port's
shared file (firmware/platform/rl_host.py).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIM = os.path.join(REPO, "tools", "cpython_shim")
# Where firmware imports come from, in order: the core package (rpmsg_lite),
# then the platform ports (rl_*), as a board has them on its path.
FIRMWARE_PATHS = [
    os.path.join(REPO, "firmware"),
    os.path.join(REPO, "firmware", "platform"),
]
HOST_BOARD = os.path.join(REPO, "boards", "host")
REMOTE_MAIN = os.path.join(HOST_BOARD, "main.py")


def micropython_libs():
    """Folders a unix port built by tools/setup.sh needs for the Python half
    of its library: that build freezes nothing, so ``asyncio`` (used by
    rpmsg_lite.aio) comes from the MicroPython source tree setup fetched.
    Empty when there is none (a MicroPython with asyncio frozen in)."""
    import glob

    found = sorted(glob.glob(os.path.join(REPO, ".cache", "micropython-src", "micropython-*", "extmod")))
    try:
        with open(os.path.join(REPO, ".cache", "micropython", "source.txt")) as f:
            found.append(os.path.join(f.read().strip(), "extmod"))
    except OSError:
        pass
    for extmod in found:
        if os.path.isfile(os.path.join(extmod, "asyncio", "core.py")):
            return [extmod]
    return []


def use_firmware(extra=()):
    """Let this CPython process import the firmware (shim first)."""
    wanted = [SHIM] + FIRMWARE_PATHS + [HOST_BOARD] + list(extra)
    sys.path[:] = wanted + [p for p in sys.path if p not in wanted]


def find_micropython():
    """The MicroPython unix port to run cores with, or None: $MICROPYTHON,
    then the one tools/setup.sh chose, then `micropython` on PATH."""
    candidates = [os.environ.get("MICROPYTHON")]
    try:
        with open(os.path.join(REPO, ".cache", "micropython", "path.txt")) as f:
            candidates.append(f.read().strip())
    except OSError:
        pass
    candidates.append(shutil.which("micropython"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def core_command(interpreter, script, args=(), interactive=False, extra_paths=()):
    """(argv, env) to run ``script`` as a core on "micropython" or "cpython"."""
    env = dict(os.environ)
    paths = FIRMWARE_PATHS + [HOST_BOARD] + list(extra_paths)
    if interpreter == "micropython":
        mp = find_micropython()
        if mp is None:
            raise RuntimeError("MicroPython not found: run tools/setup.sh")
        # Only our folders (and frozen modules): no user-installed packages.
        env["MICROPYPATH"] = ":".join([".frozen"] + paths + micropython_libs())
        argv = [mp, "-X", "heapsize=16M"] + (["-i"] if interactive else []) + [script]
    elif interpreter == "cpython":
        env["PYTHONPATH"] = os.pathsep.join([SHIM] + paths)
        env["PYTHONUNBUFFERED"] = "1"
        argv = [sys.executable] + (["-i"] if interactive else []) + [script]
    else:
        raise ValueError("interpreter must be micropython or cpython: %r" % (interpreter,))
    return argv + list(args), env


class Core:
    """A core process; stops it (politely, then by force) on close."""

    def __init__(self, argv, env=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, env=env, stdin=stdin, stdout=stdout, stderr=stderr, start_new_session=True
        )

    def running(self):
        return self.proc.poll() is None

    def close(self, timeout=5.0):
        """Wait for the core to leave by itself (its master is gone), then
        terminate it. Returns the exit code."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                return self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.wait()


class Workdir:
    """A private temporary folder for a shared file and its FIFOs."""

    def __init__(self, prefix="rpmsg-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        self.shm = os.path.join(self.path, "shm")

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
