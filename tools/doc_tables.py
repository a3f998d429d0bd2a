"""Print the README's generated tables from the firmware's own definitions, so the README cannot
drift from the code (host_tests/test_readme.py checks that it did not).

    python tools/doc_tables.py events     # the event table (kind, service, Contact ID, label)
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


TABLES = {"events": events_table}

if __name__ == "__main__":
    print(TABLES[sys.argv[1] if len(sys.argv) > 1 else "events"]())
