# The whole controller on the virtual board (fake ESP32, real firmware), reporting through a real
# mosquitto broker with the real umqtt.simple to the real monitoring-centre receiver.
import json
import os
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hostclock  # noqa: E402
import receiver as R  # noqa: E402
import vboard  # noqa: E402
from mqtt_broker import broker  # noqa: E402,F401 (fixture)
from mimamori.store.config import validate_config, validate_secrets  # noqa: E402
from mimamori.comms.discovery import TROUBLE_SENSORS  # noqa: E402

BOARD = os.path.join(ROOT, "boards", "esp32-devkitc")
CODE = "1234"       # the sample resident's code (boards/*/secrets.sample.json)
WINDOW = 3          # リビング窓
FRONT_DOOR = 1      # 玄関ドア, entry route


def load_site(port=1, sample_secrets=False):
    """The sample house, with its own secrets (as installed) unless sample_secrets."""
    cfg = json.load(open(os.path.join(BOARD, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(BOARD, "pins.json"), encoding="utf-8"))
    sec = json.load(open(os.path.join(BOARD, "secrets.sample.json"), encoding="utf-8"))
    if not sample_secrets:
        sec = vboard.own_secrets(sec)
    cfg["comms"]["mqtt"]["port"] = port
    config = validate_config(cfg, pins)
    return config, validate_secrets(sec, config)


@pytest.fixture
def house(tmp_path):
    """A board whose broker is unreachable (port 1): reports wait in the journal."""
    hostclock.use_virtual(0)
    config, secrets = load_site()
    logs = []
    b = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=logs.append)
    b.logs = logs
    b.run(1000)
    return b


@pytest.fixture
def centre(broker, tmp_path):
    hostclock.use_virtual(0)
    config, secrets = load_site(broker.port)
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"])
    lines = []
    rx = R.Receiver(store, broker.host, broker.port, out=lines.append).start()
    assert rx.wait_connected()
    b = vboard.VirtualBoard(config, secrets, in_service(str(tmp_path / "flash")),
                            log=lambda m: None)
    yield b, store, lines, broker
    rx.stop()


def in_service(flash):
    """The flash of a board in service: its last remote command was 5 minutes ago. (A new or
    wiped board, with no command counter, refuses remote commands for its first 2 minutes:
    README "Commands".)"""
    from mimamori.store.journal import Journal
    os.makedirs(flash, exist_ok=True)
    Journal(flash + "/journal").save_value("cmd_ctr", int(time.time() * 1000) - 300000)
    return flash


def run_until(b, cond, real_timeout=10.0):
    """Run the loop (10 ms of board time per step, with real time for the network) until cond."""
    end = time.monotonic() + real_timeout
    while time.monotonic() < end:
        b.run(10, real_sleep_s=0.001)
        if cond():
            return True
    return False


def alarms(b):
    return [(e.cid, e.zone) for e, _up, _acked in b.app.journal.history() if e.kind == "alarm"]


def arm_away(b):
    assert b.app.operate("arm", b.now(), code=CODE, mode="away") == "セットしました"
    b.run(61000)


def test_intrusion_reaches_the_centre_console_with_its_zone_name(centre):
    b, store, lines, _ = centre
    arm_away(b)
    b.set_zone(WINDOW, True)
    assert run_until(b, lambda: b.app.journal.pending_count() == 0 and
                     any("リビング窓" in line for line in lines))
    shown = [line for line in lines if "リビング窓" in line]
    assert len(shown) == 1 and "異常" in shown[0] and "侵入" in shown[0]
    reports = store.reports(b.config["site_id"])     # (site, seq, kind, label, zone_name)
    assert [r[2:] for r in reports] == [("status", "再起動", ""),
                                        ("closing", "外出セット/解除", ""),
                                        ("alarm", "侵入(外周)", "リビング窓")]
    assert b.app.rendered.siren and b.app.rendered.flash


