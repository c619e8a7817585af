# Same frozen content as the Cortex-M3 board.
include("../qemu_mps2_an385/manifest.py")
