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


def fig_latency():
    sys.path.insert(0, os.path.join(HERE, "bench"))
    import latency
    r = latency.measure(200)
    where = "loopback, %s, receiver in its own process, n=%d" % (r["broker"], r["n"])
    return [
        ("alarm decision -> centre ack, p50", "%.2f" % r["decision"][0], "ms", "", where),
        ("alarm decision -> centre ack, p99", "%.2f" % r["decision"][1], "ms", "<= 10 ms", where),
        ("sensor edge -> centre ack, p50 (incl. 50 ms debounce)", "%.2f" % r["edge"][0], "ms",
         "", where),
        ("sensor edge -> centre ack, p99 (incl. 50 ms debounce)", "%.2f" % r["edge"][1], "ms",
         "", where),
        ("plain umqtt.simple QoS 1 publish, p50", "%.2f" % r["plain"][0], "ms", "(reference)",
         where),
        ("plain umqtt.simple QoS 1 publish, p99", "%.2f" % r["plain"][1], "ms", "(reference)",
         where),
    ]


def fig_heap():
    src = open(os.path.join(HERE, "bench", "heap.py")).read()
    ns = {}
    exec(src[src.index("STEPS = "):], ns)   # the call sequence, defined next to the script
    proc = mpyrun.run([src] + ns["SEQUENCE"], "mpy")
    r = None
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
    if r is None:
        raise SystemExit("bench heap.py failed on MicroPython:\n%s\n%s" % (proc.stdout,
                                                                           proc.stderr))
    where = ("real MicroPython 1.29 (WebAssembly), live heap after gc at every loop step, "
             "%d-event journal, modules' bytecode excluded" % r["history"])
    return [("peak heap in use by the controller", "%.1f" % (r["peak"] / 1024), "KB", "<= 48 KB",
             where)]


def fig_heap_code():
    """The controller's heap with its loaded code: firmware from a ROMFS image (run in place, as
    the image mounts it) vs .mpy files on the filesystem (issue 13; tools/bench/heap_code.py)."""
    ns = {}
    exec(open(os.path.join(HERE, "bench", "heap_code.py")).read(), ns)
    body = open(os.path.join(HERE, "bench", "heap.py")).read()    # the same App and set-up
    with tempfile.TemporaryDirectory() as d:
        image = build.build_romfs(d, "xtensawin")
        got = {}
        for mode in ("romfs", "mpy"):
            chunks = (['MODE = "%s"\n' % mode + ns["PRE"], body, "boot()"]
                      + ["sample_code()\nstep()"] * 100 + ["report_code()"])
            proc = mpyrun.run(chunks, "mpy", [(image, "/romfs.img")])
            r = None
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
            if r is None:
                raise SystemExit("bench heap_code.py (%s) failed on MicroPython:\n%s\n%s" % (
                    mode, proc.stdout, proc.stderr))
            got[mode] = r
        size = os.path.getsize(image)
    where = ("real MicroPython 1.29 (WebAssembly), peak live heap over 100 loop steps, "
             "1000-event journal, the firmware's import included; ROMFS image %.0f KB" % (
                 size / 1024.0))
    return [("controller heap incl. its code, firmware from ROMFS (%s)" % got["romfs"]["from"],
             "%.1f" % (got["romfs"]["peak"] / 1024), "KB", "<= 110 KB heap", where),
            ("controller heap incl. its code, firmware as .mpy files (%s)" % got["mpy"]["from"],
             "%.1f" % (got["mpy"]["peak"] / 1024), "KB", "<= 110 KB heap", where)]


def fig_log_ring():
    """RAM of the controller's log ring when full (mimamori/log.py, issue 13)."""
    # three top-level calls: gc.collect() at the start of a call sees no stale stack words
    chunks = ["import gc, json\nfrom mimamori import log as L\ngc.collect()\nb = gc.mem_alloc()",
              "r = L.Ring(None)\nlg = L.Logger(lambda line: None, L.INFO, r)\n"
              "for i in range(L.RING_LINES * 2):\n"
              "    lg.warn('storage: state.json.%d: one copy damaged, the other used (checksum) %d',"
              " i, i)\n",
              "gc.collect()\nprint(json.dumps({'bytes': gc.mem_alloc() - b, 'lines': L.RING_LINES}))"]
    proc = mpyrun.run(chunks, "mpy")
    r = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][0])
    return [("log ring in RAM, full (%d lines of about 70 characters)" % r["lines"],
             "%.1f" % (r["bytes"] / 1024), "KB", "(figure)",
             "real MicroPython 1.29 (WebAssembly), gc.mem_alloc before/after")]