def test_remote_arm_by_the_centre_with_the_residents_code(centre):
    b, store, lines, broker = centre
    assert run_until(b, lambda: b.app.link.connected)
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=R.send_command(
        store, broker.host, broker.port, b.config["site_id"], "arm", {"mode": "stay"},
        code=CODE)))
    t.start()
    assert run_until(b, lambda: not t.is_alive())
    assert result["r"]["ok"] and b.app.core.mode == "stay"
    t = threading.Thread(target=lambda: result.update(r=R.send_command(
        store, broker.host, broker.port, b.config["site_id"], "disarm", code="0000")))
    t.start()
    assert run_until(b, lambda: not t.is_alive())
    assert not result["r"]["ok"] and result["r"]["reason"] == "wrong_code"
    assert b.app.core.mode == "stay"
    b.set_zone(WINDOW, True)                 # a window open: arming away is refused ...
    b.run(200)
    t = threading.Thread(target=lambda: result.update(r=R.send_command(
        store, broker.host, broker.port, b.config["site_id"], "arm", {"mode": "away"},
        code=CODE)))
    t.start()
    assert run_until(b, lambda: not t.is_alive())
    assert not result["r"]["ok"] and result["r"]["reason"] == "zones_open"   # ... and said so
    assert b.app.core.mode == "stay"


def test_reports_wait_while_the_broker_is_unreachable(house):
    b = house
    arm_away(b)
    b.set_zone(WINDOW, True)
    b.run(200)
    assert alarms(b) == [(131, WINDOW)]
    assert b.app.journal.pending_count() == 3   # boot 305, closing, alarm: safe on flash


def test_power_cut_mid_entry_delay_then_reboot_alarms_on_time(house):
    b = house
    arm_away(b)
    b.set_zone(FRONT_DOOR, True)
    b.run(10000)
    assert b.app.rendered.buzzer == "entry" and alarms(b) == []
    b.power_cut(15000)          # 10 s into the entry delay, 15 s without power
    b.reboot()
    assert b.app.core.mode == "away"
    b.run(4000)                 # 29 s of the 30 s entry delay have passed
    assert alarms(b) == []
    b.run(1100)
    assert alarms(b) == [(134, FRONT_DOOR)]


def test_bypass_remembered_across_a_reboot_and_not_carried_to_the_next_arming(house):
    b = house
    b.set_zone(WINDOW, True)
    b.run(200)
    refused = b.app.operate("arm", b.now(), code=CODE, mode="away")
    assert refused == "セットできません: リビング窓 が開いています"
    ok = b.app.operate("arm", b.now(), code=CODE, mode="away", force=True)
    assert ok == "バイパスしてセット: リビング窓"
    b.run(61000)
    b.power_cut(3000)
    b.reboot()
    b.set_zone(WINDOW, False)
    b.run(200)
    b.set_zone(WINDOW, True)
    b.run(200)
    assert alarms(b) == []      # still bypassed after the reboot
    b.app.operate("disarm", b.now(), code=CODE)
    b.set_zone(WINDOW, False)
    b.run(200)
    b.app.operate("arm", b.now(), code=CODE, mode="away")
    b.run(61000)
    b.set_zone(WINDOW, True)
    b.run(200)
    assert alarms(b) == [(131, WINDOW)]


def test_glass_while_disarmed_buzzes_and_reports(house):
    b = house
    b.set_zone(10, True)
    b.run(100)
    assert alarms(b) == [(155, 10)]
    assert b.app.rendered.buzzer == "glass" and not b.app.rendered.siren


def test_bounce_shorter_than_the_debounce_is_ignored(house):
    b = house
    arm_away(b)
    b.set_zone(WINDOW, True)
    b.run(30)                   # 30 ms < the 50 ms debounce
    b.set_zone(WINDOW, False)
    b.run(500)
    assert alarms(b) == []


def test_wrong_codes_lock_out_and_report_461(house):
    b = house
    for _ in range(4):
        assert b.app.operate("disarm", b.now(), code="0000") == "暗証番号またはカードが違います"
        b.run(100)
    # the fifth begins the lockout: the panel says how long it lasts
    assert b.app.operate("disarm", b.now(), code="0000") == "ロック中です あと5分00秒"
    b.run(100)
    writes = b.app.statefile.writes
    for junk in (b"garbage", b'{"v":1}', b"{}"):   # rejected before any code is checked
        b.app.ops.remote(junk, b.now())
        b.run(100)
    assert [e.cid for e, _u, _a in b.app.journal.history() if e.kind == "alarm"] == [461]
    assert b.app.statefile.writes == writes        # junk on the cmd topic writes no flash
    assert b.app.operate("disarm", b.now(), code=CODE) == "ロック中です あと5分00秒"  # time left
    assert [e.cid for e, _u, _a in b.app.journal.history() if e.kind == "alarm"] == [461]


