"""Packaging: mip's package.json, the freeze manifests and tools/deploy.py
produce exactly the files each board needs, compiled for its architecture."""

import importlib.util
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(REPO, "tools", "deploy.py")
sys.path.insert(0, os.path.join(REPO, "tools"))
import layers  # noqa: E402

# .mpy header (MicroPython py/persistentcode.h): b"M", version 6, then the
# feature byte: architecture in bits 2-5 and the native sub-version (3 for
# MicroPython 1.23+) in bits 0-1 when the file holds native or viper code.
ARCH = {"armv6m": 4, "armv7m": 5, "armv7emdp": 8}


def _native(path):
    """Does this module hold viper or inline-assembler code (an arch-specific .mpy)?"""
    import re

    with open(path) as f:
        return re.search(r"^\s*@micropython\.(viper|native|asm_thumb)", f.read(), re.M) is not None


def test_mip_files_are_current_and_complete():
    for name, text in layers.mip_files().items():
        with open(os.path.join(REPO, "firmware", name)) as f:
            assert f.read() == text, "run: python3 tools/deploy.py --write-package-json (%s)" % name
    import json

    core = json.loads(layers.mip_files()["package.json"])
    assert core["version"] == layers.version()
    dests = {d for d, _ in core["urls"]}
    assert {"rpmsg_lite/vring.py", "rpmsg_lite/env.py", "rpmsg_lite/port.py"} <= dests
    assert not any(d.startswith("rl_") for d in dests)  # the core alone
    pico = json.loads(layers.mip_files()["rl_rp2040.json"])
    for dest, src in pico["urls"]:
        assert os.path.exists(os.path.join(REPO, "firmware", src)), src
    assert {d.split("/")[0] for d, _ in pico["urls"]} == {"rpmsg_lite", "rl_rp2040"}
    assert "rl_host.json" not in layers.mip_files()  # unix-port only


