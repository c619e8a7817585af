# Runs one portable test module ON MicroPython and reports each test's
# outcome on stdout for the pytest plugin in host_tests/conftest.py.
#
#   micropython -X heapsize=16M host_tests/mpy_runner.py MODULE_FILE [PATH...]
#
# PATH entries are put at the front of sys.path, in the given order, before
# the module is imported by name. Output protocol, one line each:
#   @@START {"name": ...}                        before a test runs
#   @@RESULT {"name": ..., "outcome": ..., "detail": ...}
#                                                outcome: passed|failed|skipped;
#                                                detail: traceback / skip reason
#   @@ERROR {"detail": ...}                      the module could not be imported
# Anything the tests print appears between a test's START and RESULT lines,
# which lets the plugin show each test's own output.
#
# This file must run on MicroPython, so it sticks to the common subset of
# both interpreters: no os.path, no f-strings, only sys/io/json/gc.

import sys
import io
import json
import gc

START = "@@START "
RESULT = "@@RESULT "
ERROR = "@@ERROR "


def emit(marker, payload):
    print(marker + json.dumps(payload))


def format_exception(exc):
    buf = io.StringIO()
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc, buf)
    else:
        # Lets the runner also be tried by hand on CPython when debugging.
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=buf)
    return buf.getvalue()


def scan_test_names(text):
    # MicroPython's module dict is a hash table without insertion order, so
    # the source text decides the order: top-level `def test_...(` lines.
    names = []
    for line in text.split("\n"):
        if not line.startswith("def test_"):
            continue
        name = line[4:].split("(")[0].strip()
        if name and name not in names:
            names.append(name)
    return names


def skip_class():
    # Tests skip by raising support.SkipTest; support lives in
    # host_tests/portable, which the caller puts on sys.path.
    try:
        import support

        return support.SkipTest
    except ImportError:
        return None


def skip_reason(exc):
    if exc.args:
        return str(exc.args[0])
    return ""


def run_test(name, func, skip_type):
    emit(START, {"name": name})
    # Start every test from a collected heap so one test's garbage does not
    # turn into a MemoryError in the next one.
    gc.collect()
    outcome = "passed"
    detail = ""
    try:
        func()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if skip_type is not None and isinstance(exc, skip_type):
            outcome = "skipped"
            detail = skip_reason(exc)
        else:
            outcome = "failed"
            detail = format_exception(exc)
    emit(RESULT, {"name": name, "outcome": outcome, "detail": detail})


def main(argv):
    if len(argv) < 2:
        print("usage: micropython mpy_runner.py MODULE_FILE [PATH...]")
        return 2
    module_file = argv[1]
    paths = argv[2:]
    for index in range(len(paths)):
        sys.path.insert(index, paths[index])

    slash = module_file.rfind("/")
    if slash < 0:
        module_dir = "."
    elif slash == 0:
        module_dir = "/"
    else:
        module_dir = module_file[:slash]
    module_name = module_file[slash + 1:]
    if module_name.endswith(".py"):
        module_name = module_name[:-3]
    # The module is imported by name, so its folder must be searchable; it
    # normally already is (host_tests/portable is one of the PATH entries).
    if module_dir not in sys.path:
        sys.path.insert(len(paths), module_dir)

    with open(module_file) as f:
        order = scan_test_names(f.read())
    skip_type = skip_class()

    try:
        module = __import__(module_name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if skip_type is not None and isinstance(exc, skip_type):
            # A module-level support.skip() skips every test in the file.
            for name in order:
                emit(RESULT, {"name": name, "outcome": "skipped",
                              "detail": skip_reason(exc)})
            return 0
        emit(ERROR, {"detail": format_exception(exc)})
        return 1

    tests = []
    for name in order:
        if callable(getattr(module, name, None)):
            tests.append(name)
    # Test callables not written as a plain top-level `def` (assigned or
    # imported) still run, after the others, in a stable order.
    extras = []
    for name in dir(module):
        if name.startswith("test_") and name not in tests:
            if callable(getattr(module, name)):
                extras.append(name)
    extras.sort()

    for name in tests + extras:
        run_test(name, getattr(module, name), skip_type)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
