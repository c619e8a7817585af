"""pytest plugin: run the portable tests on CPython AND on MicroPython.

host_tests/portable/test_*.py are written in the CPython/MicroPython common
subset. Each such file is collected twice:
  * by pytest's own Module collector (items ``test_x``), run on CPython;
  * by MicroPythonFile (items ``test_x[micropython]``), which runs the whole
    file once in a MicroPython unix-port subprocess (host_tests/mpy_runner.py)
    the first time one of its items executes, and reports each test from the
    results that run printed.
Every other host_tests/test_*.py file is a plain CPython pytest module.

``-m micropython`` / ``-m "not micropython"`` select or drop the MicroPython
items.
"""

import json
import linecache
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# The rootdir-relative import of this conftest normally puts HERE on sys.path,
# but not under --import-mode=importlib; _paths must be importable regardless.
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import _paths  # noqa: E402

# CPython gets the same search path the MicroPython runner sets up (plus the
# shim folder first), already at import time so that test modules importing
# firmware at module level find it while being collected.
_paths.install_cpython_paths()
REPO_ROOT = _paths.REPO_ROOT
# support.repo_path() reads this on both interpreters (MicroPython cannot
# derive it from __file__ reliably: no os.path).
os.environ["RPMSG_REPO"] = REPO_ROOT

import support  # noqa: E402  (host_tests/portable, now on sys.path)

PORTABLE_DIR = os.path.join(REPO_ROOT, "host_tests", "portable")
RUNNER = os.path.join(HERE, "mpy_runner.py")
# Each file gets this long on MicroPython (one subprocess for the whole file).
TIMEOUT_S = float(os.environ.get("RPMSG_MICROPYTHON_TIMEOUT", "600"))
# The unix port's default 2 MB heap is smaller than the RAM of the targets the
# firmware runs on; tests should not fail on host-only heap exhaustion.
HEAP_OPTION = ["-X", "heapsize=16M"]
NOT_FOUND = "MicroPython not found: run tools/setup.sh"
MARKER_RE = re.compile(r"@@(START|RESULT|ERROR) (\{.*\})\s*$")
TEST_DEF_RE = re.compile(r"^def\s+(test_\w*)\s*\(", re.MULTILINE)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "micropython: test item executed on the MicroPython unix port"
    )


def pytest_collection_finish(session):
    # pytest's default "prepend" import mode pushes each test module's folder
    # to sys.path[0] while collecting (host_tests/, host_tests/portable/), so
    # restore the documented order before any test runs.
    _paths.install_cpython_paths()


def _is_portable_test(path):
    path = str(path)
    return (
        path.startswith(PORTABLE_DIR + os.sep)
        and os.path.basename(path).startswith("test_")
        and path.endswith(".py")
    )


def _skip_reason(exc):
    return str(exc.args[0]) if exc.args else "skipped by support.skip()"


# --------------------------------------------------------------------------
# CPython side: support.SkipTest means "skip", like on MicroPython.
# --------------------------------------------------------------------------


