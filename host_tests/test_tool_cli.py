"""The host tools' command lines (tools/cli.py), through real processes:
bad input is one line on stderr and exit status 2, never a traceback, and no
temporary folder survives any way out (usage error, Ctrl-C, SIGTERM)."""

import os
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

TOOLS = os.path.join(REPO, "tools")
# The name each tool reports itself by: the command the README gives.
PROG = {
    "demo.py": "tools/demo",
    "console.py": "tools/console",
    "bench.py": "tools/bench.py",
    "soak.py": "tools/soak.py",
    "deploy.py": "tools/deploy.py",
    "qemu.py": "tools/qemu.py",
}

BAD = [
    ("demo.py", ["--messages", "-5"], "--messages: must be at least 1, got -5"),
    ("demo.py", ["--messages", "many"], "--messages: not an integer"),
    ("demo.py", ["--remote", "foo"], "--remote: invalid choice: 'foo'"),
    ("demo.py", ["--bogus"], "unrecognized arguments: --bogus"),
    ("demo.py", ["--count", "3"], "buffer_count must be a power of two"),
    ("bench.py", ["--modes", "x"], "--modes: 'x' is not one of pingpong, stream"),
    ("bench.py", ["--sizes", "0"], "--sizes: must be at least 1, got 0"),
    ("bench.py", ["--sizes", "16,,64"], "--sizes: expected a comma-separated list"),
    ("bench.py", ["--sizes", "600"], "every size exceeds the payload size 496"),
    ("bench.py", ["--pairs", "mp-foo"], "--pairs: 'mp-foo' is not one of"),
    ("bench.py", ["--window", "0"], "--window: must be at least 1, got 0"),
    ("bench.py", ["--copy", "--zero-copy"], "not allowed with argument --copy"),
    ("bench.py", ["--peer", "echo-peer"], "CMD must contain {shm}"),
    ("soak.py", ["--messages", "0"], "--messages: must be at least 1, got 0"),
    ("soak.py", ["--interpreter", "jython"], "--interpreter: invalid choice: 'jython'"),
    ("soak.py", ["--payload", "0"], "payload_size must be 1..65535"),
    ("console.py", ["--count", "-1"], "--count: must be at least 0, got -1"),
    ("console.py", ["--attach"], "--attach: expected one argument"),
    ("console.py", ["--attach", "a", "--serve", "b"], "not allowed with argument"),
    ("deploy.py", ["no_such_board"], "invalid choice: 'no_such_board'"),
    ("deploy.py", ["--port"], "--port: expected one argument"),
    ("qemu.py", ["flash"], "invalid choice: 'flash'"),
    ("qemu.py", ["demo", "not_a_board"], "invalid choice: 'not_a_board'"),
    ("qemu.py", [], "the following arguments are required: command"),
]


def _env(tmp_path):
    # Temporary folders of the tool land in tmp_path/tmp, checked empty after.
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return dict(os.environ, TMPDIR=str(tmp)), tmp


@pytest.mark.parametrize("tool,args,message", BAD, ids=[" ".join([t] + a) for t, a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(tool, args, message, tmp_path):
    env, tmp = _env(tmp_path)
    proc = subprocess.run(
        [sys.executable, os.path.join(TOOLS, tool)] + args, capture_output=True, timeout=60, env=env
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.count("\n") == 1 and err.endswith("--help)\n"), err
    assert err.startswith(PROG[tool] + ": error: "), err
    assert message in err, err
    assert "Traceback" not in err and proc.stdout == b""
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("tool", ["demo.py", "bench.py", "soak.py", "console.py", "deploy.py", "qemu.py"])
def test_help_exits_0_with_usage(tool):
    proc = subprocess.run([sys.executable, os.path.join(TOOLS, tool), "--help"], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().startswith("usage: ") and proc.stderr == b""


def _start_demo(env):
    return subprocess.Popen(
        [sys.executable, os.path.join(TOOLS, "demo.py"), "--messages", "100000000", "--count", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for_line(proc, text, timeout=60):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        seen.append(line)
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    pytest.fail("no %r in the output: %s" % (text, "".join(seen)))


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_demo_stopped_mid_run_cleans_up(sig, code, tmp_path):
    if hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    env, tmp = _env(tmp_path)
    proc = _start_demo(env)
    try:
        _wait_for_line(proc, "link is up")
        time.sleep(0.3)  # into the ping-pong
        assert len(list(tmp.iterdir())) == 1  # the demo's shared file lives there while it runs
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err.decode()
    assert "Traceback" not in err.decode(), err.decode()
    assert list(tmp.iterdir()) == []  # folder, shared file and FIFOs gone
