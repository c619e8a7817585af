#!/usr/bin/env python3
"""Type-check the firmware with pyright against the MicroPython stubs of
each port it runs on.

    python3 tools/typecheck.py [PORT ...]     (PORT: rp2, mimxrt; default all)

For each port: the stub packages (micropython-<port>-stubs of the release
the project targets, and micropython-stdlib-stubs as the standard library)
are installed into .cache/stubs/<port> with pip, the project's viper types
(tools/typings/viper_builtins.pyi) are added to their __builtins__.pyi, and
pyright (from PyPI; it fetches its own npm package and needs node) checks
the code that runs on that port: the core package, the board's platform
port and the board's own files (tools/layers.py). Exit status: pyright's.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache", "stubs")
VIPER = os.path.join(REPO, "tools", "typings", "viper_builtins.pyi")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layers  # noqa: E402  (which files make up the core, a port and a board)

# MicroPython port -> (its stubs, the board whose files run there). Stubs of
# MicroPython 1.25, the release the tests run; mimxrt stubs are only
# published for 1.26.1, the closest match.
PORTS = {
    "rp2": {"stubs": "micropython-rp2-stubs==1.25.*", "board": "rpi_pico"},
    "mimxrt": {"stubs": "micropython-mimxrt-stubs==1.26.*", "board": "mimxrt1170_evk"},
}


def sources(port):
    """Repository-relative paths of what runs on that port: the core, the
    board's platform port, the loopback port and the board's own files."""
    spec = layers.board(PORTS[port]["board"])
    files = [src for _, src in layers.board_files(spec) + layers.port_files("rl_loopback")]
    return sorted(os.path.relpath(f, REPO) for f in files)


def stubs_for(port):
    spec = PORTS[port]["stubs"]
    target = os.path.join(CACHE, port)
    stamp = os.path.join(target, ".installed")
    want = spec + "\n" + open(VIPER).read()
    if not os.path.exists(stamp) or open(stamp).read() != want:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--upgrade", "--target", target, spec, "micropython-stdlib-stubs"],
            check=True,
        )
        builtins = os.path.join(target, "__builtins__.pyi")
        original = open(builtins).read() if os.path.exists(builtins) else ""
        marker = "# --- viper types (tools/typings/viper_builtins.pyi) ---"
        original = original.split(marker)[0]
        with open(builtins, "w") as f:
            f.write(original + "\n" + marker + "\n" + open(VIPER).read())
        with open(stamp, "w") as f:
            f.write(want)
    return target


def check(port):
    target = stubs_for(port)
    includes = sources(port)
    # Not in the stubs' folder: pyright reports on every file under the
    # folder its configuration sits in; and every path relative to it (it
    # ignores absolute "include" entries).
    folder = os.path.join(REPO, ".cache", "typecheck", port)
    os.makedirs(folder, exist_ok=True)

    def rel(p):
        return os.path.relpath(os.path.join(REPO, p), folder)

    config = {
        "include": [rel(p) for p in includes],
        "extraPaths": [rel(p) for p in ("firmware", "firmware/platform")],
        "stubPath": rel(target),
        "typeshedPath": rel(target),  # micropython-stdlib-stubs' stdlib/ replaces CPython's
        "pythonVersion": "3.11",
        "pythonPlatform": "Linux",
        "typeCheckingMode": "basic",
        # The stubs describe modules that exist on the board but have no
        # source here (machine, rp2, ...): not an error.
        "reportMissingModuleSource": "none",
    }
    path = os.path.join(folder, "pyrightconfig.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    print("typecheck %s: %s" % (port, " ".join(includes)), flush=True)
    pyright = os.path.join(os.path.dirname(sys.executable), "pyright")
    env = dict(os.environ)
    # Keep pyright's npm package with the project's other caches.
    env.setdefault("PYRIGHT_PYTHON_CACHE_DIR", os.path.join(REPO, ".cache", "pyright"))
    return subprocess.run([pyright, "-p", path], env=env).returncode


def main(argv):
    ports = argv or list(PORTS)
    status = 0
    for port in ports:
        status |= check(port)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
