# Host test set-up: the firmware package, the hardware fakes and shared helpers are importable,
# and the MicroPython plugin collects the dual-runtime tests a second and third time.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), os.path.join(HERE, "fakes"), os.path.join(HERE, "support")):
    if p not in sys.path:
        sys.path.insert(0, p)

pytest_plugins = ["mpy.plugin"]
