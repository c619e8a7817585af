"""Helpers for the portable tests, which run on CPython (under pytest) and on
the MicroPython unix port (under host_tests/mpy_runner.py).

Portable code only: no pytest, no os.path, no typing.
"""

import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"


class SkipTest(Exception):
    """Raise (via skip()) to skip the running test.

    Both runners report it as a skip: conftest.py turns it into pytest.skip on
    CPython, mpy_runner.py reports "skipped" on MicroPython. Raised at module
    level it skips the whole file.
    """


def skip(reason=""):
    raise SkipTest(reason)


def _type_name(exc_type):
    if isinstance(exc_type, tuple):
        return " or ".join([_type_name(t) for t in exc_type])
    return getattr(exc_type, "__name__", str(exc_type))


def raises(exc_type, func, *args, **kwargs):
    """Call func(*args, **kwargs), which must raise exc_type (a class or a
    tuple of classes); return the exception so the test can inspect it.

    Any other exception propagates unchanged, so the test fails on it.
    """
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError("did not raise " + _type_name(exc_type))


def _parent(path):
    # os.path.dirname for "/"-separated paths; MicroPython has no os.path.
    path = path.rstrip("/")
    index = path.rfind("/")
    if index < 0:
        return "."
    if index == 0:
        return "/"
    return path[:index]


def _join(base, parts):
    if not parts:
        return base
    return base.rstrip("/") + "/" + "/".join(parts)


def repo_root():
    """Absolute path of the repository checkout."""
    import os

    # The pytest plugin exports RPMSG_REPO for both interpreters.
    root = os.getenv("RPMSG_REPO")
    if root:
        return root.rstrip("/") or "/"
    # Outside the plugin: this file is <repo>/host_tests/portable/support.py.
    if IS_MICROPYTHON:
        here = __file__
    else:
        here = os.path.abspath(__file__)
    return _parent(_parent(_parent(here)))


def repo_path(*parts):
    """Path of a file inside the repository, e.g. repo_path("firmware", "x.py")."""
    return _join(repo_root(), parts)
