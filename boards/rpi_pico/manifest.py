# Freeze the stack and the RP2040 port into a RPI_PICO firmware:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=<this file>
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
for name in ("rl_regs", "rl_rp2040", "rl_rp2040_hw", "rl_rp2040_dual", "rl_rp2040_fifo", "rl_rp2040_bell", "rl_rp2040_sev"):
    module(name + ".py", base_path="../../firmware/platform")
