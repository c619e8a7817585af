# Frozen into both cores' firmware: the stack, the loopback platform (for
# the single-core demo) and this board's platform port.
include("../qemu_mps2_an385/manifest.py")
package("rl_mps2_an521", base_path="../../firmware/platform")
module("an521_pattern.py")
module("an521_master.py")
module("an521_echo.py")