def test_import_rpmsg_lite_loads_no_port_and_no_optional_service():
    code = (
        "import sys; import rpmsg_lite; "
        "print(sorted(m for m in sys.modules if m.startswith('rpmsg_lite') or m.startswith('rl_')))"
    )
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "tools", "cpython_shim") + os.pathsep + os.path.join(REPO, "firmware"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(eval(out.stdout))
    assert not {m for m in loaded if m.startswith("rl_")}, loaded
    for optional in ("queue", "nameservice", "console", "echo", "port", "regs"):
        assert "rpmsg_lite." + optional not in loaded, loaded
    # ... and the lazy names still resolve.
    code = "import rpmsg_lite; print(rpmsg_lite.Queue.__name__, rpmsg_lite.NS_EPT_ADDR, rpmsg_lite.Port.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["Queue", "53", "Port"], out.stderr


def _manifestfile():
    with open(os.path.join(REPO, ".cache", "micropython", "source.txt")) as f:
        source = f.read().strip()
    path = os.path.join(source, "tools", "manifestfile.py")
    spec = importlib.util.spec_from_file_location("manifestfile", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frozen(manifest, tmp_path):
    """Files a manifest freezes, as paths relative to the repository."""
    mf = _manifestfile()
    port = tmp_path / "port"
    (port / "boards").mkdir(parents=True)
    (port / "boards" / "manifest.py").write_text("# the port's own frozen modules\n")
    # A board manifest with nothing but the port's (boards that have their own include it).
    (tmp_path / "manifest.py").write_text('include("$(PORT_DIR)/boards/manifest.py")\n')
    paths = {"MPY_DIR": str(tmp_path), "MPY_LIB_DIR": "", "PORT_DIR": str(port), "BOARD_DIR": str(tmp_path)}
    m = mf.ManifestFile(mf.MODE_FREEZE, paths)
    m.execute(manifest)
    return sorted(os.path.relpath(f.full_path, REPO) + " -> " + f.target_path for f in m.files())


def test_firmware_manifest_freezes_the_core_package(tmp_path):
    frozen = _frozen(os.path.join(REPO, "firmware", "manifest.py"), tmp_path)
    want = sorted(os.path.relpath(src, REPO) + " -> " + dest for dest, src in layers.core_files())
    assert frozen == want


@pytest.mark.parametrize("board", layers.boards())
def test_board_manifest_freezes_the_core_and_its_port(board, tmp_path):
    spec = layers.board(board)
    path = os.path.join(REPO, "boards", board, "manifest.py")
    if not os.path.exists(path):
        pytest.skip("%s has no freeze manifest" % board)
    targets = {line.split(" -> ")[1] for line in _frozen(path, tmp_path)}
    assert targets == {dest[4:] for dest, _ in layers.board_files(spec) if dest.startswith("lib/")}


@pytest.mark.parametrize("board", layers.boards())
def test_deploy_stages_exactly_the_board_files_for_its_arch(board, tmp_path):
    spec = layers.board(board)
    out = tmp_path / "stage"
    proc = subprocess.run(
        [sys.executable, DEPLOY, board, "--dry-run", "--out", str(out)], capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode()
    on_disk = sorted(
        os.path.relpath(os.path.join(d, f), out).replace(os.sep, "/") for d, _, fs in os.walk(out) for f in fs
    )
    libs = [(dest, src) for dest, src in layers.board_files(spec) if dest.startswith("lib/")]
    want = sorted([dest[:-3] + ".mpy" for dest, _ in libs] + spec.get("board_files", []))
    assert on_disk == want
    # At most three names at the top of the board: the core, the port, the demo.
    top = {p.split("/")[1] if p.startswith("lib/") else p for p in on_disk}
    assert top == {"rpmsg_lite", spec["port"]} | set(spec.get("board_files", [])), top
    assert len(top) <= 3
    arch = ARCH[spec["mpy_arch"]]
    for dest, src in libs:
        header = (out / (dest[:-3] + ".mpy")).read_bytes()[:4]
        assert header[:2] == b"M\x06", (dest, header)
        if _native(src):
            assert header[2] == (arch << 2) | 3, (dest, header[2])  # arch and sub-version 3
        else:
            assert header[2] == 0, (dest, header[2])  # plain bytecode: loads on any arch
    for name in spec.get("board_files", []):
        assert (out / name).read_bytes() == open(os.path.join(REPO, "boards", board, name), "rb").read()


def test_the_rt1170_manifest_keeps_what_the_evk_firmware_freezes(tmp_path):
    # MicroPython's MIMXRT1170_EVK board manifest adds require("bundle-networking")
    # to the port's modules; a FROZEN_MANIFEST that replaced it would drop them.
    with open(os.path.join(REPO, ".cache", "micropython", "source.txt")) as f:
        source = f.read().strip()
    board_dir = os.path.join(source, "ports", "mimxrt", "boards", "MIMXRT1170_EVK")
    if not os.path.exists(os.path.join(board_dir, "manifest.py")):
        pytest.skip("the MicroPython source has no MIMXRT1170_EVK manifest")
    mf = _manifestfile()
    required = []

    class Recording(mf.ManifestFile):
        def require(self, name, *args, **kw):
            required.append(name)

    port = os.path.join(source, "ports", "mimxrt")
    paths = {"MPY_DIR": source, "MPY_LIB_DIR": "", "PORT_DIR": port, "BOARD_DIR": board_dir}
    m = Recording(mf.MODE_FREEZE, paths)
    m.execute(os.path.join(REPO, "boards", "mimxrt1170_evk", "manifest.py"))
    assert "bundle-networking" in required
    targets = {f.target_path for f in m.files()}
    assert "rpmsg_lite/link.py" in targets and "rl_imxrt1170/__init__.py" in targets
    assert any(f.full_path.startswith(port) for f in m.files())  # the port's own modules too
