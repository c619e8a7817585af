# The stack and the in-process loopback platform, frozen into the QEMU
# firmware (the demo and the benchmark are sent by mpremote, see README).
include("../../firmware/manifest.py")
module("rl_loopback.py", base_path="../../firmware/platform")
module("rl_regs.py", base_path="../../firmware/platform")
