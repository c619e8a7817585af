#!/usr/bin/env python3
"""NXP's C RPMsg-Lite as a live peer on the host: find the library, build
the peer program (host_tests/cpeer/) for a layout, report why it cannot.

    python3 tools/cpeer.py where           # which library copy is used
    python3 tools/cpeer.py fetch           # git clone it into .cache/ (online)
    python3 tools/cpeer.py build [--count N --payload N --align N
                                  --vring-size N --consumed-notify]

The library is never part of this project. It is looked for in, in order:
$RPMSG_LITE_DIR, ../shared/third_party/rpmsg-lite beside the checkout (or
beside the main checkout of a git worktree), and .cache/rpmsg-lite (a clone
made by `fetch`, or tried automatically: offline, once an hour). Its
unmodified core files are compiled with the project's environment and
platform layers and rpmsg_config.h, one binary per layout, into
.cache/cpeer/<layout>/rpmsg_cpeer; a binary is rebuilt when a source or a
flag changes. The layout is fixed at compile time (-D flags, as on an MCU),
and `rpmsg_cpeer --layout` reports it; build() checks the report.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(REPO, "host_tests", "cpeer")
CACHE = os.path.join(REPO, ".cache", "cpeer")
CLONE = os.path.join(REPO, ".cache", "rpmsg-lite")
FETCH_FAILED = os.path.join(CACHE, "fetch-failed")  # an automatic clone failed (within the hour)
ENV_VAR = "RPMSG_LITE_DIR"
UPSTREAM = "https://github.com/nxp-mcuxpresso/rpmsg-lite"
# The commit the project is tested against (the golden images come from it).
COMMIT = "a300ec8356d1144d6e6a5d8d65a9c728418e7e22"
# NXP's unmodified core, relative to the library's lib/ folder.
CORE = [
    "rpmsg_lite/rpmsg_lite.c",
    "rpmsg_lite/rpmsg_ns.c",
    "rpmsg_lite/rpmsg_queue.c",
    "virtio/virtqueue.c",
    "common/llist.c",
]
OURS = ["env_host.c", "platform_host.c", "cpeer.c"]
HOW_TO_GET = (
    "NXP's C RPMsg-Lite not found: put it at ../shared/third_party/rpmsg-lite beside the checkout, "
    "or set %s=/path/to/rpmsg-lite, or run `python3 tools/cpeer.py fetch` online "
    "(git clone of %s at %s into .cache/rpmsg-lite)" % (ENV_VAR, UPSTREAM, COMMIT[:12])
)

_fetch_tried = False


def _is_library(path):
    return bool(path) and os.path.isfile(os.path.join(path, "lib", "rpmsg_lite", "rpmsg_lite.c"))


def _main_checkout():
    """For a git worktree (.git is a file "gitdir: MAIN/.git/worktrees/X"),
    the main checkout MAIN, whose ../shared counts as well; else None."""
    try:
        with open(os.path.join(REPO, ".git")) as f:
            line = f.read().strip()
    except OSError:
        return None  # a directory (a plain clone) or no git at all
    if not line.startswith("gitdir:"):
        return None
    gitdir = os.path.normpath(os.path.join(REPO, line[7:].strip()))
    parts = gitdir.split(os.sep)
    if len(parts) > 3 and parts[-2] == "worktrees" and parts[-3] == ".git":
        return os.sep.join(parts[:-3])
    return None


def candidates():
    """(where, path) in search order."""
    out = [
        ("$" + ENV_VAR, os.environ.get(ENV_VAR)),
        ("../shared", os.path.join(os.path.dirname(REPO), "shared", "third_party", "rpmsg-lite")),
    ]
    main = _main_checkout()
    if main:
        out.append(("worktree", os.path.join(os.path.dirname(main), "shared", "third_party", "rpmsg-lite")))
    return out + [("clone", CLONE)]


def find_library(fetch_if_missing=True):
    """Path of the rpmsg-lite source tree, or None. Without a copy, tries
    the clone once per process (fails quietly offline)."""
    global _fetch_tried
    for _, path in candidates():
        if _is_library(path):
            return os.path.abspath(path)
    if fetch_if_missing and not _fetch_tried and not _failed_recently():
        _fetch_tried = True
        if fetch(quiet=True):
            return CLONE
        # Offline: do not try again in every process (tests, bench runs).
        os.makedirs(CACHE, exist_ok=True)
        with open(FETCH_FAILED, "w") as f:
            f.write("automatic clone failed; `python3 tools/cpeer.py fetch` tries again\n")
    return None


def _failed_recently():
    try:
        return time.time() - os.stat(FETCH_FAILED).st_mtime < 3600
    except OSError:
        return False


def fetch(quiet=False):
    """Clone the public repository at COMMIT into .cache/rpmsg-lite; True
    when it worked. Offline (no network, no git) it returns False."""
    if _is_library(CLONE):
        return True
    git = shutil.which("git")
    if git is None:
        return False
    tmp = CLONE + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    out = subprocess.DEVNULL if quiet else None
    steps = [
        [git, "init", "-q", tmp],
        [git, "-C", tmp, "fetch", "-q", "--depth", "1", UPSTREAM, COMMIT],
        [git, "-C", tmp, "checkout", "-q", "FETCH_HEAD"],
    ]
    try:
        for step in steps:
            subprocess.run(step, check=True, env=env, stdout=out, stderr=out, timeout=20)
    except (subprocess.SubprocessError, OSError):
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    os.makedirs(os.path.dirname(CLONE), exist_ok=True)
    os.rename(tmp, CLONE)
    return _is_library(CLONE)


def compiler():
    return os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")


def unavailable():
    """Why no C peer can be built here (a message saying how to fix it), or
    None when it can."""
    if compiler() is None:
        return "no C compiler (gcc) for the C RPMsg-Lite peer: apt-get install gcc"
    if find_library() is None:
        return HOW_TO_GET
    return None


class Layout:
    """The compile-time layout of a peer binary; the same numbers go to this
    stack's Config (see config_kwargs) and to boards/host options."""

    def __init__(self, count=16, payload=496, align=0x10, vring_size=None, consumed_notify=False):
        self.count = count
        self.payload = payload
        self.align = align
        self.vring_size = vring_size
        self.consumed_notify = bool(consumed_notify)

    @property
    def key(self):
        return "n%d-p%d-a%x-v%s-c%d" % (
            self.count,
            self.payload,
            self.align,
            "calc" if self.vring_size is None else "%x" % self.vring_size,
            self.consumed_notify,
        )

    def defines(self):
        out = [
            "-DRL_BUFFER_COUNT=%dU" % self.count,
            "-DRL_BUFFER_PAYLOAD_SIZE=%dU" % self.payload,
            "-DVRING_ALIGN=0x%xU" % self.align,
            "-DRL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION=%d" % self.consumed_notify,
        ]
        if self.vring_size is not None:
            out.append("-DVRING_SIZE=0x%xU" % self.vring_size)
        return out

    def host_args(self):
        """The same layout as options of boards/host programs (board.py)."""
        args = ["--count", str(self.count), "--payload", str(self.payload), "--align", hex(self.align)]
        if self.vring_size is not None:
            args += ["--vring-size", hex(self.vring_size)]
        if self.consumed_notify:
            args.append("--consumed-notify")
        return args

    def config_kwargs(self):
        return dict(
            buffer_count=self.count,
            payload_size=self.payload,
            vring_align=self.align,
            vring_size=self.vring_size,
            consumed_buffers_notification=self.consumed_notify,
        )

    def __repr__(self):
        return "Layout(%s)" % self.key


