#!/usr/bin/env python3
"""Soak test: a long two-way stream between two core processes.

    python3 tools/soak.py [--messages N] [--interpreter micropython|cpython]
                          [--progress N] [--no-doorbell-suppression] [--count N --payload N --align N]

Each core (tools/cores/soak_core.py, MicroPython by default) sends N
messages (default 5 000 000, so 10 million in all) while checking the
other's sequence numbers and payload checksums. Prints each core's JSON
report and a summary line; exits non-zero on any loss, duplicate,
corruption, heap growth or leaked file descriptor.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

sys.path.insert(0, hostcores.HOST_BOARD)
hostcores.use_firmware()
import board  # noqa: E402

SOAK_CORE = os.path.join(hostcores.REPO, "tools", "cores", "soak_core.py")
# gc.mem_free after collect differs a little between start and end (module
# caches, the interned strings of the report); more than this is a leak.
HEAP_SLACK = 4096


def parse_args(argv):
    parser = cli.Parser("tools/soak.py", __doc__.split("\n\n", 2)[2])
    parser.add_argument("--messages", type=cli.int_range(1), default=5000000, metavar="N",
                        help="messages per direction (default 5000000)")
    parser.add_argument("--interpreter", choices=("micropython", "cpython"), default="micropython",
                        help="interpreter of both cores (default micropython)")
    parser.add_argument("--progress", type=cli.int_range(1), metavar="N",
                        help="report every N messages received (default: a tenth)")
    parser.add_argument("--no-doorbell-suppression", action="store_true",
                        help="cores do not set NO_NOTIFY on the ring they drain (Config.doorbell_suppression, "
                        "on by default on the host board)")
    cli.add_layout(parser)
    args = parser.parse_args(argv)
    opts, _ = cli.layout(parser, args)
    return args, opts


def main(argv):
    args, opts = parse_args(argv)
    messages = args.messages
    interpreter = args.interpreter
    progress = str(args.progress or max(messages // 10, 1))
    layout = board.layout_args(opts)
    if args.no_doorbell_suppression:
        layout.append("--no-doorbell-suppression")
    if interpreter == "micropython" and hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    reports = []
    with hostcores.Workdir("rpmsg-soak-") as wd:
        cores = []
        for role in (["--master"], []):
            args = [wd.shm, "--messages", str(messages), "--progress", progress] + layout + role
            argv_core, env = hostcores.core_command(interpreter, SOAK_CORE, args)
            cores.append(hostcores.Core(argv_core, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        start = time.monotonic()
        try:
            for index, core in enumerate(cores):
                lines = []
                for raw in core.proc.stdout:  # progress lines as they come
                    line = raw.decode().strip()
                    if line.startswith('{"progress"'):
                        if index:
                            continue  # the remote's would only arrive after the master's end
                        done = json.loads(line)["progress"]
                        print("soak: %d/%d messages received, %.0f s" % (done, messages, time.monotonic() - start), file=sys.stderr)
                    else:
                        lines.append(line)
                core.proc.wait()
                reports_lines = [line for line in lines if line.startswith("{")]
                if core.proc.returncode != 0 or not reports_lines:
                    print("\n".join(lines), file=sys.stderr)
                    print("soak: a core failed (exit %s)" % core.proc.returncode, file=sys.stderr)
                    return 1
                reports.append(json.loads(reports_lines[-1]))
        finally:
            for core in cores:
                core.close()
        wall = time.monotonic() - start
    ok = True
    for r in reports:
        print(json.dumps(r))
        if r["lost"] or r["duplicates"] or r["corrupt"] or r["received"] != messages or r["sent"] != messages:
            ok = False
        if r["fds_end"] != r["fds_start"]:
            ok = False
        if r["heap_free_start"] >= 0 and r["heap_free_start"] - r["heap_free_end"] > HEAP_SLACK:
            ok = False
    total = sum(r["received"] for r in reports)
    summary = {
        "messages": total,
        "lost": sum(r["lost"] for r in reports),
        "duplicates": sum(r["duplicates"] for r in reports),
        "corrupt": sum(r["corrupt"] for r in reports),
        "wall_s": round(wall, 1),
        "msgs_per_s": round(total / wall),
        "heap_free_start_end": [[r["heap_free_start"], r["heap_free_end"]] for r in reports],
        "fds_start_end": [[r["fds_start"], r["fds_end"]] for r in reports],
        "doorbells_per_msg": round(sum(r.get("doorbells", 0) for r in reports) / max(total, 1), 4),
        "ok": ok,
    }
    print(json.dumps({"summary": summary}))
    return 0 if ok else 1


if __name__ == "__main__":
    cli.run(main, "tools/soak.py")