def test_an_idle_controller_does_not_write_flash_every_tick(house):
    b = house
    b.run(20 * 60000)           # past the first test report (10 min after boot)
    w0 = b.app.statefile.writes + b.app.journal.writes
    b.run(30 * 60000)           # half an hour of 10 ms loops
    assert b.app.statefile.writes + b.app.journal.writes - w0 <= 2


def test_broker_stopped_for_five_minutes_reports_wait_and_arrive_in_order(centre):
    b, store, lines, broker = centre
    site = b.config["site_id"]
    assert run_until(b, lambda: b.app.link.connected and b.app.journal.pending_count() == 0)
    broker.stop()                       # five minutes of controller time without a broker
    b.app.operate("arm", b.now(), code=CODE, mode="away")
    b.run(61000)
    b.set_zone(WINDOW, True)            # an intrusion during the outage
    b.run(60000)
    b.press(12)                         # and the panic button
    b.run(5 * 60000 - 121300)
    pending = b.app.journal.pending_count()
    assert pending >= 3 and not b.app.link.connected      # closing, intrusion, panic at least
    seqs = list(b.app.journal.outbox())
    # past their 20 s deadline on MQTT, with no other path configured: they wait for MQTT
    assert b.app.router.late >= 2 and b.app.router.handoffs == 0
    broker.start()
    assert run_until(b, lambda: b.app.journal.pending_count() == 0, 30)
    assert run_until(b, lambda: all((site, s) in [(x, y) for x, y in _shown(lines)]
                                    for s in seqs), 15)
    shown = [s for x, s in _shown(lines) if x == site]
    assert len(shown) == len(set(shown))                               # once each
    alarms = [r[1] for r in store.reports(site) if r[1] in seqs and r[2] == "alarm"]
    assert len(alarms) >= 2
    # the 異常 first (they never wait behind routine reports), in order; the rest in order
    waited = [s for s in shown if s in seqs]
    assert waited == sorted(alarms) + sorted(set(seqs) - set(alarms)), waited


def _shown(lines):
    """(site, seq) of each report line the centre console showed."""
    out = []
    for line in lines:
        if " site=" in line and " seq=" in line:
            site = line.split(" site=")[1].split()[0]
            out.append((site, int(line.split(" seq=")[1].split()[0])))
    return out


def test_hostile_bytes_on_the_ack_and_cmd_topics_never_stop_the_loop(house):
    b = house
    d = b.app.delivery
    for payload in (b"[" * 100000, b'{"type":"ack","seq":' + b"9" * 5000 + b"}", b"\xff\xfe",
                    b"", b"null", b'{"a":' * 3000):
        d._on_message(d._t_ack, payload)     # as the link hands it over
        d._on_message(d._t_cmd, payload)
    assert d.bad_acks >= 4
    b.run(100)
    b.set_zone(10, True)                      # still guarding
    b.run(100)
    assert alarms(b) == [(155, 10)]


def test_movement_while_disarmed_does_not_write_flash(house):
    b = house
    w0 = b.app.statefile.writes
    for _ in range(100):             # someone at home walks past the PIR and uses the door
        b.set_zone(6, True)
        b.set_zone(2, True)
        b.run(300)
        b.set_zone(6, False)
        b.set_zone(2, False)
        b.run(300)
    assert b.app.statefile.writes - w0 <= 1      # at most the hourly supervision snapshot
    assert alarms(b) == []


