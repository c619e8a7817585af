# A core of the host board.
#
#     micropython [-i] boards/host/main.py FILE [--master] [--console]
#         [--count N --payload N --align N --vring-size N --pa-base N]
#         [--consumed-notify] [--no-doorbell-suppression]
#         [--echo-name NAME] [--quiet]
#
# By default the remote: waits for the master's FILE.ready and attaches
# (host transport contract, firmware/platform/rl_host.py). With --master it
# creates FILE and is the master. It serves:
#   * an echo service at address 30, announced as "rpmsg-echo";
#   * with --console, this core's REPL over an "rpmsg-tty" endpoint: the
#     stream is handed to os.dupterm and the script returns, so
#     `micropython -i` enters the REPL with its input and output on RPMsg.
#     Doorbells are then served by a thread, so a Ctrl-C from the peer
#     interrupts running code (SIGINT to this process, see interrupter()).
#     As the remote (started by tools/console), the REPL ends when the peer
#     is gone; as the master (`tools/console --serve FILE`) it stays, and
#     answers a remote's name-service announcement with its own, so a
#     console attaching again finds the tty.
# Endpoints exist before the link comes up: a master that sends at once
# finds them (messages to an address nobody has are dropped, as in C). The
# announcements follow link-up. The core exits when the other core is gone
# (its FIFO lock is released).
#
# Runs on MicroPython (the default) and on CPython through the shim
# (without --console: CPython has no os.dupterm).

import sys

import board
from rpmsg_lite.env import ticks_ms, ticks_diff
from rpmsg_lite.console import Console
from rpmsg_lite.echo import EchoService
from rpmsg_lite.nameservice import NameService, NS_CREATE


class PeerWatch:
    """False once the other core, seen alive before, is gone."""

    def __init__(self, port):
        self.port = port
        self.seen = False

    def __call__(self):
        if self.port.peer_alive():
            self.seen = True
            return True
        return not self.seen


class Reannounce:
    """The master console's name service: any announcement from a remote
    (tools/console announces its endpoint when it attaches, again after a
    detach) is answered with this core's services, which a remote that
    attaches to running rings has not seen."""

    def __init__(self, link, services):
        self.services = services
        self.ns = NameService(link, self)

    def __call__(self, addr, name, flags):
        if flags == NS_CREATE and self.services[0].link.is_link_up():
            for service in self.services:
                service.announce()


def interrupter():
    """The Console's Ctrl-C hook on the unix port: SIGINT to the main
    thread, whose handler raises KeyboardInterrupt in the running code. The
    port installs that handler only while it executes code (SIG_DFL at the
    prompt would end the process), so the hook checks it is there first."""
    import ffi
    import struct

    libc = ffi.open("libc.so.6")
    sigaction = libc.func("i", "sigaction", "ipp")
    pthread_kill = libc.func("i", "pthread_kill", "Li")
    main_thread = libc.func("L", "pthread_self", "")()
    old = bytearray(256)  # struct sigaction; sa_handler comes first
    word = struct.calcsize("P")

    def interrupt():
        if sigaction(2, None, old) != 0:
            return False
        if int.from_bytes(old[:word], "little") <= 1:  # SIG_DFL, SIG_IGN: no code running
            return False
        return pthread_kill(main_thread, 2) == 0

    return interrupt


def serve(port, echo, say):
    # Wait for the other core, then keep serving until it is gone.
    while not port.peer_alive():
        port.wait(10)
    checked = ticks_ms()
    waiting = 0
    while True:
        # Messages held for lack of a TX buffer: look again after 1 ms. A
        # peer without consumed-buffer notifications frees our buffers
        # without a doorbell; NXP's blocking send polls every
        # RL_MS_PER_INTERVAL (1 ms) for the same reason.
        port.wait(1 if waiting else 10)
        waiting = echo.service()
        if ticks_diff(ticks_ms(), checked) >= 200:  # (wait returns per delivery: time it)
            checked = ticks_ms()
            if not port.peer_alive():
                break
    say("core: peer gone, echoed", echo.count)
    port.close()


def main(argv):
    args, opts = board.parse(argv, extra=("--echo-name",))
    if not args:
        print("usage: main.py FILE [--master] [--console] [layout options] [--quiet]")
        return None
    say = (lambda *a: None) if opts.get("quiet") else print
    port, link = board.open_link(args[0], board.config(opts), opts.get("master", False))
    master = opts.get("master", False)
    services = [EchoService(link, name=opts.get("echo_name", "rpmsg-echo"))]
    if opts.get("console"):
        if master:
            console = Console(link, idle=services[0].service, interrupt=interrupter())
            Reannounce(link, services)
        else:
            console = Console(link, idle=services[0].service, alive=PeerWatch(port), interrupt=interrupter())
        services.append(console)
    if not link.wait_for_link_up(10000):
        raise OSError("link did not come up: is the master running with the same layout?")
    for service in services:
        service.announce()
    say("core:", sys.implementation.name, link)
    if opts.get("console"):
        import os

        port.start_doorbell_thread(period_ms=50)
        os.dupterm(services[1])
        return services[1]  # `micropython -i` now runs the REPL on it
    serve(port, services[0], say)
    return None


console = main(sys.argv[1:])
