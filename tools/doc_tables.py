"""Print the README's generated tables from the firmware's own definitions, so the README cannot
drift from the code (host_tests/test_readme.py checks that it did not).

    python tools/doc_tables.py events                  # the event table (Contact ID, label, ...)
    python tools/doc_tables.py wiring:esp32-devkitc    # the sample house's wiring on a board
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostpath  # noqa: E402,F401
from mimamori.core import events as ev  # noqa: E402

# What raises each code, for the reader (the firmware's own comments say the same).
WHEN = {
    ev.CID_MEDICAL: ("alarm", "救急ボタン (medical) pressed"),
    ev.CID_FIRE: ("alarm", "fire zone, detector generic"),
    ev.CID_SMOKE: ("alarm", "fire zone, detector smoke"),
    ev.CID_HEAT: ("alarm", "fire zone, detector heat"),
    ev.CID_PANIC: ("alarm", "非常ボタン (panic) pressed"),
    ev.CID_BURGLARY: ("alarm", "burglary, general"),
    ev.CID_PERIMETER: ("alarm", "magnet zone opened while armed"),
    ev.CID_INTERIOR: ("alarm", "space (PIR) zone while armed"),
    ev.CID_24H_SAFE: ("alarm", "vibration zone (chosen: 24 Hour Safe)"),
    ev.CID_ENTRY_EXIT: ("alarm", "entry delay expired on an entry-route zone"),
    ev.CID_TAMPER: ("alarm", "case_tamper zone: the panel's own case opened"),
    ev.CID_EXPANSION_TAMPER: ("alarm", "tamper zone (sensor tamper)"),
    ev.CID_GAS: ("alarm", "gas zone"),
    ev.CID_GLASS: ("alarm", "glass zone (chosen: 155 Foil break)"),
    ev.CID_SYSTEM_TROUBLE: ("trouble", "booted with the sample site key, code or card (secrets.sample.json)"),
    ev.CID_AC_LOSS: ("trouble", "mains power lost"),
    ev.CID_SYSTEM_RESET: ("status", "every boot; its ack sets the RTC from the centre's clock"),
    ev.CID_SELF_TEST: ("trouble", "a saved file failed its check at boot (booted anyway; restore "
                                  "at the next authorised operation)"),
    ev.CID_LOG_OVERFLOW: ("trouble", "the flash refuses writes (full): reports held in RAM; "
                                     "restore when writes work again"),
    ev.CID_LOW_BATTERY: ("trouble", "backup battery low"),
    ev.CID_COMM_TROUBLE: ("trouble", "an MQTT test or report could not be delivered"),
    ev.CID_TELCO_FAULT: ("trouble", "telephone line cut / landline path failed"),
    ev.CID_FAIL_TO_COMM: ("trouble", "nothing delivered on MQTT for a whole comm_check_h"),
    ev.CID_SENSOR_TROUBLE: ("trouble", "zone left open too long while disarmed"),
    ev.CID_OPEN_CLOSE: ("closing / opening", "外出 armed (q3) / disarmed (q1)"),
    ev.CID_CANCEL: ("cancel", "an authorised user cancelled, reset or disarmed after a reported alarm"),
    ev.CID_WRONG_CODE: ("alarm", "5 wrong codes or cards: the panel locks out"),
    ev.CID_STAY_ARM: ("closing", "在宅セット armed"),
    ev.CID_FAIL_TO_CLOSE: ("trouble", "セット忘れ: not armed 外出 by the departure time"),
    ev.CID_PARTIAL_ARM: ("closing", "部分セット armed"),
    ev.CID_BYPASS: ("bypass", "zone bypassed by a force-arm"),
    ev.CID_MANUAL_TEST: ("test", "monthly self-check"),
    ev.CID_PERIODIC_TEST: ("test", "36-hour communication check"),
    ev.CID_PROGRAM_MODE: ("status", "the installer's USB session stopped the loop (installer mode, "
                                    "Ctrl-C); the next boot reports 305"),
    ev.CID_WALK_TEST: ("test", "walk test started (q1) / ended (q3) with the installer's code "
                               "(zones tripped meanwhile are not alarms)"),
    ev.CID_LIFE: ("alarm", "ライフ監視: no activity for the set time (chosen: 641 Senior watch)"),
}


def events_table():
    lines = ["| Contact ID | kind | service | label (panel, centre) | urgent | raised when |",
             "| --- | --- | --- | --- | --- | --- |"]
    for cid in sorted(ev.CATALOGUE):
        service, label, urgent = ev.CATALOGUE[cid]
        kind, when = WHEN.get(cid, ("", ""))
        lines.append("| %03d | %s | %s %s | %s | %s | %s |" % (
            cid, kind, service, ev.SERVICES[service], label, "yes" if urgent else "no (deferrable)",
            when))
    return "\n".join(lines)


def _contact(z):
    pull = z.get("pull", "up")
    wiring = z.get("wiring", "NC")
    if pull == "up":
        how = "contact to GND (internal pull-up)"
    elif pull == "down":
        how = "contact to 3V3 (internal pull-down)"
    else:
        how = "contact to GND, external 10 kΩ pull-up to 3V3"
    return "%s, %s" % (wiring, how)


def wiring_table(board):
    """The sample house (boards/<board>/config.sample.json) as the installer wires it: every
    zone, output, the landline UART and the supervision inputs with its GPIO."""
    import json
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "boards",
                          board)
    with open(os.path.join(folder, "config.sample.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "pins.json"), encoding="utf-8") as f:
        module = json.load(f)["module"]
    lines = ["| %s: %s | GPIO | wiring |" % (board, module), "| --- | --- | --- |"]
    for z in cfg["zones"]:
        lines.append("| zone %d %s (%s) | %d | %s |" % (z["id"], z["name"], z["type"], z["gpio"],
                                                       _contact(z)))
    for name, v in sorted(cfg["outputs"].items()):
        if v is not None:
            lines.append("| output %s | %d | active high, through a transistor / relay driver |"
                         % (name, v))
    line = cfg["comms"].get("landline") or {}
    if line.get("enabled"):
        u = line["uart"]
        lines.append("| landline UART%d TX → ISOmodem RXD | %d | %d baud |" % (u["id"], u["tx"],
                                                                            u["baud"]))
        lines.append("| landline UART%d RX ← ISOmodem TXD | %d | |" % (u["id"], u["rx"]))
    sup = cfg.get("supervision") or {}
    if sup.get("line_voltage"):
        lines.append("| telephone line voltage (ADC) | %d | 1 MΩ / 39 kΩ divider |"
                     % sup["line_voltage"]["gpio"])
    if sup.get("battery"):
        lines.append("| standby battery voltage (ADC) | %d | 100 kΩ / 18 kΩ divider |"
                     % sup["battery"]["gpio"])
    if sup.get("ac_sense_gpio") is not None:
        lines.append("| mains sense | %d | high while mains is present |" % sup["ac_sense_gpio"])
    return "\n".join(lines)


TABLES = {"events": events_table}


def table(name):
    if name.startswith("wiring:"):
        return wiring_table(name[len("wiring:"):])
    return TABLES[name]()


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "events"))
