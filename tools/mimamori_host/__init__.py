"""The host side of mimamori, as an installable package (pyproject.toml): the monitoring
centre's command line and its history views. The tools themselves stay in tools/ (receiver.py,
sim.py, bench.py ...), importable as top-level modules; entry.py holds the console scripts.

    centre_cli.py  the receiver's command line (mimamori-centre / tools/receiver.py)
    history.py     the operator's views of the centre's database: sites, history
    entry.py       console-script entry points
"""
