# The stack and the in-process loopback port, frozen into the QEMU
# firmware (the demo and the benchmark are sent by mpremote, see README).
include("../../firmware/manifest.py")
module("rl_loopback.py", base_path="../../firmware/platform")
