#!/usr/bin/env python3
"""The stack on an emulated Cortex-M: MicroPython's ports/qemu firmware with
this project frozen in, booted under qemu-system-arm, used with mpremote.

    python3 tools/qemu.py build [BOARD ...]     build the firmware (default: all)
    python3 tools/qemu.py demo  [BOARD]         boot, run the board demo over mpremote
    python3 tools/qemu.py run   [BOARD]         boot and wait; prints the pty for mpremote
    python3 tools/qemu.py bench                 instruction counts and footprint (JSON)
    python3 tools/qemu.py dual [--core1 c|micropython] [--no-icount]
                                                two cores (mps2-an521): core 1 serves
                                                echo, you get core 0's REPL (mpremote)
    python3 tools/qemu.py dual-bench [--no-icount]
                                                instructions per 64-byte round trip for
                                                every pairing of C and MicroPython (JSON)
    python3 tools/qemu.py build qemu_mps2_an521 the dual-core board's four images

BOARD: qemu_mps2_an385 (Cortex-M3, the default) or qemu_microbit_m0
(Cortex-M0 with viper, ARMv6-M like the RP2040); the board folders are in
boards/. The firmware is built from the MicroPython source tools/setup.sh
fetched (the one the tests use), with Debian's gcc-arm-none-eabi; QEMU runs
with -icount shift=0, so one guest instruction is one virtual nanosecond
and timings are instruction counts. Outputs are cached
in .cache/qemu/<board>/.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = ("qemu_mps2_an385", "qemu_microbit_m0")
# Two cores, four images: tools/qemu_an521.py (commands dual, dual-bench;
# `build qemu_mps2_an521` builds them all).
DUAL_BOARD = "qemu_mps2_an521"
TOOLCHAIN = {"arm-none-eabi-gcc": "gcc-arm-none-eabi", "qemu-system-arm": "qemu-system-arm"}
TOOLCHAIN_PACKAGES = ["gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm"]


class Unavailable(Exception):
    """The toolchain cannot be installed here (no apt, not root)."""


def log(*args):
    print("qemu:", *args, file=sys.stderr, flush=True)


def source_tree():
    try:
        with open(os.path.join(REPO, ".cache", "micropython", "source.txt")) as f:
            return f.read().strip()
    except OSError:
        raise SystemExit("qemu: MicroPython source not found: run tools/setup.sh")


def ensure_toolchain():
    missing = [pkg for tool, pkg in TOOLCHAIN.items() if shutil.which(tool) is None]
    if not missing and os.path.exists("/usr/lib/arm-none-eabi/newlib"):
        return
    if shutil.which("apt-get") is None:
        raise Unavailable("gcc-arm-none-eabi and qemu-system-arm are missing and there is no apt-get")
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        raise Unavailable("need root to install %s" % " ".join(TOOLCHAIN_PACKAGES))
    log("installing", " ".join(TOOLCHAIN_PACKAGES))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = prefix + ["apt-get", "install", "-y", "--no-install-recommends"] + TOOLCHAIN_PACKAGES
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(prefix + ["apt-get", "update"], env=env, capture_output=True)
        proc = subprocess.run(cmd, env=env, capture_output=True)
        if proc.returncode != 0:
            raise Unavailable("apt-get could not install the toolchain: " + proc.stderr.decode()[-400:])


def board_info(board):
    with open(os.path.join(REPO, "boards", board, "qemu.json")) as f:
        return json.load(f)


def firmware_path(board):
    return os.path.join(REPO, ".cache", "qemu", board, "firmware.elf")


def build(board):
    ensure_toolchain()
    src = source_tree()
    info = board_info(board)
    out = os.path.join(REPO, ".cache", "qemu", board)
    os.makedirs(out, exist_ok=True)
    logfile = os.path.join(REPO, ".cache", "logs", "qemu-%s.log" % board)
    os.makedirs(os.path.dirname(logfile), exist_ok=True)
    jobs = str(os.cpu_count() or 2)
    with open(logfile, "w") as f:
        for cmd in (
            ["make", "-j" + jobs, "-C", os.path.join(src, "mpy-cross")],
            [
                "make", "-j" + jobs, "-C", os.path.join(src, "ports", "qemu"),
                "BOARD=" + info["micropython_board"],
                "BOARD_DIR=" + os.path.join(REPO, "boards", board),
                "BUILD=" + out,
            ],
        ):
            if subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode != 0:
                raise SystemExit("qemu: build failed, see %s" % logfile)
    log("built", firmware_path(board))
    return firmware_path(board)


class Emulator:
    """A QEMU instance running the board's firmware, its UART on a pty."""

    def __init__(self, board):
        info = board_info(board)
        elf = firmware_path(board)
        if not os.path.exists(elf):
            build(board)
        cmd = ["qemu-system-arm", "-machine", info["machine"], "-nographic", "-monitor", "null", "-semihosting"]
        # One instruction per virtual nanosecond: timings are instruction
        # counts and repeat exactly.
        cmd += ["-icount", "shift=0"] + info["qemu_args"] + ["-serial", "pty", "-kernel", elf]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        match = re.search(r"(/dev/pts/\d+)", line)
        if not match:
            self.close()
            raise SystemExit("qemu: no pty in %r" % line)
        self.pty = match.group(1)
        time.sleep(0.3)  # let the firmware reach its REPL

    def mpremote(self, *args, timeout=300):
        mpremote = os.path.join(REPO, ".cache", "venv", "bin", "mpremote")
        if not os.path.exists(mpremote):
            mpremote = shutil.which("mpremote") or "mpremote"
        proc = subprocess.run([mpremote, "connect", self.pty] + list(args), capture_output=True, timeout=timeout)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def run_file(self, path, timeout=300):
        return self.mpremote("run", path, timeout=timeout)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def demo(board):
    with Emulator(board) as emu:
        code, out, err = emu.run_file(os.path.join(REPO, "boards", "qemu_mps2_an385", "main.py"))
        print(out, end="")
        if code != 0:
            print(err, file=sys.stderr)
        return code


