"""pytest plugin: run the dual-runtime tests on the real MicroPython interpreter as well.

A test file that contains the line `RUNS_ON_MICROPYTHON = True` is collected twice more: once
against the firmware's source (.py) and once against its mpy-cross output (.mpy), each inside the
WebAssembly MicroPython under Node. Every firmware module is also imported there. One interpreter
run per variant serves the whole session; each result becomes an ordinary pytest item, so a
failure on MicroPython shows its MicroPython traceback in the pytest report.
"""
import ast
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mpyrun  # noqa: E402

MARK = "RUNS_ON_MICROPYTHON = True"
VARIANTS = ("src", "mpy")

_dual_tests = {}  # module name -> (path, [test names])


def _test_names(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def run_on_micropython(variant):
    """Run every dual test and every firmware import in one interpreter; return {id: result}."""
    plan = [[mod, names] for mod, (_p, names) in sorted(_dual_tests.items())]
    extra = [(path, "/tests/" + mod + ".py") for mod, (path, _n) in _dual_tests.items()]
    extra.append((os.path.join(HERE, "mptest.py"), "/lib/mptest.py"))
    main = "\n".join([
        "import mptest",
        "mptest.import_modules(%s)" % json.dumps(mpyrun.firmware_modules()),
        "mptest.run_tests(%s)" % json.dumps(plan),
        "print('@@DONE')",
    ])
    proc = mpyrun.run(main, variant, extra)
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT "):
            r = json.loads(line[len("@@RESULT "):])
            results[r["id"]] = r
    if "@@DONE" not in proc.stdout:
        results["__crash__"] = "interpreter stopped early (exit %s)\nstdout tail:\n%s\nstderr:\n%s" % (
            proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return results


class MicroPythonFailure(Exception):
    pass


class MpyItem(pytest.Item):
    def __init__(self, *, result_id, variant, **kw):
        super().__init__(**kw)
        self.result_id = result_id
        self.variant = variant
        self.add_marker("micropython")

    def runtest(self):
        cache = self.config.stash.setdefault(_CACHE_KEY, {})
        if self.variant not in cache:
            cache[self.variant] = run_on_micropython(self.variant)
        results = cache[self.variant]
        r = results.get(self.result_id)
        if r is None:
            raise MicroPythonFailure("no result from MicroPython for %s\n%s" % (
                self.result_id, results.get("__crash__", "")))
        if not r["ok"]:
            raise MicroPythonFailure(r["err"])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "MicroPython (%s) says:\n%s" % (self.variant, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, "micropython-%s: %s" % (self.variant, self.result_id)


_CACHE_KEY = pytest.StashKey[dict]()


class MpyFile(pytest.File):
    def collect(self):
        mod = self.path.stem
        for variant in VARIANTS:
            for name in _dual_tests[mod][1]:
                yield MpyItem.from_parent(self, name="micropython-%s::%s" % (variant, name),
                                          result_id=mod + "::" + name, variant=variant)


class MpyImports(pytest.File):
    """Every firmware module must import on the real interpreter, from source and from .mpy."""

    def collect(self):
        for variant in VARIANTS:
            for mod in mpyrun.firmware_modules():
                yield MpyItem.from_parent(self, name="micropython-%s::import %s" % (variant, mod),
                                          result_id="import::" + mod, variant=variant)


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".py":
        return None
    if file_path.name == "test_micropython_imports.py":
        return MpyImports.from_parent(parent, path=file_path)
    if not file_path.name.startswith("test_"):
        return None
    text = file_path.read_text(encoding="utf-8")
    if MARK not in text.splitlines():
        return None
    _dual_tests[file_path.stem] = (str(file_path), _test_names(str(file_path)))
    return MpyFile.from_parent(parent, path=file_path)


def pytest_configure(config):
    config.addinivalue_line("markers", "micropython: runs on the real MicroPython interpreter")


def pytest_terminal_summary(terminalreporter):
    counts = {"cpython": [0, 0], "micropython": [0, 0]}
    for key in ("passed", "failed"):
        for rep in terminalreporter.stats.get(key, []):
            if rep.when != "call" and key == "passed":
                continue
            side = "micropython" if "micropython-" in rep.nodeid else "cpython"
            counts[side][0 if key == "passed" else 1] += 1
    terminalreporter.write_line(
        "runtimes: CPython %d passed, %d failed; real MicroPython 1.29 (WebAssembly) %d passed, %d failed"
        % (counts["cpython"][0], counts["cpython"][1], counts["micropython"][0], counts["micropython"][1]))