# Set on items whose skip should be reported at the test, not in this file.
SKIPPED_BY_SUPPORT = pytest.StashKey[bool]()
# Line of a module-level support.skip() in a portable module.
SKIP_LINE = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    try:
        return (yield)
    except support.SkipTest as exc:
        pyfuncitem.stash[SKIPPED_BY_SUPPORT] = True
        pytest.skip(_skip_reason(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # A skip raised by pytest.skip() is reported at the line that raised it,
    # which for support.skip() is always this conftest; point at the test.
    if (
        report.skipped
        and isinstance(report.longrepr, tuple)
        and item.stash.get(SKIPPED_BY_SUPPORT, False)
    ):
        path, lineno = item.reportinfo()[:2]
        report.longrepr = (str(path), (lineno or 0) + 1, report.longrepr[2])
    return report


class PortableModule(pytest.Module):
    """pytest's Module, plus a module-level support.skip() skips the file."""

    def collect(self):
        try:
            # The first access to self.obj (inside collect) imports the module.
            return super().collect()
        except support.SkipTest as exc:
            # Remember the module line that skipped, for the report location.
            lineno = 0
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == str(self.path):
                    lineno = tb.tb_lineno
                tb = tb.tb_next
            self.stash[SKIP_LINE] = lineno
            raise pytest.skip.Exception(_skip_reason(exc), allow_module_level=True)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    lineno = collector.stash.get(SKIP_LINE, None)
    if lineno is not None and report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = (str(collector.path), lineno, report.longrepr[2])
    return report


def pytest_pycollect_makemodule(module_path, parent):
    if _is_portable_test(module_path):
        return PortableModule.from_parent(parent, path=module_path)
    return None


# --------------------------------------------------------------------------
# MicroPython side
# --------------------------------------------------------------------------


def pytest_collect_file(file_path, parent):
    # Returned in addition to pytest's own Module for the same file.
    if _is_portable_test(file_path):
        return MicroPythonFile.from_parent(parent, path=file_path)
    return None


def find_micropython():
    """Return (path, None) or (None, why-not).

    Order: $MICROPYTHON (tools/test exports it), the interpreter recorded by
    tools/setup.sh, its build link, then `micropython` on PATH.
    """
    explicit = os.environ.get("MICROPYTHON")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit, None
        # An explicit choice that is wrong must not be silently replaced.
        return None, "MICROPYTHON=%s is not an executable file" % explicit
    cache = os.path.join(REPO_ROOT, ".cache", "micropython")
    candidates = []
    try:
        with open(os.path.join(cache, "path.txt")) as f:
            candidates.append(f.read().strip())
    except OSError:
        pass
    candidates.append(os.path.join(cache, "micropython"))
    candidates.append(shutil.which("micropython"))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, None
    return None, "no executable found via $MICROPYTHON, .cache/micropython/ or PATH"


class FileRun:
    """Outcome of running one portable file on MicroPython."""

    def __init__(self):
        self.fatal = None  # message that fails every item (not found, timeout)
        self.unavailable = False  # the interpreter could not be found
        self.error = None  # import failure reported by the runner
        self.results = {}  # test name -> {"outcome", "detail", "output"}
        self.outside_output = ""  # stdout not printed by a particular test
        self.stderr = ""
        self.returncode = None
        self.command = ""
        self.unfinished = None  # test that started but never reported
        self.unfinished_output = ""

    def parse(self, stdout):
        outputs = {}
        outside = []
        current = None
        for line in stdout.splitlines(keepends=True):
            match = MARKER_RE.search(line)
            if match is None:
                (outputs[current] if current else outside).append(line)
                continue
            # A test that printed without a final newline leaves its text in
            # front of the marker on the same line.
            before = line[: match.start()]
            if before:
                (outputs[current] if current else outside).append(before + "\n")
            kind = match.group(1)
            try:
                payload = json.loads(match.group(2))
            except ValueError:
                (outputs[current] if current else outside).append(line)
                continue
            if kind == "START":
                current = payload.get("name")
                outputs.setdefault(current, [])
            elif kind == "RESULT":
                name = payload.get("name")
                self.results[name] = {
                    "outcome": payload.get("outcome"),
                    "detail": payload.get("detail", ""),
                    "output": "".join(outputs.get(name, [])),
                }
                current = None
            else:  # ERROR
                self.error = payload.get("detail", "")
        self.outside_output = "".join(outside)
        # A test that started but never reported (crash, timeout) keeps the
        # output it produced so far, for its failure report.
        self.unfinished = current
        self.unfinished_output = "".join(outputs.get(current, [])) if current else ""


def _decode(data):
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def run_file_on_micropython(path):
    run = FileRun()
    interpreter, why = find_micropython()
    if interpreter is None:
        run.unavailable = True
        run.fatal = "%s (%s)" % (NOT_FOUND, why)
        return run
    command = [interpreter] + HEAP_OPTION + [RUNNER, str(path)]
    command += _paths.micropython_paths()
    run.command = " ".join(command)
    env = dict(os.environ)
    env["RPMSG_REPO"] = REPO_ROOT
    # Only our sys.path entries (plus frozen modules): nothing from the
    # user's ~/.micropython/lib or /usr/lib/micropython can leak into tests.
    env["MICROPYPATH"] = ".frozen"
    try:
        proc = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        # subprocess.run has killed the child; keep what it printed.
        run.parse(_decode(exc.stdout))
        run.stderr = _decode(exc.stderr)
        where = ""
        if run.unfinished:
            where = " while running %s" % run.unfinished
        run.fatal = "MicroPython run of %s timed out after %g s%s\ncommand: %s" % (
            os.path.relpath(str(path), REPO_ROOT),
            TIMEOUT_S,
            where,
            run.command,
        )
        return run
    except OSError as exc:
        run.unavailable = True
        run.fatal = "%s (%s: %s)" % (NOT_FOUND, interpreter, exc)
        return run
    run.returncode = proc.returncode
    run.stderr = _decode(proc.stderr)
    run.parse(_decode(proc.stdout))
    return run


TRACEBACK_FRAME_RE = re.compile(r'^(\s*)File "([^"]+)", line (\d+)')


def with_source_lines(traceback_text):
    """Add the source line under each frame of a MicroPython traceback.

    MicroPython prints only file/line/function, and a bare `assert` failure
    has no message at all (no assertion rewriting), so the source line is
    often the only hint of what failed.
    """
    out = []
    for line in traceback_text.splitlines():
        out.append(line)
        match = TRACEBACK_FRAME_RE.match(line)
        if match:
            source = linecache.getline(match.group(2), int(match.group(3))).strip()
            if source:
                out.append("%s  %s" % (match.group(1), source))
    return "\n".join(out) + "\n"


def failure_text(prefix, traceback_text):
    # The first line is what `pytest -q` shows in its short summary, so it
    # carries the exception line (the traceback's last line).
    lines = [line for line in traceback_text.splitlines() if line.strip()]
    headline = prefix + (lines[-1] if lines else "failed")
    return headline + "\n" + with_source_lines(traceback_text)


class MicroPythonFailure(Exception):
    """A [micropython] item failed; str() is the complete report text."""


class MicroPythonFile(pytest.File):
    _run = None

    def collect(self):
        # The tests are found by scanning the source (importing it on CPython
        # would not say what MicroPython can run, and needs no import at all).
        with open(self.path, encoding="utf-8") as f:
            text = f.read()
        seen = set()
        for match in TEST_DEF_RE.finditer(text):
            name = match.group(1)
            if name in seen:
                continue
            seen.add(name)
            lineno = text.count("\n", 0, match.start())
            item_name = name + "[micropython]"
            yield MicroPythonItem.from_parent(
                self,
                name=item_name,
                # Given as a string so pytest parses "[micropython]" as the
                # parameter part, exactly as it parses the ids it stores
                # (--lf, --deselect); derived from the name, pytest 9 would
                # keep the brackets inside the name and never match them.
                nodeid=self.nodeid + "::" + item_name,
                test_name=name,
                lineno=lineno,
            )

    def run_result(self):
        # One subprocess per file, started by the first item that executes.
        if self._run is None:
            self._run = run_file_on_micropython(self.path)
        return self._run


class MicroPythonItem(pytest.Item):
    def __init__(self, *, test_name, lineno, **kwargs):
        super().__init__(**kwargs)
        self.test_name = test_name
        self.lineno = lineno
        self.add_marker("micropython")

    def runtest(self):
        run = self.parent.run_result()
        if run.unavailable and os.environ.get("RPMSG_SKIP_MICROPYTHON") == "1":
            self.stash[SKIPPED_BY_SUPPORT] = True
            pytest.skip(run.fatal)
        self._add_output_sections(run)
        if run.fatal:
            raise MicroPythonFailure(run.fatal)
        result = run.results.get(self.test_name)
        if result is None:
            raise MicroPythonFailure(self._missing_result_message(run))
        outcome = result["outcome"]
        if outcome == "passed":
            return
        if outcome == "skipped":
            self.stash[SKIPPED_BY_SUPPORT] = True
            pytest.skip(result["detail"] or "skipped on MicroPython")
        raise MicroPythonFailure(
            failure_text("MicroPython: ", result["detail"])
        )

    def _missing_result_message(self, run):
        if run.error:
            return failure_text("MicroPython could not import the file: ", run.error)
        lines = ["no result from MicroPython for %s" % self.test_name]
        if run.unfinished:
            lines.append("the run stopped inside %s" % run.unfinished)
        lines.append("exit status: %s" % run.returncode)
        lines.append("command: %s" % run.command)
        return "\n".join(lines)

    def _add_output_sections(self, run):
        # Shown by pytest in the report of a failing item (and with -rA).
        result = run.results.get(self.test_name)
        own = result["output"] if result else ""
        if not own and run.unfinished == self.test_name:
            own = run.unfinished_output
        if own:
            self.add_report_section("call", "stdout (micropython)", own)
        if run.outside_output:
            self.add_report_section(
                "call", "stdout (micropython, outside tests)", run.outside_output
            )
        if run.stderr:
            self.add_report_section("call", "stderr (micropython)", run.stderr)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.lineno, self.name
