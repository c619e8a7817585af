#!/usr/bin/env python3
"""A terminal onto the REPL of a MicroPython core, over RPMsg.

    tools/console                 start a MicroPython core and open its REPL
    tools/console --serve FILE    run a MicroPython master core on FILE (its
                                  REPL waits for a console to attach)
    tools/console --attach FILE   join that master core as its remote; quit
                                  and attach again as often as you like

The core serves its REPL on an "rpmsg-tty" endpoint (rpmsg_lite.console,
handed to os.dupterm). This tool finds it through the name service and
relays bytes: every key typed goes through shared memory to the core and
the REPL's output comes back the same way.

On a terminal, keys are sent as typed (the core echoes them); Ctrl-C
interrupts code running on the core, Ctrl-] quits. With stdin from a pipe
or file, each line is sent once the REPL has finished the previous one (its
prompt came back), and the tool exits at end of input.

Layout options (--count, --payload, ...) must match the core's.
"""

import os
import re
import select
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import hostcores  # noqa: E402

hostcores.use_firmware()
import board  # noqa: E402
from rpmsg_lite import RPMsgLite, NameService, ADDR_ANY, NS_CREATE, RPMsgError  # noqa: E402
from rpmsg_lite.console import TTY_NAME  # noqa: E402
from rl_host import HostPort  # noqa: E402

QUIT = b"\x1d"  # Ctrl-]
CLIENT_NAME = "rpmsg-tty-client"  # how an attaching console announces itself
CTRL_C = b"\x03"
# The REPL waits for a line: its prompt, then the auto-indent of a block.
PROMPT = re.compile(rb"\n(>>>|\.\.\.) +$")
# Sent before a continuation line: the REPL has already typed the block's
# indentation (MICROPY_REPL_AUTO_INDENT); each backspace deletes up to 4 of
# those spaces (readline.c) and does nothing once they are gone, so this
# clears any depth up to 16 levels, and the piped line keeps its own.
UNINDENT = b"\x08" * 16


class Output:
    """Writes the core's bytes to stdout. On a raw terminal a bare LF (the
    unix port ends printed lines with one) becomes CR LF. Into a pipe or a
    file the line editing of the REPL (backspaces, cursor moves, erase to
    end of line) is applied, so captured output is the plain text a
    terminal would show, lines ending in LF."""

    def __init__(self, raw):
        self.raw = raw
        self.fd = sys.stdout.fileno()
        self.last = b""  # raw: the previous chunk's last byte
        self.line = bytearray()  # plain: the line being edited
        self.col = 0
        self.esc = None  # plain: an escape sequence being read

    def write(self, data):
        if self.raw:
            fixed = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if data[:1] == b"\n" and self.last == b"\r":
                fixed = fixed[1:]  # the CR ended the previous chunk
            self.last = data[-1:]
            self._put(fixed)
        else:
            self._put(self._edit(data))

    def close(self):
        """Plain mode: the unfinished last line (a prompt), then LF."""
        if not self.raw and self.line:
            self._put(bytes(self.line) + b"\n")
            self.line = bytearray()

    def _put(self, data):
        while data:
            data = data[os.write(self.fd, data):]

    def _edit(self, data):
        done = bytearray()
        line = self.line
        for b in data:
            if self.esc is not None:  # ESC [ digits letter (VT100, as readline.c emits)
                self.esc.append(b)
                if 0x40 <= b <= 0x7E and len(self.esc) > 1:
                    digits = bytes(self.esc[1:-1])
                    n = int(digits) if digits.isdigit() else 1
                    if b == 0x44:  # D: cursor left
                        self.col = max(0, self.col - n)
                    elif b == 0x43:  # C: cursor right
                        self.col += n
                    elif b == 0x4B:  # K: erase to end of line
                        del line[self.col :]
                    self.esc = None
            elif b == 0x1B:
                self.esc = bytearray()
            elif b == 0x0A:
                done += line + b"\n"
                del line[:]
                self.col = 0
            elif b == 0x0D:
                self.col = 0
            elif b == 0x08:
                self.col = max(0, self.col - 1)
            else:
                if self.col < len(line):
                    line[self.col] = b
                else:
                    line.extend(b" " * (self.col - len(line)))
                    line.append(b)
                self.col += 1
        return bytes(done)


def closes_block(prev, line):
    """True if ``line`` (after ``prev``) is a new top-level statement, so an
    open block must end first: not indented, not blank, not the else/elif/
    except/finally of the block, not the definition under a decorator."""
    if not line.strip() or line[:1] in (b" ", b"\t") or prev.startswith(b"@"):
        return False
    word = re.match(rb"[a-z]*", line).group(0)
    return word not in (b"else", b"elif", b"except", b"finally")


