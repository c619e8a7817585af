#!/usr/bin/env python3
"""Type-check the firmware with pyright against the MicroPython stubs of
each port it runs on.

    python3 tools/typecheck.py [PORT ...]     (PORT: rp2, mimxrt; default all)

For each port: the stub packages (micropython-<port>-stubs of the release
the project targets, and micropython-stdlib-stubs as the standard library)
are installed into .cache/stubs/<port> with pip, the project's viper types
(tools/typings/viper_builtins.pyi) are added to their __builtins__.pyi, and
pyright (from PyPI; it fetches its own npm package and needs node) checks
the code that runs on that port: the package, the environment layer, the
port's platform modules and its board folder. Exit status: pyright's.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache", "stubs")
VIPER = os.path.join(REPO, "tools", "typings", "viper_builtins.pyi")
COMMON = ["firmware/rpmsg_lite", "firmware/environment", "firmware/platform/rl_regs.py", "firmware/platform/rl_loopback.py"]
PORTS = {
    # Stubs of MicroPython 1.25, the release the tests run; mimxrt stubs are
    # only published for 1.26.1, the closest match.
    "rp2": {
        "stubs": "micropython-rp2-stubs==1.25.*",
        "include": COMMON + ["firmware/platform/rl_rp2040*.py", "boards/rpi_pico"],
    },
    "mimxrt": {
        "stubs": "micropython-mimxrt-stubs==1.26.*",
        "include": COMMON + ["firmware/platform/rl_imxrt1170*.py", "boards/mimxrt1170_evk"],
    },
}


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
    includes = []
    for pattern in PORTS[port]["include"]:
        if "*" in pattern:
            folder, glob = pattern.rsplit("/", 1)
            prefix = glob.split("*")[0]
            includes += sorted(
                folder + "/" + n for n in os.listdir(os.path.join(REPO, folder)) if n.startswith(prefix) and n.endswith(".py")
            )
        elif os.path.isdir(os.path.join(REPO, pattern)):
            # Freeze manifests are read by MicroPython's manifest tool, not
            # imported: they are not checked as modules.
            folder = os.path.join(REPO, pattern)
            includes += sorted(pattern + "/" + n for n in os.listdir(folder) if n.endswith(".py") and n != "manifest.py")
        elif os.path.exists(os.path.join(REPO, pattern)):
            includes.append(pattern)
    # Not in the stubs' folder: pyright reports on every file under the
    # folder its configuration sits in; and every path relative to it (it
    # ignores absolute "include" entries).
    folder = os.path.join(REPO, ".cache", "typecheck", port)
    os.makedirs(folder, exist_ok=True)

    def rel(p):
        return os.path.relpath(os.path.join(REPO, p), folder)

    config = {
        "include": [rel(p) for p in includes],
        "extraPaths": [rel(p) for p in ("firmware", "firmware/environment", "firmware/platform")],
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
