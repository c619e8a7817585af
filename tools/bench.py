#!/usr/bin/env python3
"""Host benchmarks: two core processes over the host port.

    python3 tools/bench.py [--pairs mp-mp,cpy-cpy,cpy-mp,mp-cpy]
        [--modes pingpong,stream] [--window 8] [--sizes 16,64,256,496]
        [--copy | --zero-copy] [--messages N]
        [--count N --payload N --align N --vring-size N]
        [--peer 'CMD {shm}'] [--out FILE]

Each run starts a master core (tools/cores/bench_master.py) and an echo
core (boards/host/main.py) on the interpreters of the pairing ("mp" =
MicroPython, "cpy" = CPython; master first). With --peer, the remote is an
external program instead: {shm} in CMD is replaced by the shared file's
path, it must speak the host transport contract (README) and echo every
message back to its source from endpoint 30; the master then runs on each
interpreter of --pairs' masters. Prints one JSON object per measurement
(messages/s, MB/s one way, round-trip median and p99 in microseconds,
bytes allocated per message on MicroPython) and a table on stderr.
"""

import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

sys.path.insert(0, hostcores.HOST_BOARD)
hostcores.use_firmware()
import board  # noqa: E402

BENCH_MASTER = os.path.join(hostcores.REPO, "tools", "cores", "bench_master.py")
NAMES = {"mp": "micropython", "cpy": "cpython"}


def run_one(master, remote, mode, zero_copy, opts, peer_cmd):
    layout = board.layout_args(opts)
    with hostcores.Workdir("rpmsg-bench-") as wd:
        args = [wd.shm, "--mode", mode, "--window", str(opts["window"]), "--sizes", opts["sizes"]]
        args += ["--messages", str(opts["messages"])] + layout + (["--zero-copy"] if zero_copy else [])
        argv, env = hostcores.core_command(master, BENCH_MASTER, args)
        m = hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if peer_cmd:
            cmd = peer_cmd.replace("{shm}", shlex.quote(wd.shm))
            r = hostcores.Core(["/bin/sh", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            argv, env = hostcores.core_command(remote, hostcores.REMOTE_MAIN, [wd.shm, "--quiet"] + layout)
            r = hostcores.Core(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            out, err = m.proc.communicate(timeout=900)
        finally:
            m.close()
            r.close()
        results = []
        for line in out.decode().splitlines():
            if line.startswith("{"):
                rec = json.loads(line)
                if "error" in rec:
                    raise RuntimeError("%s: %s" % (rec["error"], err.decode()))
                rec["remote"] = "peer: " + peer_cmd if peer_cmd else remote
                results.append(rec)
        if not results:
            raise RuntimeError("bench master printed nothing:\n" + out.decode() + err.decode())
        return results


PAIRS = ("mp-mp", "cpy-cpy", "cpy-mp", "mp-cpy")
MODES = ("pingpong", "stream")


def parse_args(argv):
    parser = cli.Parser("tools/bench.py", __doc__.split("\n\n", 2)[2])
    parser.add_argument("--pairs", type=cli.choice_list(PAIRS), default=list(PAIRS),
                        help="master-remote interpreters, comma-separated (default: all)")
    parser.add_argument("--modes", type=cli.choice_list(MODES), default=list(MODES),
                        help="pingpong, stream or both (default)")
    parser.add_argument("--window", type=cli.int_range(1), default=8, metavar="W",
                        help="messages in flight when streaming (1..--count, default 8)")
    parser.add_argument("--sizes", type=cli.int_list(1), default=[16, 64, 256, 496],
                        help="payload sizes; those above --payload are skipped")
    parser.add_argument("--messages", type=cli.int_range(1), default=2000, metavar="N",
                        help="timed messages per size (default 2000)")
    copy = parser.add_mutually_exclusive_group()
    copy.add_argument("--copy", action="store_true", help="copy send/receive only")
    copy.add_argument("--zero-copy", action="store_true", help="zero-copy only")
    parser.add_argument("--peer", metavar="CMD", help="external echo peer; {shm} is the shared file")
    parser.add_argument("--out", metavar="FILE", help="also write all records as JSON")
    cli.add_layout(parser)
    args = parser.parse_args(argv)
    opts, cfg = cli.layout(parser, args)
    if args.window > cfg.buffer_count:
        parser.error("argument --window: must be at most --count (%d), got %d" % (cfg.buffer_count, args.window))
    if not [s for s in args.sizes if s <= cfg.payload_size]:
        parser.error("argument --sizes: every size exceeds the payload size %d" % cfg.payload_size)
    if args.peer is not None and "{shm}" not in args.peer:
        parser.error("argument --peer: CMD must contain {shm} (the shared file's path)")
    opts["window"] = str(args.window)
    opts["sizes"] = ",".join(str(s) for s in args.sizes)
    opts["messages"] = str(args.messages)
    return args, opts


def main(argv):
    args, opts = parse_args(argv)
    pairs = [p.split("-") for p in args.pairs]
    modes = args.modes
    copies = [False, True]
    if args.copy:
        copies = [False]
    if args.zero_copy:
        copies = [True]
    peer = args.peer
    if peer:  # one run per master interpreter against the external peer
        pairs = [[p[0], None] for p in pairs]
        pairs = [p for i, p in enumerate(pairs) if p not in pairs[:i]]
    if any(NAMES.get(x) == "micropython" for p in pairs for x in p) and hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    records = []
    for master, remote in pairs:
        for mode in modes:
            for zero_copy in copies:
                for rec in run_one(NAMES[master], NAMES.get(remote), mode, zero_copy, opts, peer):
                    print(json.dumps(rec), flush=True)
                    records.append(rec)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(records, f, indent=1)
    table(records)
    return 0


def table(records):
    print(
        "%-24s %-9s %-4s %5s %9s %8s %9s %9s %6s"
        % ("master -> remote", "mode", "copy", "size", "msg/s", "MB/s", "rtt med", "rtt p99", "alloc"),
        file=sys.stderr,
    )
    for r in records:
        alloc = "-" if r["alloc_bytes_per_msg"] is None else "%g" % r["alloc_bytes_per_msg"]
        print(
            "%-24s %-9s %-4s %5d %9d %8.2f %7dus %7dus %6s"
            % (
                r["master"][:5] + " -> " + r["remote"][:14],
                r["mode"] + ("" if r["mode"] == "pingpong" else "/%d" % r["window"]),
                "zero" if r["zero_copy"] else "copy",
                r["size"],
                r["msgs_per_s"],
                r["mb_per_s"],
                r["rtt_median_us"],
                r["rtt_p99_us"],
                alloc,
            ),
            file=sys.stderr,
        )


if __name__ == "__main__":
    cli.run(main)
