# Freeze the stack and the RT1170 port into a MIMXRT1170_EVK firmware:
#   make -C ports/mimxrt BOARD=MIMXRT1170_EVK FROZEN_MANIFEST=<this file>
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
package("rl_imxrt1170", base_path="../../firmware/platform")
