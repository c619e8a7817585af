#!/usr/bin/env python3
"""Host benchmarks: two core processes over the host port.

    python3 tools/bench.py [--pairs c-c,mp-mp,cpy-cpy,cpy-mp,mp-cpy,mp-c,c-mp]
        [--modes pingpong,stream] [--window 8] [--sizes 16,64,256,496]
        [--copy | --zero-copy] [--messages N]
        [--count N --payload N --align N --vring-size N --consumed-notify]
        [--no-doorbell-suppression]
        [--peer 'CMD {shm}'] [--out FILE]

Each run starts a master core (tools/cores/bench_master.py) and an echo
core (boards/host/main.py) on the interpreters of the pairing ("mp" =
MicroPython, "cpy" = CPython; master first). "c" is NXP's C RPMsg-Lite
(tools/cpeer.py builds it for the layout): its bench mode as master, its
echo at address 30 as remote (zero-copy calls when the run is zero-copy).
C <-> C is the reference: it runs first in every run that can build it, and
every other record gets its ratios to the C <-> C record of the same mode,
copy and size: msgs_per_s_vs_c (higher is better) and rtt_median_vs_c
(lower is better). With --peer, the remote is an
external program instead: {shm} in CMD is replaced by the shared file's
path, it must speak the host transport contract (README) and echo every
message back to its source from endpoint 30; the master then runs on each
interpreter of --pairs' masters. Prints one JSON object per measurement
(messages/s, MB/s one way, round-trip median and p99 in microseconds,
bytes allocated per message on MicroPython, doorbells per message a
MicroPython or CPython master rang and took) and a table on stderr.
"""

import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402
import cpeer  # noqa: E402

sys.path.insert(0, hostcores.HOST_BOARD)
hostcores.use_firmware()
import board  # noqa: E402

BENCH_MASTER = os.path.join(hostcores.REPO, "tools", "cores", "bench_master.py")
NAMES = {"mp": "micropython", "cpy": "cpython", "c": "c"}
REFERENCE = ["c", "c"]


def c_layout(opts):
    return cpeer.Layout(
        count=opts["count"],
        payload=opts["payload"],
        align=opts["align"],
        vring_size=opts["vring_size"],
        consumed_notify=bool(opts.get("consumed_notify")),
    )


