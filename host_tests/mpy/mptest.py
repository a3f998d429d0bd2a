# Test driver that runs inside the real MicroPython interpreter. It imports each named test module,
# calls its test_* functions in file order, and prints one result line per test for pytest:
#   @@RESULT {"id": "<module>::<test>", "ok": true|false, "err": "<traceback>"}
# MicroPython has no pytest: the tests are plain functions with assert, shared with CPython.
import sys
import io
import json

import hostclock  # grabs the interpreter's real `time` before the shim below replaces it
import time as _real_time


class _TimeShim:
    """`time` as firmware sees it: ticks come from hostclock (virtual in tests), the rest real."""

    def __getattr__(self, name):
        return getattr(_real_time, name)


_shim = _TimeShim()
_shim.ticks_ms = hostclock.ticks_ms
_shim.ticks_diff = hostclock.ticks_diff
_shim.ticks_add = hostclock.ticks_add
_shim.sleep_ms = hostclock.sleep_ms
sys.modules["time"] = _shim


def _report(test_id, ok, err=""):
    print("@@RESULT " + json.dumps({"id": test_id, "ok": ok, "err": err}))


def _trace(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def import_modules(names):
    for name in names:
        try:
            __import__(name)
            _report("import::" + name, True)
        except Exception as exc:  # noqa: BLE001 - every failure is a result, not a crash
            _report("import::" + name, False, _trace(exc))


def run_tests(plan):
    """plan: [[module name, [test names in file order]], ...] (the host parses the names)."""
    for mod_name, names in plan:
        try:
            mod = __import__(mod_name)
        except Exception as exc:  # noqa: BLE001
            for name in names:
                _report(mod_name + "::" + name, False, _trace(exc))
            continue
        for name in names:
            hostclock.use_virtual(0)
            try:
                getattr(mod, name)()
                _report(mod_name + "::" + name, True)
            except Exception as exc:  # noqa: BLE001 - a failing test is a result, not a crash
                _report(mod_name + "::" + name, False, _trace(exc))
        del sys.modules[mod_name]
