"""The host side of mimamori, as an installable package (pyproject.toml): the monitoring
centre's command line and its history views. The tools themselves stay in tools/ (receiver.py,
sim.py, bench.py ...), importable as top-level modules; entry.py holds the console scripts.

    store.py       the centre's database: schema (versioned), sites, reports, pairing paths
    checks.py      what a verified event frame must look like before it is stored
    centre_cli.py  the receiver's command line (mimamori-centre / tools/receiver.py)
    history.py     the operator's views of the centre's database: sites, history
    entry.py       console-script entry points
    ticks.py       real-clock ticks for the firmware's compat seam without the host fakes
"""