def test_a_board_whose_clock_was_lost_takes_the_time_from_the_centres_signed_ack(broker, tmp_path):
    hostclock.use_virtual(0)
    config, secrets = load_site(broker.port)
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"])
    rx = R.Receiver(store, broker.host, broker.port, out=lambda line: None).start()
    assert rx.wait_connected()
    b = vboard.VirtualBoard(config, secrets, in_service(str(tmp_path / "flash")),
                            log=lambda m: None, rtc_set=False)   # power-on: the RTC says 2000-01-01
    assert b.app.wall.unix() is None
    assert run_until(b, lambda: b.app.journal.pending_count() == 0)   # the boot report, acked
    assert abs(b.app.wall.unix() - time.time()) <= 3
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=R.send_command(
        store, broker.host, broker.port, config["site_id"], "arm", {"mode": "stay"}, code=CODE)))
    t.start()
    assert run_until(b, lambda: not t.is_alive())
    assert result["r"]["ok"] and b.app.core.mode == "stay"    # not refused as clock_unset
    rx.stop()


def test_home_assistant_discovers_the_panel_and_every_zone(centre):
    import paho.mqtt.client as paho
    b, store, lines, broker = centre
    site = b.config["site_id"]
    assert run_until(b, lambda: b.app.link.connected and b.app.journal.pending_count() == 0)
    b.run(2000, real_sleep_s=0.002)                 # the retained payloads go out one a loop
    got = {}
    ha = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="home-assistant")
    ha.on_message = lambda c, u, m: got.__setitem__(m.topic, json.loads(m.payload))
    ha.connect(broker.host, broker.port)
    ha.subscribe("homeassistant/#", 1)              # subscribes later: retained copies arrive
    ha.loop_start()
    zones = len(b.config["zones"])
    end = time.monotonic() + 10
    while time.monotonic() < end and len(got) < zones + 1 + len(TROUBLE_SENSORS):
        time.sleep(0.05)
    ha.loop_stop()
    ha.disconnect()
    panel = got["homeassistant/alarm_control_panel/%s/config" % site]
    assert panel["state_topic"] == "mimamori/v1/%s/state" % site and panel["code_arm_required"]
    # HA's commands carry the site's token, the centre's bridge forwards nothing without it
    from mimamori.core.commands import ha_token
    from mimamori.proto.frame import site_key
    token = ha_token(site_key(b.secrets["site_key"]), site)
    cmd = json.loads(panel["command_template"].replace("{{ action }}", "DISARM")
                     .replace("{{ code }}", "1234"))
    assert cmd == {"action": "DISARM", "code": "1234", "token": token}
    # a binary sensor per zone, and the trouble entities (problem, connectivity, battery)
    sensors = [t for t in got if t.startswith("homeassistant/binary_sensor/%s/" % site)]
    assert len([t for t in sensors if "/zone" in t]) == zones
    assert len(sensors) == zones + len(TROUBLE_SENSORS)
    for name in ("problem", "connectivity", "battery"):     # troubles as entities (10.9)
        assert "homeassistant/binary_sensor/%s/%s/config" % (site, name) in sensors


PIR = 6             # リビング 空間センサー: a follower in the sample house


def test_homecoming_walk_past_the_living_room_pir_sends_only_the_opening(house):
    b = house
    arm_away(b)
    n = len(list(b.app.journal.history()))
    b.set_zone(FRONT_DOOR, True)        # the resident comes home
    b.run(3000)
    b.press(PIR, 2000)                  # walks past the living-room PIR to the panel
    b.run(5000)
    assert b.app.operate("disarm", b.now(), code=CODE) == "解除しました"
    b.run(60000)
    sent = [(e.kind, e.cid) for e, _u, _a in list(b.app.journal.history())[n:]]
    assert sent == [("opening", 401)]


def test_power_cuts_that_lose_the_clock_never_postpone_the_entry_delay(house):
    import machine
    b = house
    arm_away(b)
    b.set_zone(FRONT_DOOR, True)        # the door opens: 30 s of powered time to disarm
    powered = 0
    boot_ms = 1000
    cuts = 0
    while not alarms(b) and powered < 120000:
        b.run(2500)
        powered += 2500
        if alarms(b):
            break
        b.power_cut(3000)
        machine.reset_all()             # a power-on reset: the RTC is back at 2000-01-01
        hostclock.clock.advance(boot_ms)
        b.reboot()
        assert b.app.wall.unix() is None
        cuts += 1
        powered += boot_ms
        b.run(10)
        powered += 10
    assert alarms(b) == [(134, FRONT_DOOR)]
    assert powered <= 30000 + cuts * boot_ms, (powered, cuts)


