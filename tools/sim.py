#!/usr/bin/env python3
"""make sim: the virtual house — the real firmware on the host with the sample house, an MQTT
broker and the monitoring-centre receiver, all on this machine.

    python tools/sim.py                        # the interactive panel (curses)
    python tools/sim.py --scenario intrusion   # a scripted run, headless; exit 0 = as expected
    python tools/sim.py --scenario list        # the scenarios
    python tools/sim.py --panel                # the house with the keypad and the OLED
    python tools/sim.py --broker amqtt         # the pure-Python broker even when mosquitto exists

The broker is mosquitto when installed, else amqtt in-process ($MIMAMORI_BROKER also chooses).
"""
import argparse
import signal
import sys

from simlib import scenarios    # tools/ is on the path: the script's own dir, or the package


def _stop_on_signal(signum, frame):
    # A closed terminal (SIGHUP) or a kill (SIGTERM) must still stop the broker child and
    # remove the temp dirs: turn them into the Ctrl-C path, which unwinds through every finally.
    raise KeyboardInterrupt


def main(argv=None):
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", help="run one scenario headless ('list' lists them)")
    p.add_argument("--panel", action="store_true",
                   help="the house with the resident's panel: keypad and OLED (ESP32-S3)")
    p.add_argument("--broker", choices=("mosquitto", "amqtt"),
                   help="which broker (default: mosquitto if installed, else amqtt)")
    o = p.parse_args(argv)
    if o.scenario == "list":
        print(scenarios.listing())
        return 0
    if o.scenario:
        if o.scenario not in scenarios.SCENARIOS:
            print("unknown scenario %r; these exist:\n%s" % (o.scenario, scenarios.listing()),
                  file=sys.stderr)
            return 2
        try:
            return scenarios.run(o.scenario, broker=o.broker, out=lambda s: print(s, flush=True))
        except KeyboardInterrupt:
            return 130
    from simlib import panel     # curses only for the interactive panel
    return panel.main(broker=o.broker, panel=o.panel)


if __name__ == "__main__":
    sys.exit(main())
