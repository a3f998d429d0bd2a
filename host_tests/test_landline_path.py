# The landline as a report path of the running controller (issue 12 wiring on issue 11.1): the
# ESP32-DevKitC sample house wired for the landline as README "Landline (Contact ID)" says (zones
# 4 and 5 give their pins to UART2; comms.paths by default: mqtt, then landline), its UART built
# from comms.landline, the ISOmodem emulator on that UART and a line to spandsp's Contact ID receiver
# (the judge: it checks the digits and sends the kissoff itself), MQTT to the real centre.
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import pytest  # noqa: E402

import hostclock  # noqa: E402
import machine  # noqa: E402
import receiver as R  # noqa: E402
import vboard  # noqa: E402
from isomodem import IsoModemEmulator, Line  # noqa: E402
from mqtt_broker import broker  # noqa: E402,F401 (fixture)
from spandsp import Receiver  # noqa: E402
from test_app import in_service  # noqa: E402

from mimamori.proto import contactid as C  # noqa: E402
from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

BOARD = os.path.join(ROOT, "boards", "esp32-devkitc")
PANIC = 12
CENTRE = "0312345678"       # comms.landline.centre_number of the sample


def load_landline_house(port):
    cfg = json.load(open(os.path.join(BOARD, "config.sample.json"), encoding="utf-8"))
    cfg["zones"] = [z for z in cfg["zones"] if z["id"] not in (4, 5)]
    cfg["comms"]["landline"] = {"enabled": True, "account": "1234", "centre_number": CENTRE,
                                "uart": {"id": 2, "tx": 17, "rx": 34, "baud": 115200}}
    pins = json.load(open(os.path.join(BOARD, "pins.json"), encoding="utf-8"))
    sec = vboard.own_secrets(json.load(open(os.path.join(BOARD, "secrets.sample.json"),
                                            encoding="utf-8")))
    cfg["comms"]["mqtt"]["port"] = port
    config = validate_config(cfg, pins)
    return config, validate_secrets(sec, config)


class House:
    """The board plus the emulated modem on its landline UART, moved together."""

    def __init__(self, b, line):
        self.b = b
        self.line = line
        self.attach()

    def attach(self):
        uart = machine.uarts[self.b.config["comms"]["landline"]["uart"]["id"]]
        self.emu = IsoModemEmulator(uart, self.line)

    def run(self, ms, until=None, real_timeout=None):
        end = time.monotonic() + real_timeout if real_timeout else None
        t = 0
        while t < ms or end is not None:
            self.b.step(10)
            self.emu.tick(10)
            t += 10
            if end is not None:
                time.sleep(0.0005)
            if until is not None and until():
                return True
            if end is not None and time.monotonic() > end:
                return False
        return until is None


@pytest.fixture
def house(broker, tmp_path):
    hostclock.use_virtual(0)
    config, secrets = load_landline_house(broker.port)
    assert [p["name"] for p in config["comms"]["paths"]] == ["mqtt", "landline"]
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"], account="1234")
    lines = []
    rx = R.Receiver(store, broker.host, broker.port, out=lines.append).start()
    assert rx.wait_connected()
    judge = Receiver(on_report=rx.line_report)      # the centre's line receiver feeds it
    b = vboard.VirtualBoard(config, secrets, in_service(str(tmp_path / "flash")),
                            log=lambda m: None)
    yield House(b, Line({CENTRE: judge})), judge, store, lines, broker
    rx.stop()


def test_mqtt_down_the_alarm_goes_by_landline_then_by_mqtt_shown_once(house):
    h, judge, store, lines, broker = house
    b = h.b
    sid = b.config["site_id"]
    assert h.run(0, lambda: b.app.link.connected and b.app.journal.pending_count() == 0,
                 real_timeout=15)
    assert judge.reports == []           # MQTT delivered everything: no call
    broker.stop()
    b.set_zone(PANIC, True)
    h.run(300)
    b.set_zone(PANIC, False)
    panic = [e for e, _u, _a in b.app.journal.history() if e.kind == "alarm"][-1]
    h.run(19000)
    assert judge.reports == []           # within MQTT's deadline: not on the line yet
    assert h.run(30000, lambda: b.app.router.acked_by(panic.seq) == ["landline"])
    assert judge.reports == [C.from_event(panic, "1234")[:15]]     # kissed off once
    assert panic.seq in b.app.journal.outbox()      # MQTT still owes it
    broker.start()
    assert h.run(0, lambda: b.app.journal.pending_count() == 0, real_timeout=30)
    h.run(1000)
    assert len(judge.reports) == 1                  # not called again
    # The operator saw the 異常 once, when the line brought it, marked with its path; MQTT's
    # copy only adds its path to it.
    alarms = [x for x in lines if x.startswith("!!")]
    assert len(alarms) == 1 and "非常" in alarms[0] and "経路 電話回線" in alarms[0]
    assert [x for x in lines if "site=%s seq=%d " % (sid, panic.seq) in x] == []
    assert any("電話回線+MQTT" in x and "seq %d" % panic.seq in x for x in lines)
    assert [r[1] for r in store.reports(sid)].count(panic.seq) == 1
    assert [r for r in store.seen(sid) if r[2] == panic.seq] == [
        ("1120", PANIC, panic.seq, ("mqtt", "landline"))]


