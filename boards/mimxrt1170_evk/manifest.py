# Freeze the stack and the RT1170 port into a MIMXRT1170_EVK firmware:
#   make -C ports/mimxrt BOARD=MIMXRT1170_EVK FROZEN_MANIFEST=<this file>
# The board's own manifest first (MicroPython ports/mimxrt/boards/
# MIMXRT1170_EVK/manifest.py: the port's modules plus
# require("bundle-networking")), so this firmware keeps everything the stock
# EVK firmware has.
include("$(BOARD_DIR)/manifest.py")
include("../../firmware/manifest.py")
package("rl_imxrt1170", base_path="../../firmware/platform")