def test_a_panic_press_shows_nothing_on_the_panel_and_reaches_the_journal(house):
    b = house
    before = b.app.display(b.now())
    b.press(12)                         # 非常ボタン
    b.run(1000)
    assert alarms(b) == [(120, 12)]     # waiting for the centre, as any alarm
    r = b.app.rendered
    assert not (r.siren or r.flash or r.alarm_memory) and r.buzzer == "off"
    assert b.app.display(b.now()) == before and "非常" not in before



# ---- clock from the centre (issue 10.13, issue 9.13) ----------------------------------------

def _walls(b):
    return [e.wall for e, _u, _a in b.app.journal.history()]


def test_report_times_never_run_backwards_when_the_centre_clock_is_behind(house):
    b = house
    b.app.operate("arm", b.now(), code=CODE, mode="stay")
    b.run(1000)
    before = _walls(b)[-1]
    b.app.delivery.on_time(b.app.wall.unix() - 10)   # a signed ack: the centre is 10 s behind
    b.run(1000)
    b.app.operate("disarm", b.now(), code=CODE)
    b.run(1000)
    walls = _walls(b)
    assert walls[-1] >= before, walls                # the disarm is not stamped before the arm
    assert walls == sorted(walls)


def test_an_ack_with_t_zero_or_a_day_old_t_leaves_the_clock_alone(house):
    b = house
    t = b.app.wall.unix()
    b.app.delivery.on_time(0)                         # the centre's clock is unset
    assert b.app.wall.unix() == t
    b.app.delivery.on_time(t - 86400)                 # a day old
    assert b.app.wall.unix() == t
    assert any("ignored" in m for m in b.logs)


# ---- test reports name their path, not a zone (issue 10.10) ---------------------------------

def test_test_reports_reach_the_centre_as_a_path_test_never_as_zone_1(centre):
    b, store, lines, broker = centre
    assert run_until(b, lambda: b.app.link.connected)
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=R.send_command(
        store, broker.host, broker.port, b.config["site_id"], "test")))
    t.start()                                 # a test asked for by the centre (601) ...
    assert run_until(b, lambda: not t.is_alive())
    assert result["r"]["ok"]
    assert run_until(b, lambda: any("試験" in x for x in lines) and
                     b.app.journal.pending_count() == 0)
    b.skip(36 * 3600 * 1000)                  # ... and the periodic one (602) within 36 h
    assert run_until(b, lambda: len([x for x in lines if "試験" in x]) == 2 and
                     b.app.journal.pending_count() == 0)
    shown = [x for x in lines if "試験" in x]
    for line in shown:                        # not ゾーン1 (玄関ドア): the path that was tested
        assert "ゾーン" not in line and "経路 mqtt" in line, line
    tests = [e for e, _u, _a in b.app.journal.history() if e.kind == "test"]
    assert sorted(e.cid for e in tests) == [601, 602]
    from mimamori.proto import frame
    for e in tests:
        d = frame.event_dict(b.config["site_id"], e, 0)
        assert d["zone"] == 0 and d["path"] == "mqtt" and d["zone_name"] == ""


# ---- the monthly self-check moves every output (issue 10.7) ---------------------------------

def test_self_check_drives_buzzer_flash_trouble_led_and_siren_in_turn_then_restores(house):
    import machine
    b = house
    outs = b.config["outputs"]
    pins = {"siren": outs["siren"], "flash": outs["flash_light"], "trouble": outs["led_trouble"]}
    level = lambda name: machine.Pin(pins[name]).value()     # noqa: E731
    before = dict((n, level(n)) for n in pins)
    assert before == {"siren": 0, "flash": 0, "trouble": before["trouble"]}
    assert b.app.outputs.buzzer_tone() == 0
    assert b.app.apply("self_check", 1, b.now()) == "点検を開始します"
    seen = {"siren": set(), "flash": set(), "trouble": set(), "buzzer": set()}
    order = []
    for _ in range(1000):                                   # 10 s of loops
        b.step()
        for n in pins:
            seen[n].add(level(n))
        seen["buzzer"].add(b.app.outputs.buzzer_tone())
        on = [n for n in ("buzzer", "flash", "trouble", "siren") if
              (b.app.outputs.buzzer_tone() if n == "buzzer" else level(n) != before[n])]
        for n in on:
            if n not in order:
                order.append(n)
    for n in ("siren", "flash", "trouble"):
        assert seen[n] == {0, 1}, (n, seen[n])              # visibly driven on the pin
    assert max(seen["buzzer"]) > 0
    assert order == ["buzzer", "flash", "trouble", "siren"]
    after = dict((n, level(n)) for n in pins)
    assert after == before and b.app.outputs.buzzer_tone() == 0   # all restored
    assert not b.app.rendered.siren