def run(board):
    with Emulator(board) as emu:
        print("firmware running; connect with: mpremote connect %s" % emu.pty, flush=True)
        try:
            emu.proc.wait()
        except KeyboardInterrupt:
            pass
    return 0


def parse_args(argv):
    parser = cli.Parser("tools/qemu.py", __doc__.split("\n\n", 1)[1])
    parser.add_argument("command", choices=("build", "demo", "run", "bench", "dual", "dual-bench"))
    parser.add_argument("--core1", choices=("c", "micropython"), default="c", help="dual: core 1's firmware")
    parser.add_argument("--no-icount", action="store_true", help="dual, dual-bench: both cores truly in parallel")
    parser.add_argument("boards", nargs="*", metavar="BOARD", help=" or ".join(BOARDS))
    args = parser.parse_args(argv)
    for board in args.boards:
        if board == DUAL_BOARD and args.command == "build":
            continue
        if board not in BOARDS:
            parser.error("argument BOARD: invalid choice: %r (choose from %s)" % (board, ", ".join(BOARDS)))
    if args.command in ("demo", "run") and len(args.boards) > 1:
        parser.error("%s takes one BOARD" % args.command)
    if args.command in ("dual", "dual-bench") and args.boards:
        parser.error("%s takes no BOARD (it runs qemu_mps2_an521)" % args.command)
    if args.command == "bench" and args.boards:
        parser.error("bench takes no BOARD (it measures qemu_mps2_an385 and qemu_microbit_m0)")
    return args


def main(argv):
    args = parse_args(argv)
    command, boards = args.command, args.boards
    try:
        if command == "build":
            for board in boards or BOARDS:
                if board == DUAL_BOARD:
                    import qemu_an521

                    qemu_an521.build_all()
                else:
                    build(board)
            return 0
        if command in ("dual", "dual-bench"):
            import qemu_an521

            try:
                if command == "dual":
                    return qemu_an521.interactive(args.core1, not args.no_icount)
                print(json.dumps(qemu_an521.bench(not args.no_icount)))
                return 0
            except qemu_an521.NoCLibrary as e:
                print("qemu: %s" % e, file=sys.stderr)
                return 3
        if command == "bench":
            import qemu_bench

            return qemu_bench.main(boards)
        board = boards[0] if boards else BOARDS[0]
        return demo(board) if command == "demo" else run(board)
    except Unavailable as e:
        print("qemu: %s" % e, file=sys.stderr)
        return 3



if __name__ == "__main__":
    cli.run(main, "tools/qemu.py")