def fig_idle_day():
    sys.path.insert(0, os.path.join(HERE, "bench"))
    import idle_day
    r = idle_day.measure(24)
    where = "simulated 24 h idle (%d reports acked, %d state + %d journal), real broker" % (
        r["events"], r["state_writes"], r["journal_writes"])
    return [("flash writes per idle day", "%d" % r["writes"], "writes", "<= 50", where)]


def fig_delay_writes():
    sys.path.insert(0, os.path.join(HERE, "bench"))
    import delay_writes
    r = delay_writes.measure()
    where = "sample house, power-cut checkpoints included (state file only)"
    return [
        ("flash writes per exit delay (%d s)" % r["exit_s"], "%d" % r["exit_delay"], "writes",
         "(figure)", where),
        ("flash writes per entry delay (%d s, disarmed)" % r["entry_s"], "%d" % r["entry_delay"],
         "writes", "(figure)", where),
        ("flash writes per alarm (entry delay + %d min siren)" % r["siren_min"],
         "%d" % r["entry_then_alarm"], "writes", "(figure)", where),
    ]


# The ESP32 figure is an assumption, not a measurement (no board in the loop): one round is a
# hashlib.sha256 object, one 64-byte block through mbedTLS with the ESP32's SHA accelerator (its
# lock and register copies: 15-45 us per short hash reported for ESP-IDF's mbedTLS, e.g.
# espressif/arduino-esp32#6819), plus MicroPython's call and two allocations (~5-10 us at
# 240 MHz). We take 40 us, the slow end, to size the floor. Measure a board with
# `mpremote run tools/bench/hash_rounds.py` and replace it.
ESP32_US_PER_ROUND = 40.0


def fig_hash_rounds():
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "firmware"))
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "host_tests", "fakes"))
    from mimamori.core import auth
    r = _mp_json("hash_rounds.py")
    floor = auth.MIN_ITERATIONS
    n = 200000
    t0 = time.perf_counter()
    auth.hash_code("1234", b"0123456789abcdef", n)
    cpy_us = (time.perf_counter() - t0) / n * 1e6
    mp = "real MicroPython 1.29 (WebAssembly, .mpy), best of 5 x %d rounds" % r["rounds"]
    esp = "ESP32 240 MHz: assumed %.0f us/round (tools/bench.py says why)" % ESP32_US_PER_ROUND
    guess_s = floor * cpy_us / 1e6     # one code tried against one entry, one CPU core
    return [
        ("code hash, one round", "%.2f" % r["us_per_round"], "us", "(figure)", mp),
        ("code hash, one entry at the floor (%d rounds)" % floor,
         "%.1f" % (r["us_per_entry_at_floor"] / 1000.0), "ms", "(figure)", mp),
        ("code hash, one entry at the floor, ESP32 (estimate)",
         "%.0f" % (floor * ESP32_US_PER_ROUND / 1000.0), "ms", "<= 100 ms", esp),
        ("attacker: one round, CPython hashlib, one core", "%.2f" % cpy_us, "us", "(figure)",
         "this machine"),
        ("attacker: every 4-digit code at the floor, one core", "%.1f" % (1e4 * guess_s), "s",
         "(figure)", "this machine, CPython hashlib"),
        ("attacker: every 6-digit code at the floor, one core", "%.0f" % (1e6 * guess_s), "s",
         "(figure)", "this machine, CPython hashlib"),
    ]


def fig_landline():
    """Line time of Contact ID reports (issue 12): the firmware's dialer and ISOmodem driver on
    the emulated modem and line, to spandsp's receiver; spandsp's own sender on the same line as
    the reference (tools/bench/landline.py)."""
    sys.path.insert(0, os.path.join(HERE, "bench"))
    import landline
    return landline.rows(landline.measure(5))


FIGURES = [fig_mpy_size, fig_core_tick, fig_heap, fig_heap_code, fig_log_ring, fig_latency,
           fig_idle_day, fig_delay_writes, fig_hash_rounds, fig_landline]


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
