"""Command-line handling shared by the host tools (demo, bench, soak,
console, deploy, qemu).

* ``Parser``: argparse whose errors are one line on stderr and exit 2
  (``tools/demo: error: argument --messages: must be at least 1, got -5``),
  for unknown options and bad values alike; ``--help`` as usual.
* Value types: ``int_range``, ``int_list``, ``choice_list``.
* ``add_layout`` / ``layout``: the host board's layout options (``--count
  --payload --align --vring-size --pa-base``), checked by building the
  ``Config`` both cores will use, so a layout the stack refuses is a usage
  error and not a traceback from a core.
* ``run(main)``: runs a tool so that every way out (return, error, Ctrl-C,
  SIGTERM, SIGHUP) unwinds through its ``finally`` blocks: temporary
  folders and core processes are cleaned up; a ``UserError`` or Ctrl-C ends
  with one line and no traceback.
"""

import argparse
import os
import signal
import sys


class UserError(Exception):
    """A problem the user can fix (missing file, no board, ...): reported as
    ``prog: message`` with exit status 1, no traceback."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def __init__(self, prog, doc, **kw):
        super().__init__(
            prog=prog,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
            **kw
        )

    def error(self, message):
        self.exit(2, "%s: error: %s (see %s --help)\n" % (self.prog, message, self.prog))


def _int(text):
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text)


def int_range(lo=None, hi=None):
    """An int (0x.. accepted) within lo..hi (either may be None)."""

    def parse(text):
        value = _int(text)
        if lo is not None and value < lo:
            raise argparse.ArgumentTypeError("must be at least %d, got %d" % (lo, value))
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError("must be at most %d, got %d" % (hi, value))
        return value

    parse.__name__ = "integer"
    return parse


def int_list(lo=None, hi=None):
    """A comma-separated, non-empty list of ints within lo..hi."""
    one = int_range(lo, hi)

    def parse(text):
        items = [t.strip() for t in text.split(",")]
        if not text.strip() or "" in items:
            raise argparse.ArgumentTypeError("expected a comma-separated list of integers, got %r" % text)
        return [one(t) for t in items]

    parse.__name__ = "list"
    return parse


def choice_list(choices):
    """A comma-separated, non-empty list of names out of ``choices``."""

    def parse(text):
        items = [t.strip() for t in text.split(",")]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                "%r is not one of %s" % (",".join(bad) or text, ", ".join(choices))
            )
        return items

    parse.__name__ = "list"
    return parse


# -- the host board's layout --------------------------------------------------

_LAYOUT = (
    ("--count", "count", "buffers per direction (a power of 2)"),
    ("--payload", "payload", "payload bytes per buffer"),
    ("--align", "align", "VRING_ALIGN"),
    ("--vring-size", "vring_size", "VRING_SIZE (default: computed)"),
    ("--pa-base", "pa_base", "address written into descriptors"),
)


def add_layout(parser):
    """Add the layout options; both cores must be given the same ones."""
    group = parser.add_argument_group("layout (both cores must agree)")
    for flag, key, what in _LAYOUT:
        group.add_argument(flag, dest="layout_" + key, type=int_range(0), metavar="N", help=what)


def layout(parser, args):
    """(board options, Config) for parsed ``args``: the defaults of
    boards/host/board.py with the given options applied, checked by
    building the Config (a refused layout is a usage error)."""
    import board  # boards/host, on the path once hostcores.use_firmware() ran

    opts = dict(board.DEFAULTS)
    for _, key, _ in _LAYOUT:
        value = getattr(args, "layout_" + key)
        if value is not None:
            opts[key] = value
    try:
        return opts, board.config(opts)
    except ValueError as e:
        parser.error("layout: %s" % e)


# -- running a tool -------------------------------------------------------------


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def run(main, prog=None):
    """sys.exit(main(sys.argv[1:])), with signals turned into exceptions so
    cleanup runs, and user errors reported in one line."""
    prog = prog or "tools/" + os.path.splitext(os.path.basename(sys.argv[0]))[0]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    # Python leaves SIGINT ignored when it starts ignored (a background job
    # of a non-interactive shell, e.g. CI): Ctrl-C must still stop a tool.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main(sys.argv[1:])
    except UserError as e:
        sys.stderr.write("%s: %s\n" % (prog, e))
        code = 1
    except KeyboardInterrupt:
        sys.stderr.write("\n%s: interrupted\n" % prog)
        code = 130
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of the tool
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        code = 1
    sys.exit(code)
