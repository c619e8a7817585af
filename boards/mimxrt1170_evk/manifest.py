# Freeze the stack and the RT1170 port into a MIMXRT1170_EVK firmware:
#   make -C ports/mimxrt BOARD=MIMXRT1170_EVK FROZEN_MANIFEST=<this file>
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
module("rl_regs.py", base_path="../../firmware/platform")
module("rl_imxrt1170.py", base_path="../../firmware/platform")
module("rl_imxrt1170_soc.py", base_path="../../firmware/platform")
module("rl_imxrt1170_barrier.py", base_path="../../firmware/platform")
