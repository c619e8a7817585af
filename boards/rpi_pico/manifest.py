# Freeze the stack and the RP2040 port into a RPI_PICO firmware:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=<this file>
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
package("rl_rp2040", base_path="../../firmware/platform")
