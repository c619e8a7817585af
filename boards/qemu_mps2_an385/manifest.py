# The stack and the in-process loopback port, frozen into the QEMU
# firmware (the demos and the benchmark are sent by mpremote, see README).
include("../../firmware/manifest.py")
module("rl_loopback.py", base_path="../../firmware/platform")
# asyncio for rpmsg_lite.aio (aio_demo.py): ports/qemu builds without
# asyncio, select and time, so the Python asyncio (with its Python task
# queue, task.py) is frozen with a virtual clock and a stream-only poll.
package(
    "asyncio",
    ("__init__.py", "core.py", "event.py", "funcs.py", "lock.py", "stream.py", "task.py"),
    base_path="$(MPY_DIR)/extmod",
    opt=3,
)
module("time.py", base_path="lib")
module("select.py", base_path="lib")
