# MicroPython manifest: freezes the protocol stack (the rpmsg_lite package and
# the environment layer) into firmware. Board manifests include this file and
# add their platform modules (see boards/*/manifest.py).
metadata(description="RPMsg-Lite inter-core messaging, byte-compatible with NXP's C library", version="0.1.0")
package("rpmsg_lite")
module("rl_env.py", base_path="environment")
