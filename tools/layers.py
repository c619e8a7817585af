"""The project's layers as deployable units: one table for packaging.

Every tool that needs to know which files make up the core or a port
(deploy, mip package files, type checking, .mpy sizes) and the tests that
check them ask this module, which reads the tree itself:

* the core package is every ``.py`` in ``firmware/rpmsg_lite/``;
* a port is a package ``firmware/platform/<name>/`` (or a single module
  ``firmware/platform/<name>.py``) and is all of its ``.py`` files;
* a board names its port in ``boards/<board>/deploy.json`` (``"port"``),
  and its freeze manifest freezes that same package;
* the version is the one in the core's freeze manifest,
  ``firmware/manifest.py`` (``metadata(version=...)``).
"""

import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(REPO, "firmware")
PLATFORM = os.path.join(FIRMWARE, "platform")
BOARDS = os.path.join(REPO, "boards")
CORE = "rpmsg_lite"
# Ports that need the unix port's ffi (not for a microcontroller): no mip file.
HOST_ONLY = ("rl_host",)


def version():
    with open(os.path.join(FIRMWARE, "manifest.py")) as f:
        found = re.search(r'version="([^"]+)"', f.read())
    if not found:
        raise SystemExit("layers: no metadata(version=...) in firmware/manifest.py")
    return found.group(1)


def _package_files(folder, name):
    """(path on the board, source path) of every .py of package ``name``."""
    out = []
    root = os.path.join(folder, name)
    for sub, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                src = os.path.join(sub, f)
                out.append((os.path.relpath(src, folder).replace(os.sep, "/"), src))
    return out


def core_files():
    return _package_files(FIRMWARE, CORE)


def ports():
    """Names of every platform port."""
    names = []
    for entry in sorted(os.listdir(PLATFORM)):
        if entry.startswith("rl_") and (entry.endswith(".py") or os.path.isdir(os.path.join(PLATFORM, entry))):
            names.append(entry[:-3] if entry.endswith(".py") else entry)
    return names


def port_files(port):
    single = os.path.join(PLATFORM, port + ".py")
    if os.path.exists(single):
        return [(port + ".py", single)]
    if not os.path.isdir(os.path.join(PLATFORM, port)):
        raise SystemExit("layers: no port %r (one of: %s)" % (port, ", ".join(ports())))
    return _package_files(PLATFORM, port)


def boards():
    """Board folders that can be deployed (they have a deploy.json)."""
    return sorted(b for b in os.listdir(BOARDS) if os.path.exists(os.path.join(BOARDS, b, "deploy.json")))


def board(name):
    path = os.path.join(BOARDS, name, "deploy.json")
    if not os.path.exists(path):
        raise SystemExit("no board %r (one of: %s)" % (name, ", ".join(boards())))
    with open(path) as f:
        spec = json.load(f)
    spec["_name"] = name
    return spec


def board_files(spec):
    """(path on the board, source path) of everything a board gets: the core
    and its port in lib/, and its own files (the demo) at the top."""
    out = [("lib/" + dest, src) for dest, src in core_files() + port_files(spec["port"])]
    for name in spec.get("board_files", []):
        out.append((name, os.path.join(BOARDS, spec["_name"], name)))
    return out


def mip_files():
    """{file name in firmware/: package.json text}: mip's package for the
    core alone (package.json) and, per microcontroller port, one that
    installs the core and that port (<port>.json), which is everything a
    board needs: ``mpremote mip install github:<owner>/<repo>/firmware/rl_rp2040.json``.
    (mip resolves "deps" only by index name or absolute URL, so a port file
    lists the core's files itself, relative to firmware/ like the rest.)"""
    out = {"package.json": _package_json(core_files())}
    for port in ports():
        if port not in HOST_ONLY:
            out[port + ".json"] = _package_json(core_files() + port_files(port))
    return out


def _package_json(files):
    urls = [[dest, os.path.relpath(src, FIRMWARE).replace(os.sep, "/")] for dest, src in files]
    lines = ",\n".join("  " + json.dumps(u) for u in urls)
    return '{\n "version": "%s",\n "deps": [],\n "urls": [\n%s\n ]\n}\n' % (version(), lines)


def write_mip_files():
    for name, text in mip_files().items():
        with open(os.path.join(FIRMWARE, name), "w") as f:
            f.write(text)
