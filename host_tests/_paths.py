"""The one definition of the module search path used by the tests.

Both interpreters see the same firmware/test directories at the front of
sys.path, in the same order, so an import resolves to the same file on
CPython and on MicroPython. Only CPython additionally gets the shim folder
first: it provides stand-ins for MicroPython-only modules (micropython,
uctypes, machine), which must never shadow the real built-in modules on
MicroPython.

Other tools can use this too, e.g.:
    sys.path.insert(0, "<repo>/host_tests"); import _paths
"""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))
import hostcores  # noqa: E402  (the firmware search path is defined there)

del sys.path[0]

PORTABLE = os.path.join(REPO_ROOT, "host_tests", "portable")


def cpython_paths():
    """Absolute sys.path front entries for CPython (shim first)."""
    return [hostcores.SHIM] + hostcores.FIRMWARE_PATHS + [hostcores.HOST_BOARD, PORTABLE]


def micropython_paths():
    """Absolute sys.path front entries for MicroPython (no shim)."""
    return hostcores.FIRMWARE_PATHS + [hostcores.HOST_BOARD, PORTABLE] + hostcores.micropython_libs()


def install_cpython_paths(path_list=None):
    """Put cpython_paths() at the front of sys.path (or path_list), in order.

    Entries already present elsewhere are moved, so the order is exactly the
    documented one whatever ran before.
    """
    import sys

    if path_list is None:
        path_list = sys.path
    wanted = cpython_paths()
    path_list[:] = wanted + [p for p in path_list if p not in wanted]
    return path_list
