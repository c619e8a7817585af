#!/usr/bin/env python3
"""In-process loopback benchmark: both ends of a link in one MicroPython
unix-port process (send + deliver + callback), messages per second at 64
and 496 bytes. Prints JSON.

    python3 tools/loopback_bench.py [--messages N] [--interpreter micropython|cpython]
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

CORE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cores", "loopback_bench_core.py")


def main(argv):
    parser = cli.Parser("tools/loopback_bench.py", __doc__.split("\n\n", 1)[1])
    parser.add_argument("--messages", type=cli.int_range(1), default=200000)
    parser.add_argument("--interpreter", choices=("micropython", "cpython"), default="micropython")
    args = parser.parse_args(argv)
    cmd, env = hostcores.core_command(args.interpreter, CORE, [str(args.messages)])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    print(proc.stdout.strip())
    return 0


if __name__ == "__main__":
    cli.run(main)
