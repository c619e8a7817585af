# The core package, rpmsg_lite, for freezing into firmware. A board's
# manifest includes this file and adds its platform port (boards/*/manifest.py).
# The version here is the project's one version (tools/layers.py reads it).
metadata(description="RPMsg-Lite inter-core messaging, byte-compatible with NXP's C library", version="0.1.0", license="MIT")
package("rpmsg_lite")
