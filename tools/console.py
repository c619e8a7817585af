#!/usr/bin/env python3
"""A terminal onto the REPL of a MicroPython core, over RPMsg.

    tools/console                 start a MicroPython core and open its REPL
    tools/console --attach FILE   join a running master core (boards/host/
                                  main.py FILE --master --console, run with
                                  `micropython -i`) as the remote

The core serves its REPL on an "rpmsg-tty" endpoint (rpmsg_lite.console,
handed to os.dupterm). This tool finds it through the name service and
relays bytes: every key typed goes through shared memory to the core and
the REPL's output comes back the same way.

On a terminal, keys are sent as typed (the core echoes them); Ctrl-] quits.
With stdin from a pipe or file, each line is sent and the output printed
once the core has been quiet for a moment; the tool exits at end of input.

Layout options (--count, --payload, ...) must match the core's.
"""

import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

hostcores.use_firmware()
import board  # noqa: E402
from rpmsg_lite import RPMsgLite, NameService, ADDR_ANY, RPMsgError  # noqa: E402
from rpmsg_lite.console import TTY_NAME  # noqa: E402
from rl_host import HostPort  # noqa: E402

QUIT = b"\x1d"  # Ctrl-]


class Terminal:
    """The relay between this process's stdin/stdout and the tty endpoint."""

    def __init__(self, link, port):
        self.link = link
        self.port = port
        self.tty = None
        self.output = 0  # bytes received so far
        self.last_output = time.monotonic()

        def services(addr, name, flags):
            if name == TTY_NAME:
                self.tty = addr if flags == 0 else None

        self.ns = NameService(link, services)
        self.ept = link.create_ept(ADDR_ANY, self._received)

    def _received(self, payload, src):
        os.write(sys.stdout.fileno(), bytes(payload))
        self.output += len(payload)
        self.last_output = time.monotonic()

    def wait_for_tty(self, timeout_s, core=None):
        deadline = time.monotonic() + timeout_s
        while self.tty is None:
            if time.monotonic() > deadline or (core is not None and not core.running()):
                return False
            self.port.wait(10)
        return True

    def send(self, data):
        self.last_output = time.monotonic()  # quiet time counts from here
        step = self.link.payload_size
        for i in range(0, len(data), step):
            self.link.send(self.ept, self.tty, data[i : i + step], 2000)

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.port.wait(10)

    def settle(self, quiet_s=0.4, limit_s=10.0):
        """Serve doorbells until the core has been quiet for quiet_s."""
        end = time.monotonic() + limit_s
        while time.monotonic() < end and time.monotonic() - self.last_output < quiet_s:
            self.port.wait(10)

    def batch(self, stream):
        """Send each line of a non-interactive input, printing the output."""
        self.send(b"\r")  # wake the REPL: its prompt tells us it is listening
        self.settle()
        for line in stream:
            self.send(line.rstrip(b"\r\n") + b"\r")
            self.settle()
        return 0

    def interactive(self):
        import termios
        import tty

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)
        keys = []
        done = threading.Event()

        def reader():
            while not done.is_set():
                if select.select([fd], [], [], 0.1)[0]:
                    data = os.read(fd, 64)
                    if not data or QUIT in data:
                        done.set()
                        return
                    keys.append(data)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        try:
            self.send(b"\r")
            while not done.is_set():
                self.port.wait(10)
                while keys:
                    self.send(keys.pop(0))
                if not self.port.peer_alive():
                    break
        finally:
            done.set()
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        print()
        return 0


def parse_args(argv):
    parser = cli.Parser("tools/console", __doc__.split("\n\n", 1)[1])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--attach", metavar="FILE", help="join the master core serving FILE, as its remote")
    where.add_argument("--serve", metavar="FILE", help="run a master core on FILE to attach to")
    cli.add_layout(parser)
    args = parser.parse_args(argv)
    opts, cfg = cli.layout(parser, args)
    return args, opts, cfg


def main(argv):
    args, opts, cfg = parse_args(argv)
    opts["attach"] = args.attach
    core = None
    workdir = None
    if opts.get("attach"):
        port = HostPort.open(opts["attach"], cfg.shm_size, 10000)
        link = RPMsgLite.remote(port.shm, port, cfg)
        term = Terminal(link, port)  # bind the name service before any delivery
        if not link.wait_for_link_up(10000):
            print("console: link did not come up", file=sys.stderr)
            return 1
    else:
        if hostcores.find_micropython() is None:
            print("console: MicroPython not found (run tools/setup.sh)", file=sys.stderr)
            return 1
        workdir = hostcores.Workdir("rpmsg-console-")
        port = HostPort.create(workdir.shm, cfg.shm_size)
        link = RPMsgLite.master(port.shm, port, cfg)
        term = Terminal(link, port)
        argv_core, env = hostcores.core_command(
            "micropython",
            hostcores.REMOTE_MAIN,
            [workdir.shm, "--console", "--quiet"] + board.layout_args(opts),
            interactive=True,
        )
        # The core's own stdout repeats what dupterm sends us: discard it.
        import subprocess

        core = hostcores.Core(argv_core, env=env, stdout=subprocess.DEVNULL, stderr=None)
    try:
        if not term.wait_for_tty(20, core):
            print("console: no %r service was announced" % TTY_NAME, file=sys.stderr)
            return 1
        if sys.stdin.isatty():
            print("console: connected to the core's REPL over RPMsg (Ctrl-] quits)\r")
            return term.interactive()
        return term.batch(sys.stdin.buffer)
    except RPMsgError as e:
        print("\nconsole: %s" % e, file=sys.stderr)
        return 1
    finally:
        port.close()
        if core is not None:
            core.close()
        if workdir is not None:
            workdir.close()


if __name__ == "__main__":
    cli.run(main)
