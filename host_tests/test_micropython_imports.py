# Collected by host_tests/mpy/plugin.py: one item per firmware module and variant (source, .mpy),
# each importing that module inside the real MicroPython interpreter.