# ---- what Home Assistant shows (issue 10.9) --------------------------------------------------

GLASS, PANIC = 10, 12


def ha_view(b):
    """Render every discovery template on the state the app publishes, with Jinja2 (the
    template engine Home Assistant uses): {unique_id: rendered value}."""
    import jinja2
    from mimamori.comms.discovery import iter_payloads
    from mimamori.proto import frame
    state = frame.parse(b.app.delivery._state)    # the retained state last handed to the link
    env = jinja2.Environment()
    view = {}
    for _topic, payload in iter_payloads(b.config):
        p = json.loads(payload)
        view[p["unique_id"]] = env.from_string(p["value_template"]).render(value_json=state).strip()
    return view


def ha_panel(b):
    return ha_view(b)["mimamori_%s_alarm" % b.config["site_id"]]


def test_home_assistant_mirrors_the_panel_not_the_alarm_memory(house):
    b = house
    assert ha_panel(b) == "disarmed"
    b.app.operate("arm", b.now(), code=CODE, mode="away")
    b.run(1000)
    assert ha_panel(b) == "arming"
    b.run(61000)
    assert ha_panel(b) == "armed_away"
    b.set_zone(WINDOW, True)
    b.run(1000)
    assert b.app.rendered.siren and ha_panel(b) == "triggered"
    b.run(5 * 60 * 1000)                         # the siren's cut-off: no longer sounding
    assert not b.app.rendered.siren and ha_panel(b) == "armed_away"
    b.app.operate("disarm", b.now(), code=CODE)
    b.run(1000)
    assert b.app.core.memory                     # the panel still shows what happened ...
    assert ha_panel(b) == "disarmed"             # ... but the house is disarmed, not triggered
    b.set_zone(WINDOW, False)
    b.app.operate("reset", b.now(), code=CODE)
    b.set_zone(GLASS, True)                      # glass while disarmed: the buzzer warbles
    b.run(1000)
    assert b.app.rendered.buzzer == "glass" and ha_panel(b) == "disarmed"
    b.set_zone(GLASS, False)
    b.app.operate("reset", b.now(), code=CODE)
    b.run(1000)
    b.press(PANIC)                               # a silent alarm: not on a tablet by the door
    b.run(1000)
    assert not b.app.core.memory                 # silent: not even the panel's memory shows it
    assert [e.cid for e, _u, _a in b.app.journal.history()][-1] == 120   # the centre gets it
    assert ha_panel(b) == "disarmed"
    from mimamori.proto import frame
    state = frame.parse(b.app.delivery._state)   # the memory as the panel's LED shows it
    assert state["alarm_memory"] == b.app.rendered.alarm_memory


