# The host "board": two processes on a PC standing in for two cores.
#
# Its configuration defaults and the options that change them, parsed the
# same way by the core programs (on MicroPython or CPython) and by the tools
# that start them, so both sides always agree on the layout: nothing in
# shared memory records it (docs/protocol.md#layout).

from rpmsg_lite import Config

DEFAULTS = {
    "count": 16,  # buffers per direction: room for a streaming window
    "payload": 496,  # RPMsg-Lite's default, and Linux's
    "align": 0x10,  # the MCU-to-MCU style of imxrt1170
    "vring_size": None,  # computed
    "pa_base": 0x20200000,  # the host contract's default: position independent
}

# option -> (key, takes a value)
_OPTIONS = {
    "--count": "count",
    "--payload": "payload",
    "--align": "align",
    "--vring-size": "vring_size",
    "--pa-base": "pa_base",
}


def parse(argv, extra=None):
    """Split argv into (positional args, options dict). Layout options are
    converted to ints (0x.. accepted); ``extra`` names further options that
    take a value, kept as strings; other ``--flags`` become True."""
    opts = {}
    for key in DEFAULTS:
        opts[key] = DEFAULTS[key]
    rest = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _OPTIONS:
            opts[_OPTIONS[arg]] = int(argv[i + 1], 0)
            i += 2
        elif extra and arg in extra:
            opts[arg[2:].replace("-", "_")] = argv[i + 1]
            i += 2
        elif arg.startswith("--"):
            opts[arg[2:].replace("-", "_")] = True
            i += 1
        else:
            rest.append(arg)
            i += 1
    return rest, opts


def config(opts):
    return Config(
        buffer_count=opts["count"],
        payload_size=opts["payload"],
        vring_align=opts["align"],
        vring_size=opts["vring_size"],
        pa_base=opts["pa_base"],
        consumed_buffers_notification=bool(opts.get("consumed_notify")),
        # On unless --no-doorbell-suppression: every sleep of a host core
        # goes through HostPort.rest() and its timed-out wait looks at the
        # rings, so it is safe here (README, "Doorbell suppression").
        doorbell_suppression=not opts.get("no_doorbell_suppression"),
    )


def open_link(path, cfg, master, wait_ms=30000):
    """(port, link) of one side of a host session on FILE ``path``. The
    remote waits up to wait_ms for the master's FILE.ready; its link comes
    up with the master's init kick (wait_for_link_up)."""
    from rpmsg_lite import RPMsgLite
    from rl_host import HostPort

    if master:
        port = HostPort.create(path, cfg.shm_size)
        return port, RPMsgLite.master(port.shm, port, cfg)
    port = HostPort.open(path, cfg.shm_size, wait_ms)
    return port, RPMsgLite.remote(port.shm, port, cfg)


def layout_args(opts):
    """The layout options as command-line arguments for another core."""
    out = []
    for flag in _OPTIONS:
        value = opts[_OPTIONS[flag]]
        if value is not None:
            out += [flag, str(value)]
    if opts.get("consumed_notify"):
        out.append("--consumed-notify")  # RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION
    if opts.get("no_doorbell_suppression"):
        out.append("--no-doorbell-suppression")  # Config.doorbell_suppression off (local to each core)
    return out
