"""The emulated dual-core board: QEMU's mps2-an521 (ARM SSE-200, two
Cortex-M33s with shared SRAM and MHU doorbells), used by tools/qemu.py
(commands dual, dual-bench) and host_tests/test_qemu_an521.py.

Images (outputs in .cache/qemu/qemu_mps2_an521/):
  micropython core 0 / core 1   ports/qemu with boards/qemu_mps2_an521 (AN521_CORE=0/1)
  c master (core 0) / c remote (core 1)
                                boards/qemu_mps2_an521/cfirmware around NXP's
                                unmodified RPMsg-Lite, compiled from where
                                tools/cpeer.py finds it (RPMSG_LITE_DIR, ../shared/...)

Core 0's image is booted with -kernel, core 1's loaded with -device loader
and released by core 0. Each MicroPython core has its REPL on its own pty
(UART0 / UART1); C firmware writes through semihosting to QEMU's stdout.
"""

import os
import re
import shutil
import subprocess
import threading
import time

import qemu

BOARD = "qemu_mps2_an521"
OUT = os.path.join(qemu.REPO, ".cache", "qemu", BOARD)
CFIRMWARE = os.path.join(qemu.REPO, "boards", BOARD, "cfirmware")
KINDS = ("micropython", "c")


class NoCLibrary(Exception):
    """NXP's RPMsg-Lite source is not available."""


def rpmsg_lite_dir():
    """NXP's RPMsg-Lite source tree, found as tools/cpeer.py finds it
    ($RPMSG_LITE_DIR, ../shared/third_party/rpmsg-lite beside the checkout
    or beside a worktree's main checkout, or its clone in .cache/)."""
    import cpeer

    path = cpeer.find_library()
    if path is None:
        raise NoCLibrary(cpeer.HOW_TO_GET)
    return path


def _make(cmd, logname):
    logfile = os.path.join(qemu.REPO, ".cache", "logs", logname)
    os.makedirs(os.path.dirname(logfile), exist_ok=True)
    with open(logfile, "w") as f:
        if subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit("qemu: build failed, see %s" % logfile)


def build_micropython(core):
    qemu.ensure_toolchain()
    src = qemu.source_tree()
    jobs = "-j" + str(os.cpu_count() or 2)
    _make(["make", jobs, "-C", os.path.join(src, "mpy-cross")], "qemu-mpy-cross.log")
    _make(
        [
            "make", jobs, "-C", os.path.join(src, "ports", "qemu"),
            "BOARD=QEMU_MPS2_AN521",
            "BOARD_DIR=" + os.path.join(qemu.REPO, "boards", BOARD),
            "BUILD=" + os.path.join(OUT, "core%d" % core),
            "AN521_CORE=%d" % core,
        ],
        "qemu-%s-core%d.log" % (BOARD, core),
    )
    return image("micropython", core)


def build_c():
    qemu.ensure_toolchain()
    _make(
        ["make", "-C", CFIRMWARE, "RPMSG_LITE_DIR=" + rpmsg_lite_dir(), "BUILD=" + os.path.join(OUT, "c")],
        "qemu-%s-c.log" % BOARD,
    )


def image(kind, core):
    if kind == "micropython":
        return os.path.join(OUT, "core%d" % core, "firmware.elf")
    return os.path.join(OUT, "c", "master.elf" if core == 0 else "remote.elf")


def build(core0="micropython", core1="c"):
    """Build (incrementally) the images of one pairing."""
    for core, kind in ((0, core0), (1, core1)):
        if kind == "micropython":
            build_micropython(core)
    if "c" in (core0, core1):
        build_c()


def build_all():
    """Both MicroPython images, and the two C images if the library is
    there (else say why not)."""
    build_micropython(0)
    build_micropython(1)
    try:
        build_c()
    except NoCLibrary as e:
        qemu.log("C firmware not built: %s" % e)


def mpremote_path():
    path = os.path.join(qemu.REPO, ".cache", "venv", "bin", "mpremote")
    return path if os.path.exists(path) else (shutil.which("mpremote") or "mpremote")