class Terminal:
    """The relay between this process's stdin/stdout and the tty endpoint."""

    def __init__(self, link, port, core=None):
        self.link = link
        self.port = port
        self.core = core  # the core process this tool started, if any
        self.tty = None
        self.out = Output(False)
        self.tail = b""  # the last bytes received (prompt detection)
        self.received = 0
        self.newlines = 0  # LFs received: every line sent is echoed with one

        def services(addr, name, flags):
            if name == TTY_NAME:
                self.tty = addr if flags == 0 else None

        self.ns = NameService(link, services)
        self.ept = link.create_ept(ADDR_ANY, self._received)

    def _received(self, payload, src):
        data = bytes(payload)
        self.out.write(data)
        self.tail = (self.tail + data)[-80:]
        self.received += len(data)
        self.newlines += data.count(b"\n")

    def core_alive(self):
        if self.core is not None:  # started by us: alive until it exits
            return self.core.running()
        return self.port.peer_alive()

    def wait_for_tty(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while self.tty is None:
            if time.monotonic() > deadline or not self.core_alive():
                return False
            self.port.wait(10)
        return True

    def send(self, data):
        step = self.link.payload_size
        for i in range(0, len(data), step):
            self.link.send(self.ept, self.tty, data[i : i + step], 2000)

    def wait_for_prompt(self, since, quiet_s=0.0):
        """Serve doorbells until a prompt follows a line end received after
        the ``since``-th one (the echo of the line just sent ends in CR LF;
        a prompt seen before it, or the indent typed after it, belongs to
        the previous line), and, with quiet_s, nothing more came for that
        long. False if the core went away first."""
        quiet_since = time.monotonic()
        seen = self.received
        while True:
            if self.received != seen:
                seen = self.received
                quiet_since = time.monotonic()
            if self.newlines > since and PROMPT.search(self.tail):
                if time.monotonic() - quiet_since >= quiet_s:
                    return True
            if not self.core_alive():
                return False
            self.port.wait(10)

    def batch(self, stream):
        """Send each line of a non-interactive input once the REPL is ready
        for it (its prompt came back after the previous one)."""
        mark = self.newlines
        self.send(b"\r")  # makes us the core's peer: it sends what it printed so far
        # The banner and prompts printed before we were known arrive now, in
        # one go; once the core is quiet at a prompt it is ready.
        if not self.wait_for_prompt(mark, quiet_s=0.3):
            return self.gone()
        prev = b""
        for line in stream:
            line = line.rstrip(b"\r\n")
            if self.in_block() and closes_block(prev, line):
                # A file's next statement: end the block as a typist would.
                mark = self.newlines
                self.send(UNINDENT + b"\r")
                if not self.wait_for_prompt(mark):
                    return self.gone()
            mark = self.newlines
            self.send((UNINDENT if self.in_block() else b"") + line + b"\r")
            if not self.wait_for_prompt(mark):
                return self.gone()
            prev = line
        if self.in_block():  # input ended inside a block: run it
            mark = self.newlines
            self.send(UNINDENT + b"\r")
            if not self.wait_for_prompt(mark):
                return self.gone()
        self.out.close()
        return 0

    def in_block(self):
        match = PROMPT.search(self.tail)
        return match is not None and match.group(1) == b"..."

    def gone(self):
        print("\nconsole: the core is gone", file=sys.stderr)
        return 1

    def interactive(self):
        import termios
        import tty

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)  # no ISIG: Ctrl-C is a key for the core
        self.out = Output(True)
        keys = []
        done = threading.Event()

        def reader():
            while not done.is_set():
                if select.select([fd], [], [], 0.1)[0]:
                    data = os.read(fd, 64)
                    if not data or QUIT in data:
                        done.set()
                        return
                    # Ctrl-C travels alone, so the core can tell it from input.
                    parts = data.split(CTRL_C)
                    for i, part in enumerate(parts):
                        if i:
                            keys.append(CTRL_C)
                        if part:
                            keys.append(part)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        code = 0
        try:
            os.write(sys.stdout.fileno(), b"console: connected to the core's REPL over RPMsg (Ctrl-C interrupts, Ctrl-] quits)\r\n")
            self.send(b"\r")
            while not done.is_set():
                self.port.wait(10)
                while keys:
                    self.send(keys.pop(0))
                if not self.core_alive():
                    code = 1
                    break
        finally:
            done.set()
            try:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            except termios.error:
                pass  # the terminal is gone (hang-up)
        print()
        if code:
            print("console: the core is gone", file=sys.stderr)
        return code


def parse_args(argv):
    parser = cli.Parser("tools/console", __doc__.split("\n\n", 1)[1])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--attach", metavar="FILE", help="join the master core serving FILE, as its remote")
    where.add_argument("--serve", metavar="FILE", help="run a master core on FILE to attach to")
    cli.add_layout(parser)
    args = parser.parse_args(argv)
    opts, cfg = cli.layout(parser, args)
    return args, opts, cfg


