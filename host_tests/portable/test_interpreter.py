# Portable checks of the test machinery itself: every test here runs on
# CPython (pytest) and on the MicroPython unix port (mpy_runner.py) and must
# behave the same on both, except the two that deliberately skip on one side
# to prove that support.skip() is reported as a skip by both runners.

import sys

import support


def test_implementation_is_known_and_matches_support():
    name = sys.implementation.name
    assert name in ("cpython", "micropython"), name
    assert support.IS_MICROPYTHON == (name == "micropython")


def test_raises_returns_the_exception():
    exc = support.raises(ValueError, int, "x")
    assert isinstance(exc, ValueError)
    # A tuple of types works like in an except clause.
    exc = support.raises((KeyError, IndexError), [].pop)
    assert isinstance(exc, IndexError)


def test_raises_fails_when_nothing_is_raised():
    exc = support.raises(AssertionError, support.raises, ValueError, int, "3")
    assert str(exc) == "did not raise ValueError", str(exc)


def test_raises_lets_other_exceptions_through():
    # The unexpected TypeError must surface, not be reported as "did not raise".
    exc = support.raises(TypeError, support.raises, ValueError, len, 5)
    assert isinstance(exc, TypeError)


def test_micropython_const():
    # Built in on MicroPython; provided by tools/cpython_shim on CPython.
    import micropython

    assert micropython.const(3) == 3
    assert micropython.const(0x40) + 1 == 65


def test_sys_path_front_is_the_same_on_both():
    expected = [
        support.repo_path("firmware"),
        support.repo_path("firmware", "platform"),
        support.repo_path("boards", "host"),
        support.repo_path("host_tests", "portable"),
    ]
    shim = support.repo_path("tools", "cpython_shim")
    if support.IS_MICROPYTHON:
        assert sys.path[:4] == expected, sys.path
        assert shim not in sys.path, sys.path
    else:
        assert sys.path[:5] == [shim] + expected, sys.path


def test_repo_paths():
    # The file this helper lives in must be found through repo_path(), and
    # the golden images are inside the repository.
    with open(support.repo_path("host_tests", "portable", "support.py")) as f:
        assert "class SkipTest" in f.read()
    assert support.repo_path() == support.repo_path().rstrip("/")
    with open(support.repo_path("host_tests", "vectors", "vectors.json")) as f:
        assert "a300ec8356d1144d6e6a5d8d65a9c728418e7e22" in f.read()


def test_only_on_micropython():
    if not support.IS_MICROPYTHON:
        support.skip("needs the MicroPython runtime")
    import micropython

    assert hasattr(micropython, "mem_info")
    assert sys.implementation.name == "micropython"


def test_only_on_cpython():
    if support.IS_MICROPYTHON:
        support.skip("checks CPython behaviour only")
    assert sys.implementation.name == "cpython"