def build(layout=None, lib=None):
    """Path of the peer binary for ``layout`` (built if missing or stale).
    Raises RuntimeError with the reason when it cannot be built."""
    layout = layout or Layout()
    reason = unavailable() if lib is None else None
    if reason:
        raise RuntimeError(reason)
    lib = os.path.join(lib or find_library(), "lib")
    cc = compiler()
    sources = [os.path.join(lib, f) for f in CORE] + [os.path.join(SOURCES, f) for f in OURS]
    flags = ["-std=gnu11", "-O2", "-g", "-Wall", "-DRL_ASSERT_REPORTS"] + layout.defines()
    argv = [cc] + flags + ["-I", SOURCES, "-I", os.path.join(lib, "include")] + sources
    stamp = hashlib.sha256(" ".join(argv).encode())
    for path in sources + [os.path.join(SOURCES, f) for f in sorted(os.listdir(SOURCES)) if f.endswith(".h")]:
        with open(path, "rb") as f:
            stamp.update(f.read())
    out_dir = os.path.join(CACHE, layout.key)
    binary = os.path.join(out_dir, "rpmsg_cpeer")
    stamp_file = os.path.join(out_dir, "stamp")
    try:
        with open(stamp_file) as f:
            if f.read() == stamp.hexdigest() and os.access(binary, os.X_OK):
                return binary
    except OSError:
        pass
    os.makedirs(out_dir, exist_ok=True)
    tmp = binary + ".tmp%d" % os.getpid()
    proc = subprocess.run(argv + ["-o", tmp], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("building the C peer failed:\n%s\n%s" % (" ".join(argv), proc.stderr))
    report = layout_report(tmp)
    want = {"count": layout.count, "payload": layout.payload, "align": layout.align,
            "consumed_notification": int(layout.consumed_notify)}
    if layout.vring_size is not None:
        want["vring_size"] = layout.vring_size
    if any(report.get(k) != v for k, v in want.items()):
        raise RuntimeError("the C peer reports layout %r, expected %r" % (report, want))
    os.replace(tmp, binary)
    with open(stamp_file, "w") as f:
        f.write(stamp.hexdigest())
    return binary


def layout_report(binary):
    """What the binary says its layout is (``--layout``)."""
    out = subprocess.run([binary, "--layout"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main(argv):
    if not argv or argv[0] not in ("where", "fetch", "build"):
        print(__doc__.strip())
        return 2
    cmd = argv[0]
    if cmd == "where":
        for where, path in candidates():
            print("%-10s %-60s %s" % (where, path or "-", "found" if _is_library(path) else "missing"))
        lib = find_library(fetch_if_missing=False)
        print("using:", lib or "none (%s)" % HOW_TO_GET)
        return 0 if lib else 1
    if cmd == "fetch":
        ok = fetch()
        print(CLONE if ok else "fetch failed (offline?): " + HOW_TO_GET)
        return 0 if ok else 1
    opts = {"count": 16, "payload": 496, "align": 0x10, "vring_size": None, "consumed_notify": False}
    i = 1
    while i < len(argv):
        name = argv[i][2:].replace("-", "_")
        if name == "consumed_notify":
            opts[name] = True
            i += 1
        elif name in opts:
            opts[name] = int(argv[i + 1], 0)
            i += 2
        else:
            print("unknown option", argv[i])
            return 2
    try:
        binary = build(Layout(**opts))
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    print(binary)
    print(json.dumps(layout_report(binary)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # e.g. `| head -1`
        sys.exit(1)