def run_one(master, remote, mode, zero_copy, opts, peer_cmd):
    layout = board.layout_args(opts)
    zc = ["--zero-copy"] if zero_copy else []
    with hostcores.Workdir("rpmsg-bench-") as wd:
        if master == "c":
            argv = [cpeer.build(c_layout(opts)), wd.shm, "--master", "--mode", "bench", "--bench", mode]
            argv += ["--window", str(opts["window"]), "--sizes", opts["sizes"], "--messages", str(opts["messages"])]
            argv += ["--pa-base", str(opts["pa_base"])] + zc
            env = None
        else:
            args = [wd.shm, "--mode", mode, "--window", str(opts["window"]), "--sizes", opts["sizes"]]
            args += ["--messages", str(opts["messages"])] + layout + zc
            argv, env = hostcores.core_command(master, BENCH_MASTER, args)
        m = hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if peer_cmd:
            cmd = peer_cmd.replace("{shm}", shlex.quote(wd.shm))
            r = hostcores.Core(["/bin/sh", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elif remote == "c":
            argv = [cpeer.build(c_layout(opts)), wd.shm, "--remote", "--mode", "echo", "--pa-base", str(opts["pa_base"])]
            r = hostcores.Core(argv + zc, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
                for key in ("doorbells_out_per_msg", "doorbells_in_per_msg"):
                    if key in rec:
                        rec[key] = round(rec[key], 3)  # (MicroPython prints floats with all digits)
                results.append(rec)
        if not results:
            raise RuntimeError("bench master printed nothing:\n" + out.decode() + err.decode())
        return results


PAIRS = ("c-c", "mp-mp", "cpy-cpy", "cpy-mp", "mp-cpy", "mp-c", "c-mp", "cpy-c", "c-cpy")
DEFAULT_PAIRS = ["c-c", "mp-mp", "cpy-cpy", "cpy-mp", "mp-cpy", "mp-c", "c-mp"]
MODES = ("pingpong", "stream")


def parse_args(argv):
    parser = cli.Parser("tools/bench.py", __doc__.split("\n\n", 2)[2])
    parser.add_argument("--pairs", type=cli.choice_list(PAIRS), default=DEFAULT_PAIRS,
                        help="master-remote: mp, cpy or c (NXP's C library), comma-separated "
                        "(default: %s)" % ",".join(DEFAULT_PAIRS))
    parser.add_argument("--modes", type=cli.choice_list(MODES), default=list(MODES),
                        help="pingpong, stream or both (default)")
    parser.add_argument("--window", type=cli.int_range(1), default=8, metavar="W",
                        help="messages in flight when streaming (default 8; above --count the "
                        "sender waits for buffers: back-pressure)")
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
    parser.add_argument("--consumed-notify", action="store_true",
                        help="RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION on both sides (as with a Linux peer)")
    parser.add_argument("--no-doorbell-suppression", action="store_true",
                        help="MicroPython/CPython cores ring for every message (Config.doorbell_suppression, "
                        "on by default on the host board; C cores never set NO_NOTIFY)")
    args = parser.parse_args(argv)
    opts, cfg = cli.layout(parser, args)
    opts["consumed_notify"] = args.consumed_notify
    opts["no_doorbell_suppression"] = args.no_doorbell_suppression
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
    why_no_c = cpeer.unavailable()
    if why_no_c:
        if any("c" in p for p in pairs):
            print("bench: C pairings skipped: " + why_no_c, file=sys.stderr)
        pairs = [p for p in pairs if "c" not in p]
    elif REFERENCE not in pairs:
        pairs.insert(0, REFERENCE)  # the reference of every run
    else:
        pairs.insert(0, pairs.pop(pairs.index(REFERENCE)))
    if any(NAMES.get(x) == "micropython" for p in pairs for x in p) and hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    records = []
    reference = {}
    for master, remote in pairs:
        for mode in modes:
            for zero_copy in copies:
                ref = [master, remote] == REFERENCE
                for rec in run_one(NAMES[master], NAMES.get(remote), mode, zero_copy, opts, None if ref else peer):
                    key = (rec["mode"], rec["window"], rec["zero_copy"], rec["size"])
                    if ref:
                        reference[key] = rec
                    elif key in reference:
                        c_rec = reference[key]
                        rec["msgs_per_s_vs_c"] = round(rec["msgs_per_s"] / c_rec["msgs_per_s"], 3)
                        rec["rtt_median_vs_c"] = round(rec["rtt_median_us"] / max(c_rec["rtt_median_us"], 1), 2)
                    print(json.dumps(rec), flush=True)
                    records.append(rec)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(records, f, indent=1)
    table(records)
    return 0


def table(records):
    print(
        "%-24s %-9s %-4s %5s %9s %8s %9s %9s %6s %9s %14s"
        % ("master -> remote", "mode", "copy", "size", "msg/s", "MB/s", "rtt med", "rtt p99", "alloc", "bells o/i",
           "vs C msg/rtt"),
        file=sys.stderr,
    )
    for r in records:
        alloc = "-" if r["alloc_bytes_per_msg"] is None else "%g" % r["alloc_bytes_per_msg"]
        bells = "-"
        if "doorbells_out_per_msg" in r:
            bells = "%.2f/%.2f" % (r["doorbells_out_per_msg"], r["doorbells_in_per_msg"])
        vs = "-"
        if "msgs_per_s_vs_c" in r:
            vs = "%.2f/%.1f" % (r["msgs_per_s_vs_c"], r["rtt_median_vs_c"])
        print(
            "%-24s %-9s %-4s %5d %9d %8.2f %7dus %7dus %6s %9s %14s"
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
                bells,
                vs,
            ),
            file=sys.stderr,
        )


if __name__ == "__main__":
    cli.run(main, "tools/bench.py")