def answering_receivers(judge):
    """The centre's line as a new call sees it: each call answered by a fresh spandsp receiver
    (one per call, as a receiver line card), all feeding the same centre intake."""
    heard = []

    def answer():
        r = Receiver(on_report=judge.on_report)
        heard.append(r)
        return r
    return answer, heard


@pytest.mark.parametrize("cut_at", ["mid_message", "after_kissoff"])
def test_power_cut_mid_call_the_report_goes_again_by_line_shown_once(house, cut_at):
    """A power cut during the landline call (MQTT down): the modem loses power with the board and
    the line drops; after the reboot the hand-off to the line is restored from flash and the report
    is called in again. Cut mid-message (before the kissoff): the centre heard nothing whole, the
    new call brings it. Cut right after spandsp kissed it off, before the controller saw the
    kissoff: it goes again, and the centre takes the repeat as a repeat. Either way the operator
    sees the 異常 exactly once, and MQTT later adds its path to it."""
    h, judge, store, lines, broker = house
    b = h.b
    sid = b.config["site_id"]
    answer, calls = answering_receivers(judge)
    h.line.far_ends[CENTRE] = answer
    assert h.run(0, lambda: b.app.link.connected and b.app.journal.pending_count() == 0,
                 real_timeout=15)
    broker.stop()
    b.set_zone(PANIC, True)
    h.run(300)
    b.set_zone(PANIC, False)
    panic = [e for e, _u, _a in b.app.journal.history() if e.kind == "alarm"][-1]
    msg = C.from_event(panic, "1234")[:15]
    heard = lambda: [d for r in calls for d in r.reports]      # noqa: E731
    if cut_at == "mid_message":
        # The DTMF of the message is on the line: cut half a second into it.
        assert h.run(60000, lambda: any(w.startswith("VTS") for _t, w in h.emu.log))
        h.run(500)
        assert heard() == [] and b.app.router.acked_by(panic.seq) == []
    else:
        # spandsp decoded it and kisses it off: cut before the controller hears the kissoff.
        assert h.run(60000, lambda: heard() == [msg])
        assert b.app.router.acked_by(panic.seq) == []
    assert b.app.router.handed_to(panic.seq) == ["mqtt", "landline"]
    first_calls = len(h.line.calls)
    h.emu._hang_up()                    # the modem is on the same supply: on-hook, the call ends
    b.power_cut(5000)
    b.reboot()
    h.attach()                          # the modem powers up afresh on the new UART
    assert panic.seq in b.app.journal.outbox()          # not lost
    # Handed to the line before the power went: the line at once, not after MQTT's deadline again.
    assert h.run(5000, lambda: len(h.line.calls) > first_calls)
    assert h.run(60000, lambda: b.app.router.acked_by(panic.seq) == ["landline"])
    assert len(h.line.calls) == first_calls + 1         # called again after the reboot
    assert calls[-1].reports == [msg]                   # and kissed off on that call
    assert heard() == [msg] * (1 if cut_at == "mid_message" else 2)
    broker.start()
    assert h.run(0, lambda: b.app.journal.pending_count() == 0, real_timeout=30)
    h.run(1000)
    assert len(h.line.calls) == first_calls + 1         # not called a third time
    alarms = [x for x in lines if x.startswith("!!")]
    assert len(alarms) == 1 and "非常" in alarms[0] and "経路 電話回線" in alarms[0], lines
    assert any("電話回線+MQTT" in x and "seq %d" % panic.seq in x for x in lines)
    assert [r[1] for r in store.reports(sid)].count(panic.seq) == 1
    assert [r for r in store.seen(sid) if r[2] == panic.seq] == [
        ("1120", PANIC, panic.seq, ("mqtt", "landline"))]
