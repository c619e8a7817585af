"""tools/inspect through real processes: a dump from the host demo, a
golden image (raw and hex), a corrupted one, and bad input."""

import binascii
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import hostcores  # noqa: E402

INSPECT = os.path.join(REPO, "tools", "inspect")
DEMO = os.path.join(REPO, "tools", "demo.py")
IMAGE = os.path.join(REPO, "host_tests", "vectors", "rl_a0x80_c4_c_master_sent_3.bin")


def _inspect(*args):
    return subprocess.run([sys.executable, INSPECT] + list(args), capture_output=True, timeout=60)


def test_dump_of_the_host_demo(tmp_path):
    if hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")
    dump = str(tmp_path / "demo.shm")
    demo = subprocess.run([sys.executable, DEMO, "--messages", "50", "--count", "4", "--dump", dump],
                          capture_output=True, timeout=120)
    assert demo.returncode == 0, demo.stdout.decode() + demo.stderr.decode()
    proc = _inspect(dump)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "layout guessed from the descriptors" in out
    assert "layout: 4 buffers per direction of 512 bytes (payload 496), VRING_ALIGN 0x10" in out
    # Every echo was taken back: the remote holds its free TX buffers, the
    # master its own, except perhaps the last message, which the echo core
    # gives back just after echoing it.
    row = out.split("? in no ring):\n")[1].splitlines()[0]
    assert row in ("  0..3:R 4..7:M", "  0..3:R 4:r 5..7:M", "  0..3:R 4:M 5:r 6..7:M",
                   "  0..3:R 4..5:M 6:r 7:M", "  0..3:R 4..6:M 7:r"), out
    assert "anomalies: none" in out, out


def test_golden_image_raw_and_hex_and_corrupted(tmp_path):
    raw = _inspect(IMAGE)
    assert raw.returncode == 0, raw.stderr.decode()
    out = raw.stdout.decode()
    assert "with the remote: 3 messages for the remote: 4..6" in out
    assert "buffer 4 (desc 0): src 30 -> dst 40, len 5, flags 0x0: 68 65 6c 6c 6f |hello|" in out
    with open(IMAGE, "rb") as f:
        image = bytearray(f.read())
    hexed = tmp_path / "image.hex"
    text = binascii.hexlify(image).decode()
    hexed.write_text("\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n")
    as_hex = _inspect(str(hexed))
    assert as_hex.stdout.decode().split("\n", 1)[1] == out.split("\n", 1)[1]
    # vring 1 (VRING_SIZE 0x180) avail.ring[1] (0x180 + 16*4 + 4 + 2) names descriptor 9.
    image[0x180 + 64 + 6] = 9
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(image))
    proc = _inspect(str(bad), "--count", "4", "--align", "0x80")
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    assert "layout as given" in out
    assert "  bad_desc: vring 1 avail.ring[1] names descriptor 9 (N = 4)" in out, out
    assert "  missing: buffer 5 is in no ring window" in out, out


def test_bad_input(tmp_path):
    proc = _inspect(str(tmp_path / "nothing"))
    assert proc.returncode == 1 and proc.stderr.decode().startswith("tools/inspect: ")
    assert "No such file" in proc.stderr.decode() and proc.stderr.decode().count("\n") == 1
    zeros = tmp_path / "zeros"
    zeros.write_bytes(bytes(4096))
    proc = _inspect(str(zeros))
    assert proc.returncode == 1 and "cannot guess the layout" in proc.stderr.decode()
    proc = _inspect(IMAGE, "--count", "3")
    assert proc.returncode == 2 and "buffer_count must be a power of two" in proc.stderr.decode()
