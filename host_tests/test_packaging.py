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
import deploy  # noqa: E402

# .mpy header (MicroPython py/persistentcode.h): b"M", version 6, then the
# feature byte: architecture in bits 2-5 and the native sub-version (3 for
# MicroPython 1.23+) in bits 0-1 when the file holds native or viper code.
ARCH = {"armv6m": 4, "armv7m": 5, "armv7emdp": 8}
CORE = sorted(
    "lib/rpmsg_lite/" + n for n in os.listdir(os.path.join(REPO, "firmware", "rpmsg_lite")) if n.endswith(".py")
) + ["lib/rl_env.py"]
# Modules with @micropython.viper (or asm_thumb) code, whose .mpy is arch specific.
NATIVE = {
    "lib/rpmsg_lite/vring.py",
    "lib/rpmsg_lite/views.py",
    "lib/rl_regs.py",
    "lib/rl_imxrt1170_barrier.py",
    "lib/rl_rp2040_dual.py",
    "lib/rl_rp2040_sev.py",
}


def test_package_json_is_current():
    with open(os.path.join(REPO, "firmware", "package.json")) as f:
        assert f.read() == deploy.package_json(), "run: python3 tools/deploy.py --write-package-json"
    import json

    urls = json.loads(deploy.package_json())["urls"]
    for dest, src in urls:
        assert os.path.exists(os.path.join(REPO, "firmware", src)), src
    assert {"rpmsg_lite/vring.py", "rl_env.py", "rl_imxrt1170.py", "rl_loopback.py"} <= {d for d, _ in urls}
    assert not any(d.startswith("rl_host") for d, _ in urls)  # unix-port only


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
    paths = {"MPY_DIR": str(tmp_path), "MPY_LIB_DIR": "", "PORT_DIR": str(port), "BOARD_DIR": str(tmp_path)}
    m = mf.ManifestFile(mf.MODE_FREEZE, paths)
    m.execute(manifest)
    return sorted(os.path.relpath(f.full_path, REPO) + " -> " + f.target_path for f in m.files())


def test_firmware_manifest_freezes_the_package_and_environment(tmp_path):
    frozen = _frozen(os.path.join(REPO, "firmware", "manifest.py"), tmp_path)
    want = sorted("firmware/" + p[4:] + " -> " + p[4:] for p in CORE if p.startswith("lib/rpmsg_lite/"))
    want.append("firmware/environment/rl_env.py -> rl_env.py")
    assert frozen == sorted(want)


@pytest.mark.parametrize("board", deploy.boards())
def test_board_manifest_adds_its_platform_modules(board, tmp_path):
    spec = deploy.load_board(board)
    path = os.path.join(REPO, "boards", board, "manifest.py")
    if not os.path.exists(path):
        pytest.skip("%s has no freeze manifest" % board)
    targets = {line.split(" -> ")[1] for line in _frozen(path, tmp_path)}
    assert set(spec["platform"]) <= targets
    assert {p[4:] for p in CORE} <= targets


@pytest.mark.parametrize("board", deploy.boards())
def test_deploy_stages_exactly_the_board_files_for_its_arch(board, tmp_path):
    spec = deploy.load_board(board)
    out = tmp_path / "stage"
    proc = subprocess.run(
        [sys.executable, DEPLOY, board, "--dry-run", "--out", str(out)], capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode()
    on_disk = sorted(
        os.path.relpath(os.path.join(d, f), out).replace(os.sep, "/") for d, _, fs in os.walk(out) for f in fs
    )
    libs = CORE + ["lib/" + p for p in spec["platform"]]
    want = sorted([p[:-3] + ".mpy" for p in libs] + spec.get("board_files", []))
    assert on_disk == want
    arch = ARCH[spec["mpy_arch"]]
    for py in libs:
        header = (out / (py[:-3] + ".mpy")).read_bytes()[:4]
        assert header[:2] == b"M\x06", (py, header)
        if py in NATIVE:
            assert header[2] == (arch << 2) | 3, (py, header[2])  # arch and sub-version 3
        else:
            assert header[2] == 0, (py, header[2])  # plain bytecode: loads on any arch
    for name in spec.get("board_files", []):
        assert (out / name).read_bytes() == open(os.path.join(REPO, "boards", board, name), "rb").read()
