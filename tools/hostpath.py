"""Make the firmware importable by host tools: firmware/ plus the host fakes (hostclock,
machine, network, micropython on CPython). Import this first: `import hostpath  # noqa`."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (os.path.join(ROOT, "host_tests", "fakes"), os.path.join(ROOT, "firmware")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