class Pair:
    """QEMU running one image per core. ptys[n] is core n's UART (its REPL
    if it runs MicroPython); lines() is what the C firmware printed."""

    def __init__(self, core0="micropython", core1="c", icount=True):
        self.kinds = (core0, core1)
        cmd = ["qemu-system-arm", "-machine", "mps2-an521", "-nographic", "-monitor", "null", "-semihosting"]
        if icount:
            # Both cores in turn on one host thread, one instruction per
            # virtual nanosecond: counts are exact and repeat.
            cmd += ["-icount", "shift=0"]
        cmd += ["-serial", "pty", "-serial", "pty"]
        cmd += ["-kernel", image(core0, 0), "-device", "loader,file=" + image(core1, 1)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.ptys = []
        while len(self.ptys) < 2:
            line = self.proc.stdout.readline().decode()
            match = re.search(r"(/dev/pts/\d+)", line)
            if not match:
                self.close()
                raise SystemExit("qemu: no pty in %r" % line)
            self.ptys.append(match.group(1))
        self._lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        time.sleep(0.3)  # let core 0 reach its REPL

    def _read(self):
        for raw in self.proc.stdout:
            with self._cond:
                self._lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def wait_for(self, pattern, timeout=60):
        """The first line printed through semihosting that matches pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError("no line matching %r in %r" % (pattern, self._lines[-20:]))
                self._cond.wait(min(left, 1))

    def mpremote(self, core, *args, timeout=300):
        proc = subprocess.run(
            [mpremote_path(), "connect", self.ptys[core]] + list(args), capture_output=True, timeout=timeout
        )
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def serve_on_core1(self):
        """With MicroPython on core 1: make sure core 1 runs (core 0
        releases it if core 0 runs MicroPython), then start the echo remote
        in its REPL and leave it serving."""
        if self.kinds[0] == "micropython":
            code, out, err = self.mpremote(0, "exec", "import rl_mps2_an521 as an; an.start_core1()")
            if code:
                raise RuntimeError("core 0: " + out + err)
        time.sleep(0.3)  # core 1 reaches its REPL
        code, out, err = self.mpremote(1, "exec", "--no-follow", "import an521_echo; an521_echo.serve()")
        if code:
            raise RuntimeError("core 1: " + out + err)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


PAIRINGS = (("micropython", "c"), ("c", "micropython"), ("micropython", "micropython"), ("c", "c"))


def scenario(core0, core1, messages=20000, rounds=1000, icount=True, timeout=300):
    """Boot a pairing, run the master's scenario (an521_master.run or
    cfirmware/master.c; a C master always sends 20 000 messages and times
    1000 round trips) and return (result dict, pair output lines, core 1
    report). With MicroPython on core 1, the master's last message ends
    its serve(), and the report is an521_echo.last read through mpremote on
    core 1's REPL (the remote's own count of checked and bad messages)."""
    import json

    build(core0, core1)
    with Pair(core0, core1, icount) as pair:
        if core1 == "micropython":
            pair.serve_on_core1()
        if core0 == "micropython":
            code, out, err = pair.mpremote(
                0, "exec",
                "import an521_master as m; m.run(messages=%d, rounds=%d, start=%s)" % (messages, rounds, core1 == "c"),
                timeout=timeout,
            )
            if code:
                raise RuntimeError("core 0: " + out + err)
            line = [x for x in out.splitlines() if x.startswith("{")][-1]
        else:
            line = pair.wait_for(r"^\{", timeout=timeout)
        report = None
        if core1 == "micropython":
            code, out, err = pair.mpremote(1, "resume", "eval", "an521_echo.last", timeout=60)
            if code:
                raise RuntimeError("core 1: " + out + err)
            report = out.strip()
        return json.loads(line), pair.lines(), report


def bench(icount=True):
    """Instructions (both cores) per 64-byte round trip for every pairing,
    one dict; C pairings are None (with the reason) without the C library.
    Without -icount the figures are host nanoseconds instead."""
    unit = "instructions per 64-byte copy round trip, both cores (-icount shift=0)"
    if not icount:
        unit = "host nanoseconds per 64-byte copy round trip, both cores truly in parallel (no -icount)"
    out = {"unit": unit, "rounds": 1000}
    for core0, core1 in PAIRINGS:
        key = "%s_master-%s_remote" % (core0, core1)
        try:
            result, _, _ = scenario(core0, core1, messages=200, icount=icount)
            out[key] = result["rt64_instructions"]
        except NoCLibrary as e:
            out[key] = None
            out["skipped"] = str(e)
    return out


def interactive(core1="c", icount=True):
    """Boot MicroPython on core 0 and core1 ("c" or "micropython") on
    core 1, bring the link up and hand core 0's REPL to the user through
    mpremote, with c1 = an521_master.Core1() ready. Without the C library
    core 1 runs MicroPython instead (saying why)."""
    if core1 == "c":
        try:
            rpmsg_lite_dir()
        except NoCLibrary as e:
            qemu.log("%s\nqemu: core 1 runs MicroPython instead" % e)
            core1 = "micropython"
    build("micropython", core1)
    with Pair("micropython", core1, icount) as pair:
        if core1 == "micropython":
            pair.serve_on_core1()
        print(
            "qemu: mps2-an521, core 0 MicroPython REPL on %s, core 1 (%s) UART on %s\n"
            "qemu: core 1 serves 'rpmsg-echo'; try c1.ask(b'hello core 1'); Ctrl-] leaves"
            % (pair.ptys[0], "MicroPython" if core1 == "micropython" else "C RPMsg-Lite", pair.ptys[1]),
            flush=True,
        )
        setup = "import an521_master as m; c1 = m.Core1(); print('name service:', c1.names)"
        return subprocess.run([mpremote_path(), "connect", pair.ptys[0], "exec", setup, "repl"]).returncode
