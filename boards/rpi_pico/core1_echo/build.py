"""Build the example core-1 program (core1_echo.c) for the RP2040's
Cortex-M0+ with Debian's gcc-arm-none-eabi, and check the image.

    python3 boards/rpi_pico/core1_echo/build.py [--out DIR]

writes DIR/core1_echo.bin (default: .cache/core1_echo/ in the repository):
a raw image linked at address 0 for rl_rp2040.FifoMailbox.launch_image(),
which copies it into a pinned heap buffer and relocates its vector table.
Copy it to the board (mpremote cp .cache/core1_echo/core1_echo.bin :) for
boards/rpi_pico/selftest.py.

check() links the program at two addresses and requires that the two
images differ only in the non-zero vector-table words, by exactly the
difference of the addresses: the code itself is position-independent.
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SOURCE = os.path.join(HERE, "core1_echo.c")
SCRIPT = os.path.join(HERE, "core1_echo.ld")
CC = "arm-none-eabi-gcc"
OBJCOPY = "arm-none-eabi-objcopy"
CFLAGS = [
    "-mcpu=cortex-m0plus",
    "-mthumb",
    "-Os",
    "-ffreestanding",
    "-nostdlib",
    "-nostartfiles",
    "-fno-common",
    "-Wall",
    "-Wextra",
    "-Werror",
]
VECTORS = 16  # ARMv6-M: SP, reset, NMI, HardFault and 12 more words
ALT_BASE = 0x1000  # the second link address of check()


class Unavailable(Exception):
    pass


def toolchain():
    """Raise Unavailable unless the cross compiler and objcopy are on PATH."""
    missing = [tool for tool in (CC, OBJCOPY) if shutil.which(tool) is None]
    if missing:
        raise Unavailable(
            "%s not found: install Debian's gcc-arm-none-eabi (tools/qemu.py ensure_toolchain does)"
            % " and ".join(missing)
        )


def build(out_dir, base=0):
    """Compile and link at ``base``; returns the raw image (bytes)."""
    toolchain()
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, "core1_echo" if base == 0 else "core1_echo_%x" % base)
    cmd = [CC] + CFLAGS + ["-Wl,--defsym=IMAGE_BASE=%#x" % base, "-T", SCRIPT, "-o", stem + ".elf", SOURCE]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("compiling core1_echo.c failed:\n" + proc.stderr)
    subprocess.run([OBJCOPY, "-O", "binary", stem + ".elf", stem + ".bin"], check=True)
    with open(stem + ".bin", "rb") as f:
        return f.read()


def words(image, n=VECTORS):
    return [int.from_bytes(image[4 * i : 4 * i + 4], "little") for i in range(n)]


def check(out_dir):
    """Build at 0 and at ALT_BASE, check the vector table and position
    independence; returns the image linked at 0. Raises ValueError."""
    image = build(out_dir)
    moved = build(out_dir, ALT_BASE)
    n = len(image)
    if len(moved) != n or n < 4 * VECTORS:
        raise ValueError("the two links differ in size (%d, %d)" % (n, len(moved)))
    vt = words(image)
    sp, reset = vt[0], vt[1]
    if sp & 7 or not 4 * VECTORS < sp <= n:
        raise ValueError("initial SP %#x is not an 8-byte aligned offset inside the image" % sp)
    if not reset & 1 or not 4 * VECTORS <= reset - 1 < n:
        raise ValueError("reset vector %#x is not a Thumb offset past the vector table" % reset)
    for i, (a, b) in enumerate(zip(vt, words(moved))):
        if b - a != (ALT_BASE if a else 0):
            raise ValueError("vector %d is %#x at 0 but %#x at %#x" % (i, a, b, ALT_BASE))
    if image[4 * VECTORS :] != moved[4 * VECTORS :]:
        raise ValueError("the code changes with its link address: it is not position-independent")
    return image


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, ".cache", "core1_echo"), help="output directory")
    args = parser.parse_args(argv)
    try:
        image = check(args.out)
    except (Unavailable, ValueError, RuntimeError) as e:
        print("core1_echo: %s" % e, file=sys.stderr)
        return 1
    print("%s (%d bytes, SP +%#x, entry +%#x)" % (os.path.join(args.out, "core1_echo.bin"), len(image), *words(image, 2)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
