# Runs inside the real MicroPython interpreter (tools/bench.py sends it there): the ライフカード
# reader (io/cardreader.py on io/pn532.py) polled once per 10 ms loop step with no card present,
# against the fake PN532 (host_tests/fakes/pn532_chip.py) on the fake machine's I2C. Prints one
# JSON line: time and bytes per loop step, and the I2C transfers per poll round. The fake chip's
# own Python is inside the time (an upper bound for the driver: on a board the bus transfers cost
# instead, see tools/bench.py).
import gc
import json
import time

import hostclock
import machine
from pn532_chip import PN532Chip
from mimamori.io import pn532
from mimamori.io.cardreader import CardReader

hostclock.use_virtual(0)
machine.reset_all()
chip = PN532Chip().attach(0)
reader = CardReader(pn532.PN532(machine.I2C(0, freq=400000)))
N = 3000


def steps(n):
    for _ in range(n):
        hostclock.clock.advance(10)
        reader.poll(hostclock.ticks_ms())


def nothing(n):
    for _ in range(n):
        hostclock.clock.advance(10)
        hostclock.ticks_ms()


steps(200)                      # initialised, polling
assert reader.ok
best = None
for _ in range(5):              # best of 5: the WebAssembly engine warms up
    gc.collect()
    t0 = time.ticks_us()
    nothing(N)
    base = time.ticks_diff(time.ticks_us(), t0)
    r0, p0 = chip.reads, chip.count[0x4A]
    gc.collect()
    a0 = gc.mem_alloc()
    t0 = time.ticks_us()
    steps(N)
    us = time.ticks_diff(time.ticks_us(), t0)
    nbytes = gc.mem_alloc() - a0
    if best is None or us - base < best[0]:
        best = (us - base, nbytes, chip.reads - r0, chip.count[0x4A] - p0)
us, nbytes, reads, polls = best
print(json.dumps({"steps": N, "us_per_step": us / N, "bytes_per_step": nbytes / N,
                  "polls": polls, "reads_per_poll": reads / polls if polls else 0}))
