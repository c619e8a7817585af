"""tools/console through real processes: piped input, a terminal (a pty),
Ctrl-C into running code, serve/attach/detach/attach, and clear refusals."""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

CONSOLE = os.path.join(REPO, "tools", "console.py")


@pytest.fixture
def env(tmp_path):
    if hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    yield dict(os.environ, TMPDIR=str(tmp))
    assert list(tmp.iterdir()) == []  # no temporary folder left behind


def _pipe(env, text, *args):
    return subprocess.run(
        [sys.executable, CONSOLE] + list(args), input=text.encode(), capture_output=True, timeout=120, env=env
    )


def test_piped_input_waits_for_each_statement(env):
    # Statements slower than any fixed quiet time, a traceback, a block
    # closed by the next top-level line, and a block left open at the end.
    script = (
        "import time\n"
        "time.sleep(0.7); print('slow', 1)\n"
        "print('next')\n"
        "1/0\n"
        "def f(n):\n"
        "    if n:\n"
        "        return n * 2\n"
        "    else:\n"
        "        return -1\n"
        "time.sleep(0.5); print('f', f(21))\n"
        "for i in range(2):\n"
        "  print('loop', i)\n"
    )
    proc = _pipe(env, script)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, out + err
    assert err == ""  # the core's stderr reaches us once, through the console
    assert "\r" not in out  # plain text into a pipe
    lines = out.splitlines()
    want = [
        ">>> time.sleep(0.7); print('slow', 1)", "slow 1", ">>> print('next')", "next",
        ">>> 1/0", "Traceback (most recent call last):", '  File "<stdin>", line 1, in <module>',
        "ZeroDivisionError: divide by zero",
        ">>> def f(n):", "...     if n:", "...         return n * 2", "...     else:", "...         return -1",
        "... ", ">>> time.sleep(0.5); print('f', f(21))", "f 42",
        ">>> for i in range(2):", "...   print('loop', i)", "... ", "loop 0", "loop 1", ">>> ",
    ]
    start = lines.index(want[0])
    assert lines[start:] == want, out
    assert out.count("ZeroDivisionError") == 1


class Pty:
    """tools/console on a pseudo-terminal, as a person would run it."""

    def __init__(self, env, *args):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, CONSOLE] + list(args), stdin=slave, stdout=slave, stderr=slave, env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.out = b""
        self.pos = 0  # end of the last match
        self.start = 0  # expect() returns the output from here

    def expect(self, pattern, timeout=30):
        """Read until ``pattern`` appears after the previous match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.out, self.pos)
            if match:
                self.pos = match.end()
                return self.out[self.start : self.pos]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                pytest.fail("no %r in %r" % (pattern, self.out))
            try:
                data = os.read(self.master, 4096)
            except OSError:
                data = b""
            if not data:
                pytest.fail("console ended; no %r in %r" % (pattern, self.out))
            self.out += data

    def mark(self):
        self.start = self.pos

    def type(self, data):
        os.write(self.master, data)

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(30)
        os.close(self.master)
        return code


def test_terminal_ctrl_c_interrupts_code_on_the_core(env):
    term = Pty(env)
    try:
        term.expect(rb"Ctrl-\] quits")
        term.expect(rb">>> $")
        for loop in (b"while True: pass\r", b"import time; time.sleep(60)"):
            term.mark()
            term.type(loop + b"\r")
            term.expect(re.escape(loop.split(b"\r")[0]) + rb"\r\n(\.\.\. \r\n)?")  # echoed: it runs
            time.sleep(0.3)
            term.type(b"\x03")
            after = term.expect(rb"KeyboardInterrupt[^\n]*\r\n>>> $", timeout=10)
            assert after.count(b"Traceback") == 1, after
            assert after.split(b"KeyboardInterrupt")[1].count(b">>> ") == 1, after  # one prompt after it
        term.type(b"for i in range(3): print('line', i)\r")
        term.type(b"\r")
        term.expect(rb"line 2\r\n>>> $")
        # CR LF everywhere: no bare LF reaches the terminal (no staircase).
        assert re.search(rb"[^\r]\n", term.out) is None, term.out
        term.type(b"\x1d")  # Ctrl-]
        assert term.proc.wait(30) == 0
    finally:
        term.close()


def test_serve_attach_detach_attach_again(env, tmp_path):
    shm = str(tmp_path / "shm")
    serve = subprocess.Popen(
        [sys.executable, CONSOLE, "--serve", shm, "--count", "4"], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(shm + ".ready"):
            assert serve.poll() is None and time.monotonic() < deadline, "the master core did not start"
            time.sleep(0.05)
        first = _pipe(env, "x = 41\nprint('first', x)\n", "--attach", shm, "--count", "4")
        assert first.returncode == 0, first.stdout.decode() + first.stderr.decode()
        assert "\nfirst 41\n" in first.stdout.decode()
        for n in range(2):  # attach again after each detach: the core keeps its state
            again = _pipe(env, "x += 1\nprint('again', x)\n", "--attach", shm, "--count", "4")
            assert again.returncode == 0, again.stdout.decode() + again.stderr.decode()
            assert "\nagain %d\n" % (42 + n) in again.stdout.decode(), again.stdout.decode()
        # A wrong layout is named, at once.
        wrong = _pipe(env, "", "--attach", shm)
        assert wrong.returncode == 1 and "this layout needs" in wrong.stderr.decode()
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(30)


def test_attach_to_a_missing_or_stale_file_says_so_at_once(env, tmp_path):
    shm = str(tmp_path / "shm")
    for setup, message in (
        (lambda: None, "does not exist: no master core serves it"),
        (lambda: open(shm, "wb").close(), ".ready is missing: the master core is not running"),
        (lambda: [os.mkfifo(shm + s) for s in (".m2r", ".r2m")] + [open(shm + ".ready", "w").close()],
         "is stale: no master core holds it"),
    ):
        setup()
        start = time.monotonic()
        proc = _pipe(env, "", "--attach", shm)
        err = proc.stderr.decode()
        assert time.monotonic() - start < 5
        assert proc.returncode == 1 and err.count("\n") == 1, err
        assert message in err and "tools/console --serve %s" % shm in err, err
        assert "Traceback" not in err