def test_home_assistant_sees_troubles_as_codes_and_entities(house):
    from mimamori.comms.discovery import iter_payloads
    from mimamori.proto import frame
    b = house
    site = b.config["site_id"]
    disc = [json.loads(p) for _t, p in iter_payloads(b.config)]
    by_id = dict((p["unique_id"], p) for p in disc)
    for name, cls in (("problem", "problem"), ("connectivity", "connectivity"),
                      ("battery", "battery")):
        assert by_id["mimamori_%s_%s" % (site, name)]["device_class"] == cls
    panel = by_id["mimamori_%s_alarm" % site]
    import mimamori
    assert panel["device"]["sw_version"] == mimamori.VERSION
    assert panel["origin"]["name"] == "mimamori" and panel["origin"]["sw_version"]
    view = ha_view(b)
    assert view["mimamori_%s_battery" % site] == "OFF"
    assert view["mimamori_%s_connectivity" % site] == "ON"
    b.set_ac(False)                              # a power cut ...
    b.set_battery_mv(11000)                      # ... and the battery runs down
    b.run(62000)
    state = frame.parse(b.app.delivery._state)
    assert "ac_loss" in state["troubles"] and "low_battery" in state["troubles"]
    labels = dict(zip(state["troubles"], state["trouble_labels"]))
    assert labels["ac_loss"] == "停電中(バッテリーで動作中)"
    view = ha_view(b)
    assert view["mimamori_%s_problem" % site] == "ON"
    assert view["mimamori_%s_battery" % site] == "ON"
    assert view["mimamori_%s_connectivity" % site] == "ON"
    b.skip(10 * 60 * 1000)                       # the first test report cannot be delivered
    b.run(25000)                                 # (no broker): a path trouble
    state = frame.parse(b.app.delivery._state)
    assert "comm_trouble" in state["troubles"], state["troubles"]
    assert ha_view(b)["mimamori_%s_connectivity" % site] == "OFF"


# ---- a controller left with the sample secrets says so (issue 10.12) -------------------------

def test_the_sample_site_key_and_codes_raise_a_trouble_at_boot(tmp_path):
    hostclock.use_virtual(0)
    config, secrets = load_site(sample_secrets=True)     # secrets.sample.json as shipped
    logs = []
    b = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=logs.append)
    b.logs = logs
    troubles = [t[0] for t in b.app.sup.troubles()]
    assert 300 in troubles
    b.run(1000)
    assert "初期設定" in b.app.display(b.now())        # the panel says so ...
    assert b.app.rendered.trouble                    # ... with the trouble LED
    sent = [e for e, _u, _a in b.app.journal.history() if e.cid == 300]
    assert len(sent) == 1 and sent[0].kind == "trouble"      # ... and the centre is told
    from mimamori.proto import frame
    state = frame.parse(b.app.state_frame())
    assert "sample_secrets" in state["troubles"]
    assert any("site_key" in m for m in b.logs)      # which ones, by name ...
    key = b.secrets["site_key"]
    assert not [m for m in b.logs if key in m]       # ... never by value
    b.reboot()                                       # reported once, not at every boot
    b.run(1000)
    assert len([e for e, _u, _a in b.app.journal.history() if e.cid == 300]) == 1
    assert 300 in [t[0] for t in b.app.sup.troubles()]


def test_own_secrets_raise_no_such_trouble(tmp_path):
    hostclock.use_virtual(0)
    config, secrets = load_site()                        # the house's own (vboard.own_secrets)
    b = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    b.run(1000)
    assert 300 not in [t[0] for t in b.app.sup.troubles()]
    assert not b.app.rendered.trouble
    assert b.app.operate("arm", b.now(), code=CODE, mode="stay") == "セットしました"


def test_one_dispatch_for_keys_cards_and_the_centre_with_one_result(house):
    """Operations (mimamori/operations.py): the same action gives the same Result whoever asks;
    a refusal carries its reason for the centre and its text for the panel."""
    b = house
    ops = b.app.ops
    b.set_zone(WINDOW, True)                      # リビング窓 open: away arming is refused
    b.run(200)
    r = ops.run("arm", 1, b.now(), mode="away")
    assert (r.ok, r.reason) == (False, "zones_open") and "リビング窓" in r.text
    assert b.app.operate("arm", b.now(), code=CODE, mode="away") == r.text   # the same at the keys
    assert b.app.core.mode == "disarmed"
    b.set_zone(WINDOW, False)
    b.run(200)
    # the centre's しらせてコール is on the panel until the resident answers it
    r = ops.run("ask", 0, b.now(), message="ガスの元栓を確認してください")
    assert r.ok and b.app.display(b.now()) == "しらせてコール: ガスの元栓を確認してください"
    assert b.app.operate("answer", b.now(), code=CODE) == "確認しました"
    assert b.app.display(b.now()).startswith("解除")
    r = ops.run("revoke_card", 0, b.now(), card=99)
    assert (r.ok, r.reason) == (False, "unknown_card")
    r = ops.run("disarm", 1, b.now())
    assert (r.ok, r.reason, r.text) == (True, None, "解除しました")
