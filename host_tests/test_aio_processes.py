"""rpmsg_lite.aio between real processes: the asyncio master example
(boards/host/aio_demo.py) against the echo core, on both interpreters,
woken by the doorbell thread (ThreadSafeFlag across threads) or by the
serve task; and `import rpmsg_lite` imports no asyncio."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import hostcores  # noqa: E402

DEMO = os.path.join(hostcores.HOST_BOARD, "aio_demo.py")


def _need(interpreter):
    if interpreter == "micropython" and hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")


@pytest.mark.parametrize(
    "master,remote,mode",
    [("micropython", "micropython", "thread"), ("cpython", "micropython", "thread"),
     ("micropython", "cpython", "poll"), ("cpython", "cpython", "poll")],
)
def test_the_asyncio_master_gets_every_echo(master, remote, mode):
    _need(master)
    _need(remote)
    with hostcores.Workdir() as wd:
        argv, env = hostcores.core_command(remote, hostcores.REMOTE_MAIN, [wd.shm, "--quiet"])
        echo = hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            args = [wd.shm, "--messages", "300"] + (["--poll"] if mode == "poll" else [])
            argv, env = hostcores.core_command(master, DEMO, args)
            proc = subprocess.run(argv, env=env, capture_output=True, timeout=120)
        finally:
            echo.close()
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "aio demo: 300/300 echoes matched from address 30" in out, out
    assert ("doorbell thread" if mode == "thread" else "serve task") in out
    ticks = int(out.split("ticker ran ")[1].split()[0])
    assert ticks > 0  # the loop ran other tasks while messages were awaited


@pytest.mark.parametrize("interpreter", ["micropython", "cpython"])
def test_import_rpmsg_lite_imports_no_asyncio(interpreter):
    _need(interpreter)
    with hostcores.Workdir() as wd:
        script = os.path.join(wd.path, "probe.py")
        with open(script, "w") as f:
            f.write(
                "import sys\nimport rpmsg_lite\nfrom rpmsg_lite import RPMsgLite, Queue, NameService\n"
                "print('before', 'asyncio' in sys.modules)\n"
                "from rpmsg_lite import AsyncQueue\nprint('after', 'asyncio' in sys.modules, AsyncQueue.__name__)\n"
            )
        argv, env = hostcores.core_command(interpreter, script)
        proc = subprocess.run(argv, env=env, capture_output=True, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "before False" in out and "after True AsyncQueue" in out, out
