"""make bench: measure mimamori's speed and memory and print one table. Figures are measured
here, on this machine, never asserted: each has a target printed next to it.

Each figure is a function returning rows (name, value, unit, target, where). Adding a figure is
adding one function to FIGURES.
"""
import json
import os
import platform
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build  # noqa: E402
import mpyrun  # noqa: E402


def fig_mpy_size():
    with tempfile.TemporaryDirectory() as d:
        rows = build.compile_all(d, "xtensawin")
    total = sum(r[2] for r in rows)
    return [("compiled .mpy total (%d modules, xtensawin)" % len(rows), "%.1f" % (total / 1024),
             "KB", "<= 96 KB", "mpy-cross 1.29")]


def _mp_json(script, variant="mpy"):
    src = open(os.path.join(HERE, "bench", script)).read()
    proc = mpyrun.run(src, variant)
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit("bench %s failed on MicroPython:\n%s\n%s" % (script, proc.stdout, proc.stderr))


def fig_core_tick():
    r = _mp_json("core_tick.py")
    where = "real MicroPython 1.29 (WebAssembly, .mpy), %d zones" % r["zones"]
    return [
        ("core tick cost, steady state", "%.2f" % r["us_per_tick"], "us/tick", "(figure)", where),
        ("bytes allocated per steady-state tick", "%.2f" % r["bytes_per_tick"], "B/tick", "0 B",
         where),
    ]


FIGURES = [fig_mpy_size, fig_core_tick]


def main():
    print("mimamori bench  %s  %s, %d cores, Python %s, Node %s" % (
        time.strftime("%Y-%m-%d"), platform.machine(), os.cpu_count(), platform.python_version(),
        os.popen("node --version").read().strip()))
    rows = []
    for fig in FIGURES:
        rows.extend(fig())
    w = max(len(r[0]) for r in rows)
    print("%-*s  %12s  %-8s  %-12s  %s" % (w, "figure", "value", "unit", "target", "measured on"))
    for name, value, unit, target, where in rows:
        print("%-*s  %12s  %-8s  %-12s  %s" % (w, name, value, unit, target, where))


if __name__ == "__main__":
    main()