def check_shared_file(path, cfg, layout_args):
    """Refuse at once, with what to do, a FILE no live master serves."""
    import fcntl

    start = "start one with: tools/console --serve %s%s" % (path, "".join(" " + a for a in layout_args))
    if not os.path.exists(path):
        raise cli.UserError("%s does not exist: no master core serves it (%s)" % (path, start))
    if not os.path.exists(path + ".ready"):
        raise cli.UserError("%s.ready is missing: the master core is not running (%s)" % (path, start))
    for suffix, holder in ((".m2r", "master"), (".r2m", "remote")):
        try:
            fd = os.open(path + suffix, os.O_RDWR | os.O_NONBLOCK)
        except OSError as e:
            raise cli.UserError("%s%s: %s (is %s a shared file of the host port?)" % (path, suffix, e.strerror, path))
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # succeeds when nobody holds LOCK_EX
            free = True
        except BlockingIOError:
            free = False
        finally:
            os.close(fd)
        if holder == "master" and free:
            raise cli.UserError("%s is stale: no master core holds it any more (%s)" % (path, start))
        if holder == "remote" and not free:
            raise cli.UserError("%s already has a remote attached (another console?)" % path)
    size = os.path.getsize(path)
    if size != cfg.shm_size:
        raise cli.UserError(
            "%s is %d bytes, this layout needs %d: give the master core's layout options (%r)"
            % (path, size, cfg.shm_size, cfg)
        )


def remote_was_attached(shm, link_layout):
    """True if a remote has used these rings before (it consumed from vring
    0 or posted to vring 1): the master's single init notification is gone,
    so a new remote takes the rings over as they are (attach=True)."""
    v0, v1 = link_layout.vrings[0], link_layout.vrings[1]
    used0 = shm[v0.used + 2] | shm[v0.used + 3] << 8
    avail1 = shm[v1.avail + 2] | shm[v1.avail + 3] << 8
    return used0 != 0 or avail1 != 0


def attach(path, cfg, opts):
    from rpmsg_lite.layout import Layout

    check_shared_file(path, cfg, board.layout_args(opts))
    port = HostPort.open(path, cfg.shm_size, 1000)
    try:
        again = remote_was_attached(port.shm, Layout(cfg, cfg.pa_base))
        link = RPMsgLite.remote(port.shm, port, cfg, attach=again)
        term = Terminal(link, port)  # bind the name service before any delivery
        if not link.wait_for_link_up(5000):
            raise cli.UserError("the link to %s did not come up: is its master core using this layout (%r)?" % (path, cfg))
        # Rings taken over as they are hold no announcement for us: ours
        # asks the master core (boards/host/main.py) to announce again.
        link.ns_announce(term.ept, CLIENT_NAME, NS_CREATE)
    except BaseException:
        port.close()
        raise
    return port, term


def serve(path, opts):
    """Become the master core: `micropython -i boards/host/main.py FILE
    --master --console`, in this terminal (its output shows here too)."""
    if hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    layout = board.layout_args(opts)
    argv, env = hostcores.core_command(
        "micropython", hostcores.REMOTE_MAIN, [os.path.abspath(path), "--master", "--console", "--quiet"] + layout,
        interactive=True,
    )
    print("console: MicroPython master core on %s; attach with: tools/console --attach %s%s"
          % (path, path, "".join(" " + a for a in layout)), flush=True)
    print("console: its REPL follows the attached console (output shows here too); Ctrl-C here ends it", flush=True)
    os.execve(argv[0], argv, env)


def main(argv):
    args, opts, cfg = parse_args(argv)
    if args.serve:
        return serve(args.serve, opts)
    if args.attach:
        port, term = attach(args.attach, cfg, opts)
        return session(port, term, None, None)
    if hostcores.find_micropython() is None:
        raise cli.UserError("MicroPython not found (run tools/setup.sh)")
    workdir = hostcores.Workdir("rpmsg-console-")
    try:
        port = HostPort.create(workdir.shm, cfg.shm_size)
        link = RPMsgLite.master(port.shm, port, cfg)
        argv_core, env = hostcores.core_command(
            "micropython",
            hostcores.REMOTE_MAIN,
            [workdir.shm, "--console", "--quiet"] + board.layout_args(opts),
            interactive=True,
        )
        # The core's stdout and stderr repeat what dupterm sends us (the unix
        # port writes its output, tracebacks included, to both): kept in a
        # log, shown only if the core fails before its REPL is reachable.
        log_path = os.path.join(workdir.path, "core.log")
        with open(log_path, "wb") as log:
            core = hostcores.Core(argv_core, env=env, stdout=log, stderr=subprocess.STDOUT)
        term = Terminal(link, port, core)
        return session(port, term, core, log_path)
    finally:
        workdir.close()


def session(port, term, core, log_path):
    try:
        if not term.wait_for_tty(20):
            print("console: no %r service was announced" % TTY_NAME, file=sys.stderr)
            if log_path is not None:
                with open(log_path, "rb") as f:
                    sys.stderr.write(f.read().decode(errors="replace"))
            return 1
        if sys.stdin.isatty() and sys.stdout.isatty():
            return term.interactive()
        return term.batch(sys.stdin.buffer)
    except RPMsgError as e:
        print("\nconsole: %s" % e, file=sys.stderr)
        return 1
    finally:
        port.close()
        if core is not None:
            core.close()


if __name__ == "__main__":
    cli.run(main, "tools/console")
