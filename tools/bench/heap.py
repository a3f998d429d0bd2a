# Runs inside the real MicroPython interpreter, driven by tools/bench.py as a sequence of
# top-level calls (SCRIPT below): the live heap is sampled with gc.collect() at the start of a
# call, when nothing stale is left on the C stack. Heap in use by the controller with a
# 1000-event journal: the whole App on the fake ESP32 (network down: no socket in WebAssembly),
# counted from after its modules are imported, so the figure is the controller's data, not the
# bytecode (frozen into flash on a board, loaded into RAM here).
import gc
import json
import os

import hostclock
import machine
from offline_link import OfflineLink
from mimamori.app import App
from mimamori.core import events as ev
from mimamori.io.clock import WallClock
from mimamori.store.config import validate_config, validate_secrets
from mimamori.store.journal import Journal

BOARD = "boards/esp32-devkitc/"
DATA = "/tmp/mm_heap"


def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def step():
    hostclock.clock.advance(10)
    app.step(hostclock.ticks_ms())


peak = [0]


def sample():
    """Called at the start of its own top-level call (tools/bench.py): live heap now."""
    gc.collect()
    a = gc.mem_alloc() - base
    if a > peak[0]:
        peak[0] = a
    return a


config = validate_config(_json("config.sample.json"), _json("pins.json"))
secrets = validate_secrets(_json("secrets.sample.json"), config)
os.mkdir(DATA)
j = Journal(DATA + "/journal")
for i in range(1000):          # a year of openings and closings, all acknowledged
    e = ev.Event(i, ev.CLOSING, ev.CID_OPEN_CLOSE, ev.Q_RESTORE, 0, 1, "", "away")
    j.append(e, "2026-11-22T12:00:00+09:00", i)
    j.ack(e.seq)
j.close()
del j
machine.reset_all()
for z in config["zones"]:
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    machine.Pin(z["gpio"]).drive((1 - idle) if z.get("wiring", "NC") == "NC" else idle)
machine.Pin(35).drive(1)
wall = WallClock(machine.RTC(), 540)
wall.set_unix(1795316400)
hostclock.use_virtual(0)
app = None
base = 0     # set in the next call: interpreter + modules (bytecode) + config, collected


# The sequence tools/bench.py runs, one top-level call each: sample, then act.
STEPS = 100
SEQUENCE = (["gc.collect()\nbase = gc.mem_alloc()", "boot()"]
            + ["sample()\nstep()"] * STEPS + ["sample()\narm()"]
            + ["sample()\nstep()"] * STEPS + ["sample()\nintrude()"]
            + ["sample()\nstep()"] * STEPS + ["sample()\nreport()"])


def boot():
    global app
    app = App(config, secrets, DATA, hostclock.ticks_ms(), machine_module=machine,
              link=OfflineLink(config["site_id"]), wall=wall, log=lambda m: None)


def arm():
    app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")


def intrude():
    machine.Pin(23).drive(1)   # glass breaks (24-hour) while the network is down: reports wait


def report():
    gc.collect()
    print(json.dumps({"history": app.journal.history_count(),
                      "pending": app.journal.pending_count(), "peak": peak[0],
                      "steady": gc.mem_alloc() - base}))
