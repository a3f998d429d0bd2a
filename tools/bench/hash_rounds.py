# Runs inside the real MicroPython interpreter (tools/bench.py sends it there), or on a board:
# `mpremote run tools/bench/hash_rounds.py` with the firmware installed. The cost of one round
# of the code hash (core/auth.py: sha256 of the previous digest), and of one stored entry at the
# validator's floor. Prints one JSON line.
import json
import time

from mimamori.core import auth

N = 50000      # rounds per measurement: tens of ms, well above the ms tick of WebAssembly


def once(n):
    t0 = time.ticks_us()
    auth.hash_code("1234", b"0123456789abcdef", n)
    return time.ticks_diff(time.ticks_us(), t0)


best = None
for _ in range(5):     # best of 5: the WebAssembly engine warms up (JIT tiers) at first
    dt = once(N)
    best = dt if best is None or dt < best else best
# One entry at the floor is MIN_ITERATIONS rounds: derived from the long measurement, since the
# WebAssembly port's microsecond ticks move in whole milliseconds (an entry takes about one).
print(json.dumps({"us_per_round": best / N, "rounds": N, "floor": auth.MIN_ITERATIONS,
                  "us_per_entry_at_floor": best / N * auth.MIN_ITERATIONS}))
