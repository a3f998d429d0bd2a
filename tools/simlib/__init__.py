"""make sim: the virtual house (firmware on the host), a broker and the monitoring centre.

    site.py       the house: board + centre + paths, one clock; inputs, operations, timeline
    centre.py     the monitoring centre (receiver.Store) and the MQTT path (broker + Receiver)
    devices.py    what each kind of sensor does when the panel or a scenario touches it
    scenarios.py  scripted runs (a registry of small functions) with their expectations
    panel.py      the interactive curses panel
    text.py       terminal width of Japanese text
"""
# The host fakes before anything imports the firmware: the firmware's compat seam binds its ticks
# at first import, and the simulation's clock (hostclock: fast-forward, virtual time) must be the
# one it binds, not the real clock the centre's tools fall back to (receiver.py, imported by
# centre.py, needs no fakes).
import hostpath  # noqa: E402,F401
