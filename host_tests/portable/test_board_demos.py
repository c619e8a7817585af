"""The boards' ready demos, run where they can run off the board.

* boards/rpi_pico/main.py uses mode (a) of the RP2040 port, which touches
  no register without a PIO doorbell: core 1 is a real _thread here too, so
  the demo runs as on the Pico, both cores live.
* boards/qemu_mps2_an385/main.py is the loopback demo the QEMU firmware
  runs; it runs unchanged on the host interpreters.
"""

import support


def _load(path, name):
    """Execute a board file as a module of its own (MicroPython has no
    importlib, and every board calls its demo main.py)."""
    namespace = {"__name__": name}
    with open(path) as f:
        exec(f.read(), namespace)
    return namespace


def test_pico_demo_core1_services_answer_the_core0_repl():
    demo = _load(support.repo_path("boards", "rpi_pico", "main.py"), "pico_demo")
    s = demo["start"]()
    try:
        assert s.services == {"rpmsg-echo": 30, "core1-eval": 31}
        assert demo["ping"](20, 64) > 0
        assert demo["ping"](5, 496) > 0
        assert demo["core1"]("sum(range(100))") == "4950"
        assert demo["core1"]("[x * x for x in range(4)]") == "[0, 1, 4, 9]"
        assert demo["core1"]("1/0").startswith("ZeroDivisionError")
        assert demo["start"]() is s  # a second start() keeps the session
    finally:
        demo["stop"]()
    assert not s.dual.core1_running()
    support.raises(RuntimeError, demo["core1"], "1")


def test_qemu_board_demo_runs_on_the_host_too():
    demo = _load(support.repo_path("boards", "qemu_mps2_an385", "main.py").replace("main.py", "main.py"), "qemu_demo")
    assert callable(demo["run"])  # it already ran once at load; run again with more messages
    demo["run"](64)
