# Runs inside the real MicroPython interpreter (tools/bench.py sends it there): the alarm core with
# 32 zones, armed away, ticked in steady state. Prints one JSON line with the figures.
import gc
import json
import time

from mimamori.core.arming import AlarmCore
from mimamori.store.config_check import Check
from mimamori.store.config_pins import PinUse
from mimamori.store.config_zones import zones as check_zones

TYPES = ("magnet", "magnet", "magnet", "space", "glass", "fire", "gas", "vibration")
zones = []
for i in range(32):
    t = TYPES[i % len(TYPES)]
    z = {"id": i + 1, "name": "ゾーン%d" % (i + 1), "type": t, "gpio": i}
    if t in ("magnet", "space", "glass", "vibration"):
        z["modes"] = ["away", "stay", "partial"]
    zones.append(z)
errors = []
zones = check_zones(PinUse(Check(errors), None), zones)   # as validated: every default filled in
assert not errors, errors

events = []
core = AlarmCore(zones, {"entry_delay_s": 30, "exit_delay_s": 0, "cancel_window_s": 30,
                        "siren_cutoff_min": 5}, events.append, 0)
core.arm("away", 1, 0)
N = 5000
now = 1000


def measure(fn):
    gc.collect()
    a0 = gc.mem_alloc()
    t0 = time.ticks_us()
    for i in range(N):
        fn(now + i)
    t1 = time.ticks_us()
    a1 = gc.mem_alloc()
    return time.ticks_diff(t1, t0), a1 - a0


def nothing(t):
    pass


# Best of 7 rounds: the WebAssembly engine warms up (JIT tiers) during the first ones.
best = None
for _ in range(7):
    base_us, base_bytes = measure(nothing)  # the loop's own cost (range object, call overhead)
    us, nbytes = measure(core.tick)
    if best is None or us - base_us < best[0] - best[1]:
        best = (us, base_us, nbytes, base_bytes)
us, base_us, nbytes, base_bytes = best
print(json.dumps({"zones": len(zones), "ticks": N, "us_per_tick": (us - base_us) / N,
                  "bytes_per_tick": (nbytes - base_bytes) / N}))
