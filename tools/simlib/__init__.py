"""make sim: the virtual house (firmware on the host), a broker and the monitoring centre.

    site.py       the house: board + centre + paths, one clock; inputs, operations, timeline
    centre.py     the monitoring centre (receiver.Store) and the MQTT path (broker + Receiver)
    devices.py    what each kind of sensor does when the panel or a scenario touches it
    scenarios.py  scripted runs (a registry of small functions) with their expectations
    panel.py      the interactive curses panel
    text.py       terminal width of Japanese text
"""
