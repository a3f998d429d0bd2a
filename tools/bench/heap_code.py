# Runs inside the real MicroPython interpreter, driven by tools/bench.py (fig_heap_code): the heap
# the controller needs INCLUDING its loaded code, with the firmware imported from a ROMFS image
# (vfs.VfsRom, as the image mounts it at /rom: bytecode runs in place) or from .mpy files on the
# filesystem (bytecode loaded into RAM). The same App as tools/bench/heap.py (1000-event journal,
# fake ESP32, network down); the base is taken before any firmware module is imported, after the
# fakes, the interpreter's own modules and (ROMFS) the image's bytes are in memory: on a board
# the image is flash, not heap.
#
# PRE below is the first top-level call; tools/bench.py then runs heap.py's body, boot() and
# the sampled steps, and report_code().
PRE = """
import gc, sys, json, os
import hostclock, machine
from offline_link import OfflineLink
if MODE == "romfs":
    import vfs
    with open("/romfs.img", "rb") as f:
        _img = f.read()
    vfs.mount(vfs.VfsRom(_img), "/rom")
    sys.path.insert(0, "/rom/lib")
gc.collect()
base_code = gc.mem_alloc()
peak_code = [0]

def sample_code():
    gc.collect()
    a = gc.mem_alloc() - base_code
    if a > peak_code[0]:
        peak_code[0] = a

def report_code():
    import mimamori
    gc.collect()
    print(json.dumps({"mode": MODE, "from": mimamori.__file__, "peak": peak_code[0],
                      "steady": gc.mem_alloc() - base_code}))
"""
