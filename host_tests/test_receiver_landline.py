# The centre's landline intake (tools/receiver.py Receiver.line_report): Contact ID reports the
# line receiver decoded reach the site by its account number, are shown once marked with the
# path, and are paired with the same report arriving by MQTT (no seq on the line: site +
# qualifier + code + zone/user within LINE_MATCH_S), whichever path comes first.
import os
import subprocess
import sys

from mimamori.core import events as E
from mimamori.proto import contactid as C
from mimamori.proto import frame as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import receiver as R  # noqa: E402

SITE = "site-001"
KEY_HEX = "00112233445566778899aabbccddeeff" * 2
KEY = F.site_key(KEY_HEX)
ACCT = "1234"
T0 = 1_800_000_000.0


def _ev(seq, kind=E.ALARM, cid=E.CID_PANIC, zone=12, user=0, q=E.Q_NEW):
    ev = E.Event(0, kind, cid, q, zone=zone, user=user, zone_name="非常ボタン", mode="away")
    ev.seq = seq
    ev.wall = "2026-12-01T12:00:00+09:00"
    return ev


def _centre(tmp_path):
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(SITE, KEY_HEX, account=ACCT)
    lines = []
    return store, R.Receiver(store, out=lines.append), lines


def _mqtt(rx, ev, now):
    rx.handle("mimamori/v1/%s/event" % SITE, F.event_frame(KEY, SITE, ev, 10), now=now)


def _alarm_lines(lines):
    return [x for x in lines if x.startswith("!!")]


def test_line_first_then_mqtt_is_shown_once_marked_with_both_paths(tmp_path):
    store, rx, lines = _centre(tmp_path)
    ev = _ev(7)
    assert rx.line_report(C.from_event(ev, ACCT), now=T0) == "shown"     # 16 digits, checked
    assert len(_alarm_lines(lines)) == 1
    assert "経路 電話回線" in lines[0] and "非常" in lines[0] and "ゾーン12" in lines[0]
    _mqtt(rx, ev, T0 + 40)
    assert len(_alarm_lines(lines)) == 1                  # the operator sees it once
    assert "電話回線+MQTT" in lines[-1] and "seq 7" in lines[-1]
    assert store.seen(SITE) == [("1120", 12, 7, ("mqtt", "landline"))]


def test_mqtt_first_then_line_is_not_shown_again(tmp_path):
    store, rx, lines = _centre(tmp_path)
    ev = _ev(3, kind=E.OPENING, cid=E.CID_OPEN_CLOSE, zone=0, user=2)
    _mqtt(rx, ev, T0)
    rx.tick(T0 + R.HOLD_S + 1)
    assert len([x for x in lines if "seq=3 " in x]) == 1
    # spandsp's receiver hands over 15 digits (it checked the checksum itself)
    assert rx.line_report(C.from_event(ev, ACCT)[:15], now=T0 + 30) == "both"
    assert len([x for x in lines if "seq=3 " in x or "経路 電話回線)" in x]) == 1
    assert store.seen(SITE) == [("1401", 2, 3, ("mqtt", "landline"))]


def test_a_different_zone_or_a_report_out_of_the_window_is_a_new_report(tmp_path):
    store, rx, lines = _centre(tmp_path)
    _mqtt(rx, _ev(1, zone=12), T0)
    assert rx.line_report(C.from_event(_ev(0, zone=13), ACCT), now=T0 + 5) == "shown"
    assert rx.line_report(C.from_event(_ev(0, zone=12), ACCT),
                          now=T0 + R.LINE_MATCH_S + 5) == "shown"
    assert len(_alarm_lines(lines)) == 3
    assert [r[3] for r in store.seen(SITE)] == [("mqtt",), ("landline",), ("landline",)]


def test_each_paths_own_602_is_its_own_report(tmp_path):
    store, rx, lines = _centre(tmp_path)
    mqtt_test = _ev(9, kind=E.TEST, cid=E.CID_PERIODIC_TEST, zone=0)
    mqtt_test.zone_name = "mqtt"                       # the MQTT path's 36-hour test
    _mqtt(rx, mqtt_test, T0)
    line_test = _ev(10, kind=E.TEST, cid=E.CID_PERIODIC_TEST, zone=0)
    assert rx.line_report(C.from_event(line_test, ACCT), now=T0 + 10) == "shown"
    assert [r[3] for r in store.seen(SITE)] == [("mqtt",), ("landline",)]
    assert "試験" in lines[-1] and "定期通信試験" in lines[-1]


def test_a_message_repeated_on_the_line_is_shown_once(tmp_path):
    # the controller repeats a message whose kissoff it did not hear (4 attempts, next call)
    store, rx, lines = _centre(tmp_path)
    msg = C.from_event(_ev(1), ACCT)
    assert [rx.line_report(msg, now=T0 + i * 5) for i in range(5)] == ["shown"] + ["repeat"] * 4
    _mqtt(rx, _ev(1), T0 + 60)
    assert len(_alarm_lines(lines)) == 1
    assert store.seen(SITE) == [("1120", 12, 1, ("mqtt", "landline"))]
    # a new press long after is a new report
    assert rx.line_report(msg, now=T0 + R.LINE_REPEAT_S + 100) == "shown"


def test_two_alarms_on_each_path_pair_one_to_one(tmp_path):
    # the same zone's 非常 twice, further apart than a repeat, both within the pairing window
    store, rx, lines = _centre(tmp_path)
    gap = R.LINE_REPEAT_S + 60
    for i, seq in enumerate((4, 5)):
        assert rx.line_report(C.from_event(_ev(seq), ACCT), now=T0 + i * gap) == "shown"
    for i, seq in enumerate((4, 5)):
        _mqtt(rx, _ev(seq), T0 + gap + 60 + i)
    assert len(_alarm_lines(lines)) == 2
    assert [(r[2], r[3]) for r in store.seen(SITE)] == [(4, ("mqtt", "landline")),
                                                        (5, ("mqtt", "landline"))]


def test_unknown_account_and_bad_digits_are_refused_with_a_reason(tmp_path):
    store, rx, lines = _centre(tmp_path)
    good = C.from_event(_ev(1), ACCT)
    assert rx.line_report(C.from_event(_ev(1), "9999"), now=T0) == "unknown_account"
    assert rx.line_report(good[:15] + ("1" if good[15] != "1" else "2"), now=T0) == \
        "bad_checksum"
    assert rx.line_report("12A4181120000123", now=T0) == "bad_message"
    assert _alarm_lines(lines) == [] and store.seen(SITE) == []
    with store.lock:
        reasons = [r[0] for r in store.db.execute("SELECT reason FROM rejects ORDER BY id")]
    assert reasons == ["unknown_account", "bad_checksum", "bad_message"]


def test_an_account_names_one_site_only_and_the_cli_takes_it(tmp_path):
    db = str(tmp_path / "centre.db")
    run = [sys.executable, os.path.join(ROOT, "tools", "receiver.py"), "--db", db]
    subprocess.run(run + ["add-site", SITE, "--account", ACCT], check=True,
                   capture_output=True, input=KEY_HEX + "\n", text=True)   # the key on stdin
    p = subprocess.run(run + ["add-site", "site-002", "--account", ACCT],
                       capture_output=True, text=True, input="ab" * 32 + "\n")
    assert p.returncode != 0 and "already another site's" in p.stderr
    p = subprocess.run(run + ["line-in"], input=C.from_event(_ev(1), ACCT) + "\n",
                       capture_output=True, text=True)
    assert "site=%s" % SITE in p.stdout and "経路 電話回線" in p.stdout
