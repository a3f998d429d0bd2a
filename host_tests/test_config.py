# config.json / secrets.json / pins.json validation: what an installer reads when something is
# wrong. Each bad input is checked for the exact message (JSON path + what was expected), and no
# input of any shape may raise anything but ConfigError.
import json
import os
import sys

from check import raises
from mimamori.core import auth
from mimamori.store.config import (ConfigError, load, validate_config, validate_secrets,
                                   read_json)

RUNS_ON_MICROPYTHON = True

ON_MICROPYTHON = sys.implementation.name == "micropython"
DEVKITC = "boards/esp32-devkitc/"
S3 = "boards/esp32s3-devkitc/"
ZONE_TYPES = ("magnet, glass, fire, gas, vibration, space, panic, medical, cancel, tamper, "
              "case_tamper")
TIMER_KEYS = ("entry_delay_s, exit_delay_s, cancel_window_s, siren_cutoff_min, life_monitor_h, "
              "comm_check_h, first_test_after_boot_min, fault_trouble_h, line_cut_debounce_s, "
              "forgot_arm_grace_min, self_check_days, mitsumete_min, mitsumete_warn_s, "
              "shirasete_answer_min")

_texts = {}


def repo_text(rel):
    """A file of the repository, by its relative path. On MicroPython the runner (tools/mpyrun.py)
    copies boards/ into the interpreter's filesystem at the same relative path."""
    if rel not in _texts:
        if ON_MICROPYTHON:
            path = rel
        else:
            path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), rel)
        with open(path, encoding="utf-8") as f:
            _texts[rel] = f.read()
    return _texts[rel]


def sample(board=DEVKITC):
    """Fresh (config, pins, secrets) dicts of a board's samples."""
    return (json.loads(repo_text(board + "config.sample.json")),
            json.loads(repo_text(board + "pins.json")),
            json.loads(repo_text(board + "secrets.sample.json")))


_tmp = []


def tmp_path(name):
    if not _tmp:
        if ON_MICROPYTHON:
            _tmp.append("/tmp")
        else:
            import tempfile
            _tmp.append(tempfile.mkdtemp(prefix="mimamori-config-"))
    return _tmp[0] + "/" + name


def write(name, text):
    path = tmp_path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


def config_errors(cfg, pins):
    with raises(ConfigError) as r:
        validate_config(cfg, pins)
    return r.value.errors


def secrets_errors(sec, cfg=None):
    with raises(ConfigError) as r:
        validate_secrets(sec, cfg)
    return r.value.errors


# ---- the samples --------------------------------------------------------------------------------

def test_both_board_samples_validate():
    for board, name in ((DEVKITC, "esp32-devkitc"), (S3, "esp32s3-devkitc")):
        cfg, pins, sec = sample(board)
        c = validate_config(cfg, pins)
        s = validate_secrets(sec, c)
        assert c["board"] == name
        assert len(c["zones"]) == 15
        names = [z["name"] for z in c["zones"]]
        for n in ("玄関ドア", "勝手口", "リビング窓", "和室窓", "2階寝室窓", "リビング 空間センサー",
                  "台所 熱感知器", "寝室 煙感知器", "台所 ガス", "リビング ガラス", "金庫 振動",
                  "非常ボタン", "救急ボタン", "キャンセルボタン", "本体タンパー"):
            assert n in names, n
        assert c["comms"]["mqtt"]["host"] == "127.0.0.1"
        assert [u["role"] for u in s["users"]] == ["resident", "installer"]


def test_load_reads_the_three_files_from_flash_paths():
    cfg, pins, sec = sample(S3)
    c, s = load(write("c.json", json.dumps(cfg)), write("s.json", json.dumps(sec)),
                write("p.json", json.dumps(pins)))
    assert c["zones"][0]["name"] == "玄関ドア" and c["zones"][0]["entry_route"] is True
    assert s["cards"][0]["user"] == 1


def test_sample_code_and_card_open_the_sample_panel():
    cfg, pins, sec = sample()
    s = validate_secrets(sec, validate_config(cfg, pins))
    a = auth.Authenticator(s, 0)
    assert a.check_code("1234", 0)["role"] == "resident"
    assert a.check_card("04A1B2C3", 0)["id"] == 1


def test_sample_zones_get_their_type_defaults():
    cfg, pins, _ = sample()
    zones = validate_config(cfg, pins)["zones"]
    door, heat, gas, safe, panic = zones[0], zones[6], zones[8], zones[10], zones[11]
    assert door["modes"] == ["away", "stay", "partial"] and door["always_armed"] is False
    assert door["wiring"] == "NC" and door["pull"] == "up" and door["debounce_ms"] == 50
    assert heat["always_armed"] is True and heat["detector"] == "heat" and heat["modes"] == []
    assert gas["detector"] is None and gas["always_armed"] is True
    assert safe["always_armed"] is True and safe["modes"] == ["away", "stay", "partial"]
    assert panic["modes"] == [] and panic["entry_route"] is False


# ---- defaults ----------------------------------------------------------------------------------

def minimal():
    return {"version": 1, "site_id": "tanaka-1", "board": "esp32-devkitc",
            "zones": [{"id": 1, "name": "玄関ドア", "type": "magnet", "gpio": 4},
                      {"id": 2, "name": "居間", "type": "space", "gpio": 13},
                      {"id": 3, "name": "火災", "type": "fire", "gpio": 14},
                      {"id": 4, "name": "ガラス", "type": "glass", "gpio": 16},
                      {"id": 5, "name": "振動", "type": "vibration", "gpio": 17},
                      {"id": 6, "name": "キャンセル", "type": "cancel", "gpio": 18}],
            "outputs": {"siren": 19, "flash_light": 21, "buzzer": 22},
            "comms": {"mqtt": {"host": "broker.example.jp"}}}


def test_defaults_are_filled_in():
    pins = sample()[1]
    c = validate_config(minimal(), pins)
    assert c["utc_offset_min"] == 540
    assert c["timers"] == {"entry_delay_s": 30, "exit_delay_s": 60, "cancel_window_s": 30,
                           "siren_cutoff_min": 5, "life_monitor_h": 12, "comm_check_h": 36,
                           "first_test_after_boot_min": 10, "fault_trouble_h": 24,
                           "line_cut_debounce_s": 10, "forgot_arm_grace_min": 15,
                           "self_check_days": 30, "mitsumete_min": 30, "mitsumete_warn_s": 60,
                           "shirasete_answer_min": 10}
    assert c["comms"]["mqtt"] == {"host": "broker.example.jp", "port": 1883, "tls": False,
                                  "ca_file": None, "tls_name": None, "keepalive_s": 60,
                                  "ack_deadline_s": 20,
                                  "topic_prefix": "mimamori/v1"}
    assert c["comms"]["landline"] == {"enabled": False, "account": None, "centre_number": None,
                                      "backup_number": None, "uart": None}
    assert c["outputs"] == {"siren": 19, "flash_light": 21, "buzzer": 22, "led_away": None,
                            "led_stay": None, "led_partial": None, "led_trouble": None,
                            "led_memory": None}
    assert c["supervision"] == {"line_voltage": None, "battery": None, "ac_sense_gpio": None}
    magnet, space, fire, glass, vib, cancel = c["zones"]
    assert magnet == {"id": 1, "name": "玄関ドア", "type": "magnet", "gpio": 4, "wiring": "NC",
                      "pull": "up", "debounce_ms": 50, "modes": ["away", "stay", "partial"],
                      "entry_route": False, "always_armed": False, "detector": None,
                      "follower": False, "sounder": None, "chime": False}
    assert space["modes"] == ["away"]
    assert fire["sounder"] == "buzzer"
    assert fire["modes"] == [] and fire["always_armed"] is True and fire["detector"] == "generic"
    assert glass["modes"] == ["away", "stay", "partial"] and glass["always_armed"] is True
    assert vib["always_armed"] is False and vib["modes"] == ["away", "stay", "partial"]
    assert cancel["modes"] == [] and cancel["always_armed"] is False


def test_tls_changes_the_default_port_and_supervision_defaults():
    cfg = minimal()
    cfg["comms"]["mqtt"]["tls"] = True
    cfg["supervision"] = {"line_voltage": {"gpio": 36}, "battery": {"gpio": 39}}
    with raises(ConfigError, "comms.mqtt.ca_file: required when tls is true"):
        validate_config(cfg, sample()[1])        # TLS that cannot verify the broker: refused
    cfg["comms"]["mqtt"]["ca_file"] = "/ca.pem"
    c = validate_config(cfg, sample()[1])
    assert c["comms"]["mqtt"]["port"] == 8883 and c["comms"]["mqtt"]["ca_file"] == "/ca.pem"
    assert c["supervision"]["line_voltage"] == {"gpio": 36, "cut_below_mv": 3000}
    assert c["supervision"]["battery"] == {"gpio": 39, "low_mv": 11500, "ok_mv": 12200}


def test_validation_leaves_the_input_untouched():
    cfg, pins, sec = sample()
    before = json.dumps(cfg), json.dumps(sec)
    validate_secrets(sec, validate_config(cfg, pins))
    assert (json.dumps(cfg), json.dumps(sec)) == before


def test_secrets_defaults():
    _, _, sec = sample()
    del sec["mqtt"]
    del sec["cards"]
    del sec["users"][0]["code"]["iter"]
    s = validate_secrets(sec)
    assert s["mqtt"] is None and s["cards"] == []
    assert s["users"][0]["code"]["iter"] == auth.ITERATIONS


# ---- bad configs: one message each, exact ------------------------------------------------------

def test_unknown_zone_type():
    cfg, pins, _ = sample()
    cfg["zones"][3]["type"] = "glas"
    assert config_errors(cfg, pins) == [
        "zones[3].type: 'glas' is not one of " + ZONE_TYPES]


def test_duplicate_gpio_between_two_zones():
    cfg, pins, _ = sample()
    cfg["zones"][1]["gpio"] = 4
    assert config_errors(cfg, pins) == ["zones[1].gpio: GPIO 4 is already used by zones[0].gpio"]


def test_duplicate_gpio_between_a_zone_and_an_output():
    cfg, pins, _ = sample()
    cfg["outputs"]["siren"] = 4
    assert config_errors(cfg, pins) == ["outputs.siren: GPIO 4 is already used by zones[0].gpio"]


def wire_landline(cfg):
    """The ESP32 sample leaves the landline off (no pin safe at reset is left for it): wire it on
    the trouble LED's pin and the mains sense input for the tests that need it."""
    del cfg["outputs"]["led_trouble"]
    del cfg["supervision"]["ac_sense_gpio"]
    cfg["comms"]["landline"] = {"enabled": True, "account": "1234", "centre_number": "0312345678",
                                "uart": {"id": 2, "tx": 16, "rx": 35, "baud": 115200}}
    return cfg["comms"]["landline"]


def test_a_second_receiver_number_is_optional_and_checked():
    cfg, pins, _ = sample()
    wire_landline(cfg)
    assert validate_config(cfg, pins)["comms"]["landline"]["backup_number"] is None
    cfg["comms"]["landline"]["backup_number"] = "0398765432"
    assert validate_config(cfg, pins)["comms"]["landline"]["backup_number"] == "0398765432"
    cfg["comms"]["landline"]["backup_number"] = "03-9876"
    assert config_errors(cfg, pins) == [
        "comms.landline.backup_number: '03-9876' must be 1-20 dial characters of 0-9, * and #"]


def test_duplicate_gpio_between_an_output_and_the_landline_uart():
    cfg, pins, _ = sample()
    wire_landline(cfg)["uart"]["tx"] = 13
    assert config_errors(cfg, pins) == [
        "comms.landline.uart.tx: GPIO 13 is already used by outputs.siren"]


def test_input_only_pin_as_output():
    cfg, pins, _ = sample()
    cfg["outputs"]["siren"] = 34
    assert config_errors(cfg, pins) == ["outputs.siren: GPIO 34 is input-only on esp32-devkitc"]


def test_flash_and_console_pins_are_refused():
    cfg, pins, _ = sample()
    cfg["zones"][0]["gpio"] = 6
    cfg["zones"][1]["gpio"] = 1
    assert config_errors(cfg, pins) == [
        "zones[0].gpio: GPIO 6 is reserved on esp32-devkitc: SPI flash SD_CLK inside the module",
        "zones[1].gpio: GPIO 1 is reserved on esp32-devkitc: UART0 TX: USB serial console, REPL "
        "and mpremote"]


def test_s3_octal_psram_pin_is_refused():
    cfg, pins, _ = sample(S3)
    cfg["outputs"]["siren"] = 35
    assert config_errors(cfg, pins) == [
        "outputs.siren: GPIO 35 is reserved on esp32s3-devkitc: octal PSRAM SPIIO6 inside the "
        "N8R8 module"]


def test_gpio_that_does_not_exist():
    cfg, pins, _ = sample()
    cfg["zones"][2]["gpio"] = 24
    cfg["zones"][3]["gpio"] = 37
    assert config_errors(cfg, pins) == ["zones[2].gpio: GPIO 24 does not exist on esp32-devkitc",
                                        "zones[3].gpio: GPIO 37 does not exist on esp32-devkitc"]


def test_pull_up_on_a_pin_without_pulls():
    cfg, pins, _ = sample()
    del cfg["supervision"]["ac_sense_gpio"]
    cfg["zones"][1]["gpio"] = 35
    assert config_errors(cfg, pins) == [
        "zones[1].pull: GPIO 35 has no internal pull resistor on esp32-devkitc: set \"none\" "
        "and fit an external resistor"]
    cfg["zones"][1]["pull"] = "none"
    assert validate_config(cfg, pins)["zones"][1]["pull"] == "none"


def test_entry_delay_above_maximum():
    cfg, pins, _ = sample()
    cfg["timers"]["entry_delay_s"] = 90
    cfg["timers"]["cancel_window_s"] = 1
    assert config_errors(cfg, pins) == ["timers.entry_delay_s: 90 is above the maximum 45",
                                        "timers.cancel_window_s: 1 is below the minimum 5"]


def test_bool_or_decimal_given_for_an_int():
    cfg, pins, _ = sample()
    cfg["zones"][0]["debounce_ms"] = True
    cfg["timers"]["exit_delay_s"] = 60.0
    wire_landline(cfg)["uart"]["id"] = True
    assert config_errors(cfg, pins) == [
        "zones[0].debounce_ms: expected an integer from 10 to 5000, got true",
        "comms.landline.uart.id: expected one of 1, 2, got true",
        "timers.exit_delay_s: expected an integer from 0 to 255, got a decimal number"]


def test_unknown_keys_are_named():
    cfg, pins, _ = sample()
    cfg["timers"]["entry_dealy_s"] = 20
    cfg["zones"][0]["colour"] = "red"
    cfg["sitename"] = "x"
    assert config_errors(cfg, pins) == [
        "sitename: unknown key (known keys: version, site_id, board, utc_offset_min, zones, "
        "timers, comms, outputs, supervision, strapping_override, i2c, card_reader, keypad, "
        "display)",
        "zones[0].colour: unknown key (known keys: id, name, type, gpio, wiring, pull, "
        "debounce_ms, modes, entry_route, always_armed, detector, follower, sounder, chime)",
        "timers.entry_dealy_s: unknown key (known keys: " + TIMER_KEYS + ")"]


def test_fire_zone_cannot_drop_its_24_hour_flag():
    cfg, pins, _ = sample()
    cfg["zones"][6]["always_armed"] = False
    cfg["zones"][0]["always_armed"] = True
    assert config_errors(cfg, pins) == [
        "zones[0].always_armed: a magnet zone cannot be a 24-hour zone",
        "zones[6].always_armed: a fire zone is a 24-hour zone and is always armed: remove "
        "always_armed or set it to true"]


def test_entry_route_and_detector_only_where_they_mean_something():
    cfg, pins, _ = sample()
    cfg["zones"][6]["entry_route"] = True
    cfg["zones"][1]["detector"] = "smoke"
    cfg["zones"][7]["detector"] = "flame"
    assert config_errors(cfg, pins) == [
        "zones[1].detector: only fire zones have a detector, not a magnet zone",
        "zones[6].entry_route: only magnet and space zones can be entry routes, not a fire zone",
        "zones[7].detector: 'flame' is not one of smoke, heat, generic"]


def test_follower_sounder_and_case_tamper_zones():
    cfg, pins, _ = sample()
    c = validate_config(cfg, pins)
    pir = c["zones"][5]
    assert pir["name"] == "リビング 空間センサー" and pir["follower"] is True   # the sample house
    case = c["zones"][14]
    assert case["type"] == "case_tamper" and case["always_armed"] is True and case["modes"] == []
    cfg["zones"][0]["follower"] = True          # the entry route itself
    cfg["zones"][6]["follower"] = True          # a heat detector
    cfg["zones"][7]["sounder"] = "bell"
    cfg["zones"][8]["sounder"] = "siren"        # gas: fine
    cfg["zones"][9]["sounder"] = "siren"        # glass: no
    cfg["zones"][14]["always_armed"] = False
    assert config_errors(cfg, pins) == [
        "zones[0].follower: an entry_route zone starts the entry delay, a follower follows it: "
        "set one of them",
        "zones[6].follower: only magnet and space zones can be followers, not a fire zone",
        "zones[7].sounder: 'bell' is not one of buzzer, siren",
        "zones[9].sounder: only fire and gas zones have a sounder, not a glass zone",
        "zones[14].always_armed: a case_tamper zone is a 24-hour zone and is always armed: "
        "remove always_armed or set it to true"]


def test_battery_hysteresis():
    cfg, pins, _ = sample()
    cfg["supervision"]["battery"]["ok_mv"] = 11500
    assert config_errors(cfg, pins) == [
        "supervision.battery.ok_mv: 11500 must be above low_mv 11500 (hysteresis)"]


def test_adc_pin_must_be_on_adc1():
    cfg, pins, _ = sample()
    cfg["supervision"]["battery"]["gpio"] = 13
    cfg["zones"][1]["gpio"] = 39
    cfg["zones"][1]["pull"] = "none"
    assert config_errors(cfg, pins) == [
        "supervision.battery.gpio: GPIO 13 is not an ADC pin on esp32-devkitc (use one of 32, "
        "33, 34, 35, 36, 39)"]


def test_bad_site_id_and_version():
    cfg, pins, _ = sample()
    cfg["site_id"] = "My House"
    cfg["version"] = 2
    assert config_errors(cfg, pins) == [
        "version: expected 1, got 2",
        "site_id: 'My House' must be 1-32 characters of a-z, 0-9, _ and -"]


def test_duplicate_zone_id_long_name_and_bad_modes():
    cfg, pins, _ = sample()
    cfg["zones"][2]["id"] = 1
    cfg["zones"][3]["name"] = "和" * 33
    cfg["zones"][4]["modes"] = ["away", "away", "night"]
    assert config_errors(cfg, pins) == [
        "zones[2].id: 1 is already used by zones[0]",
        "zones[3].name: expected a string of 1-32 characters, got 33 characters",
        "zones[4].modes[1]: 'away' is listed twice",
        "zones[4].modes[2]: 'night' is not one of away, stay, partial"]


def test_landline_fields():
    cfg, pins, _ = sample()
    ll = wire_landline(cfg)
    ll["account"] = "A123"
    ll["centre_number"] = "03-1234-5678"
    ll["uart"]["baud"] = 9601
    ll["uart"]["tx"] = 35
    assert config_errors(cfg, pins) == [
        "comms.landline.account: 'A123' must be 4 characters of 0-9 and B-F (Contact ID account)",
        "comms.landline.centre_number: '03-1234-5678' must be 1-20 dial characters of 0-9, * and #",
        "comms.landline.uart.tx: GPIO 35 is input-only on esp32-devkitc",
        "comms.landline.uart.baud: 9601 is not one of 9600, 19200, 38400, 57600, 115200"]


def test_enabled_landline_needs_its_fields_disabled_does_not():
    cfg, pins, _ = sample()
    cfg["comms"]["landline"] = {"enabled": True}
    assert config_errors(cfg, pins) == [
        "comms.landline.account: missing: expected 4 characters of 0-9 and B-F",
        "comms.landline.centre_number: missing: expected 1-20 dial characters of 0-9, * and #",
        "comms.landline.uart: missing: expected an object with id, tx, rx and baud"]
    cfg["comms"]["landline"] = {"enabled": False}
    assert validate_config(cfg, pins)["comms"]["landline"]["enabled"] is False


def test_mqtt_fields():
    cfg, pins, _ = sample()
    cfg["comms"]["mqtt"] = {"host": "", "port": 0, "keepalive_s": "60", "topic_prefix": "a/#"}
    assert config_errors(cfg, pins) == [
        "comms.mqtt.host: expected a string of 1-253 characters, got 0 characters",
        "comms.mqtt.topic_prefix: 'a/#' must not hold spaces, the MQTT wildcards + and #, or a "
        "leading or trailing /",
        "comms.mqtt.port: 0 is below the minimum 1",
        "comms.mqtt.keepalive_s: expected an integer from 10 to 3600, got a string"]


def test_board_must_match_the_pin_map():
    cfg, pins, _ = sample()
    cfg["board"] = "esp32s3-devkitc"
    assert config_errors(cfg, pins) == [
        "board: 'esp32s3-devkitc' does not match the pin map, which is for esp32-devkitc"]


def test_wrong_types_at_the_top():
    pins = sample()[1]
    assert config_errors([], pins) == ["config: expected an object, got a list"]
    assert config_errors({"version": 1, "site_id": "a", "board": "esp32-devkitc", "zones": {},
                          "outputs": None, "comms": {"mqtt": []}, "timers": [],
                          "supervision": "none"}, pins) == [
        "zones: expected a non-empty list of zones, got an object",
        "outputs: expected an object with siren, flash_light and buzzer, got null",
        "comms.mqtt: expected an object with at least host, got a list",
        "supervision: expected an object, got a string",
        "timers: expected an object, got a list"]
    assert config_errors({}, pins) == [
        "version: missing: expected 1",
        "site_id: missing: expected 1-32 characters of a-z, 0-9, _ and -",
        "board: missing: expected a string of 1-32 characters",
        "zones: missing: expected a non-empty list of zones",
        "outputs: missing: expected an object with siren, flash_light and buzzer",
        "comms: missing: expected an object with mqtt"]


def test_every_problem_is_listed_one_per_line():
    cfg, pins, _ = sample()
    cfg["zones"][0]["type"] = "door"
    cfg["zones"][1]["gpio"] = "13"
    cfg["timers"]["entry_delay_s"] = 90
    cfg["outputs"]["buzzer"] = None
    with raises(ConfigError) as r:
        validate_config(cfg, pins)
    assert r.value.errors == [
        "zones[0].type: 'door' is not one of " + ZONE_TYPES,
        "zones[1].gpio: expected a GPIO number, got a string",
        "outputs.buzzer: expected a GPIO number, got null",
        "timers.entry_delay_s: 90 is above the maximum 45"]
    assert str(r.value) == "\n".join(r.value.errors)


def test_broken_pin_map_is_reported():
    cfg, pins, _ = sample()
    pins["input_only"] = [34, "35"]
    pins["forbidden"][0] = {"gpio": 1}
    assert config_errors(cfg, pins) == [
        "pins.input_only[1]: expected a GPIO number, got a string",
        "pins.forbidden[0].reason: missing: expected a string of 1-200 characters"]
    assert config_errors(cfg, None)[0] == "pins: expected an object, got null"


# ---- bad secrets ------------------------------------------------------------------------------

def test_plain_text_code_and_card_id_are_refused():
    _, _, sec = sample()
    sec["users"][0]["code"] = "1234"
    sec["users"][1]["code"] = 5678
    sec["cards"][0]["uid"] = "04A1B2C3"
    errs = secrets_errors(sec)
    assert errs == [
        "secrets.users[0].code: store the hash, not the code: run tools/hash_secret.py code",
        "secrets.users[1].code: store the hash, not the code: run tools/hash_secret.py code",
        "secrets.cards[0].uid: store the hash, not the card id: run tools/hash_secret.py card"]
    for e in errs:
        assert "1234" not in e and "5678" not in e and "04A1B2C3" not in e


def test_card_of_unknown_user_and_duplicate_ids():
    _, _, sec = sample()
    sec["cards"][0]["user"] = 7
    sec["cards"].append(json.loads(json.dumps(sec["cards"][0])))
    sec["cards"][1]["user"] = 1
    sec["users"][1]["id"] = 1
    assert secrets_errors(sec) == [
        "secrets.users[1].id: 1 is already used by secrets.users[0]",
        "secrets.cards[0].user: no user with id 7 in secrets.users",
        "secrets.cards[1].id: 1 is already used by secrets.cards[0]"]


def test_secret_values_never_appear_in_messages():
    _, _, sec = sample()
    sec["wifi"]["password"] = "hunter2"
    sec["wifi"]["ssid"] = "とても長いネットワーク名ですよ本当に長い"
    sec["site_key"] = "zz" + sec["site_key"][2:]
    sec["users"][0]["code"]["hash"] = "abc"
    sec["users"][0]["code"]["salt"] = "s3cr3t"
    sec["users"][0]["role"] = "hunter3"
    errs = secrets_errors(sec)
    assert errs == [
        "secrets.wifi.ssid: expected a string of 1-32 bytes (UTF-8)",
        "secrets.wifi.password: expected a string of 8-63 characters",
        "secrets.site_key: expected 64 hex characters (a 32-byte key)",
        "secrets.users[0].role: expected one of master, resident, installer, centre",
        "secrets.users[0].code.salt: expected 16-64 hex characters (8-32 bytes)",
        "secrets.users[0].code.hash: expected 64 hex characters (SHA-256)",
        "secrets.users: at least one user must have the role master or resident"]
    text = "\n".join(errs)
    for value in ("hunter2", "hunter3", "s3cr3t", "abc", "zz", "とても"):
        assert value not in text, value


def test_no_resident_and_bad_iterations():
    _, _, sec = sample()
    sec["users"] = [sec["users"][1]]
    sec["users"][0]["code"]["iter"] = 0
    sec["cards"] = []
    assert secrets_errors(sec) == [
        "secrets.users[0].code.iter: 0 is below the minimum %d" % auth.MIN_ITERATIONS,
        "secrets.users: at least one user must have the role master or resident"]


def test_hash_rounds_below_the_floor_are_refused():
    # One round let a 5-digit code fall in 11 s on one core: the floor is what the board can
    # still afford at a keypress (README "secrets.json").
    for n in (1, 16, 500, auth.MIN_ITERATIONS - 1):
        _, _, sec = sample()
        sec["users"][0]["code"]["iter"] = n
        sec["cards"][0]["uid"]["iter"] = n
        assert secrets_errors(sec) == [
            "secrets.users[0].code.iter: %d is below the minimum %d" % (n, auth.MIN_ITERATIONS),
            "secrets.cards[0].uid.iter: %d is below the minimum %d" % (n, auth.MIN_ITERATIONS)]
    _, _, sec = sample()
    for u in sec["users"]:
        assert u["code"]["iter"] >= auth.MIN_ITERATIONS      # the samples are at the floor
    assert auth.MIN_ITERATIONS >= 1000 and auth.ITERATIONS >= auth.MIN_ITERATIONS


def test_broker_password_needs_tls_off_loopback():
    cfg, pins, sec = sample()
    cfg["comms"]["mqtt"]["host"] = "192.168.1.10"
    c = validate_config(cfg, pins)
    assert secrets_errors(sec, c) == [
        "secrets.mqtt: the broker password would cross the network in clear text: set "
        "comms.mqtt.tls to true"]
    cfg["comms"]["mqtt"]["tls"] = True
    cfg["comms"]["mqtt"]["ca_file"] = "/ca.pem"
    validate_secrets(sec, validate_config(cfg, pins))


def test_secrets_wrong_shapes():
    assert secrets_errors(None) == ["secrets: expected an object, got null"]
    assert secrets_errors({"wifi": [], "users": {}, "cards": None, "site_key": 5}) == [
        "secrets.wifi: expected an object with ssid and password, got a list",
        "secrets.site_key: expected 64 hex characters (a 32-byte key)",
        "secrets.users: expected a non-empty list of users, got an object",
        "secrets.cards: expected a list of cards, got null"]


# ---- files ------------------------------------------------------------------------------------

def test_missing_secrets_file():
    cfg, pins, _ = sample()
    missing = tmp_path("no-such-secrets.json")
    with raises(ConfigError) as r:
        load(write("c.json", json.dumps(cfg)), missing, write("p.json", json.dumps(pins)))
    assert r.value.errors == [missing + ": file not found"]


def test_malformed_json_names_the_file_and_position():
    cfg, pins, sec = sample()
    bad = write("broken.json", '{"version": 1,\n')
    with raises(ConfigError) as r:
        load(bad, write("s.json", json.dumps(sec)), write("p.json", json.dumps(pins)))
    if ON_MICROPYTHON:
        # MicroPython's json gives no position.
        assert r.value.errors == [bad + ": not valid JSON: syntax error in JSON"]
    else:
        assert r.value.errors == [bad + ": not valid JSON at line 2, column 1: Expecting property "
                                  "name enclosed in double quotes"]


def test_all_files_problems_together():
    cfg, pins, sec = sample()
    cfg["timers"]["entry_delay_s"] = 90
    sec["users"][0]["code"] = "1234"
    missing = tmp_path("no-pins.json")
    with raises(ConfigError) as r:
        load(write("c.json", json.dumps(cfg)), write("s.json", json.dumps(sec)), missing)
    assert r.value.errors == [
        missing + ": file not found",
        "timers.entry_delay_s: 90 is above the maximum 45",
        "secrets.users[0].code: store the hash, not the code: run tools/hash_secret.py code"]


def test_byte_order_mark_and_bad_utf8():
    errors = []
    assert read_json(write("bom.json", "\ufeff{\"a\": 1}"), errors) == {"a": 1}
    path = tmp_path("latin1.json")
    with open(path, "wb") as f:
        f.write(b'{"a": "\xff"}')
    assert read_json(path, errors) is None
    assert errors == [path + ": not UTF-8 text"]


# ---- nothing but ConfigError, whatever the input ------------------------------------------------

JUNK = (None, True, False, 0, -1, 1.5, "", "x", [], [None], {}, {"x": None})
if ON_MICROPYTHON:
    JUNK = (None, True, 1.5, "x", [None], {"x": None})   # one of each kind: keeps it under 1 s


def _paths(node, prefix, out, depth=0):
    """Every (container, key) in the tree; lists capped at two entries (every zone has the
    same shape) to keep the MicroPython run quick."""
    if isinstance(node, dict):
        for k in sorted(node):
            out.append((prefix, node, k))
            _paths(node[k], prefix + "." + k, out, depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            out.append((prefix, node, i))
            _paths(v, "%s[%d]" % (prefix, i), out, depth + 1)


def _mutations(doc):
    spots = []
    _paths(doc, "", spots)
    for _p, container, key in spots:
        old = container[key]
        for junk in JUNK:
            container[key] = junk
            yield
        container[key] = old
        if isinstance(container, dict):
            del container[key]
            yield
            container[key] = old


def test_any_junk_anywhere_raises_only_config_error():
    cfg, pins, sec = sample()
    cfg["zones"] = cfg["zones"][:2]   # every zone has the same shape: two are enough here
    n = 0
    for _ in _mutations(cfg):
        try:
            validate_config(cfg, pins)
        except ConfigError:
            n += 1
    for _ in _mutations(pins):
        try:
            validate_config(cfg, pins)
        except ConfigError:
            n += 1
    good = validate_config(cfg, pins)
    for _ in _mutations(sec):
        try:
            validate_secrets(sec, good)
        except ConfigError:
            n += 1
    assert n > 300
    for junk in JUNK:
        for f in (lambda: validate_config(junk, junk), lambda: validate_config(cfg, junk),
                  lambda: validate_secrets(junk, junk), lambda: validate_secrets(sec, junk)):
            try:
                f()
            except ConfigError:
                pass


# ---- hostile text in every string field: ConfigError naming the field, never anything else ----

SURROGATE = json.loads('"\\ud800"')      # a lone UTF-16 surrogate: JSON allows the escape
HOSTILE_TEXT = (SURROGATE, "ok" + SURROGATE, json.loads('"\\udfff"') * 40)
JUNK = JUNK + (SURROGATE,)     # the junk-anywhere test above uses it too


def _string_fields(node, path, out):
    """(validator path, container, key) of every string value in a document."""
    if isinstance(node, dict):
        for k in sorted(node):
            p = path + "." + k if path else k
            if isinstance(node[k], str):
                out.append((p, node, k))
            else:
                _string_fields(node[k], p, out)
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            p = "%s[%d]" % (path, i)
            if isinstance(v, str):
                out.append((p, node, i))
            else:
                _string_fields(v, p, out)
    return out


def _names_field(errors, path):
    return [e for e in errors if e.startswith(path + ":")]


def test_hostile_text_in_any_string_field_is_a_config_error_naming_it():
    cfg, pins, sec = sample()
    # disabled, its strings are checked all the same
    cfg["comms"]["landline"] = {"enabled": False, "account": "1234", "centre_number": "0120"}
    cfg["comms"]["mqtt"]["ca_file"] = "/ca.pem"
    good = validate_config(cfg, pins)
    checked = 0
    for doc, prefix, run in ((cfg, "", lambda: validate_config(cfg, pins)),
                             (pins, "pins.", lambda: validate_config(cfg, pins)),
                             (sec, "secrets.", lambda: validate_secrets(sec, good))):
        for path, container, key in _string_fields(doc, "", []):
            old = container[key]
            for text in HOSTILE_TEXT[:1] if ON_MICROPYTHON else HOSTILE_TEXT:
                container[key] = text
                try:
                    run()
                    raise AssertionError("%s%s: %r accepted" % (prefix, path, text))
                except ConfigError as e:
                    assert _names_field(e.errors, prefix + path), (prefix + path, e.errors)
                    str(e).encode("utf-8")        # printable: the installer sees the message
            checked += 1
            container[key] = old
    assert checked > 30, checked


def test_a_lone_surrogate_in_the_ssid_is_a_config_error():
    cfg, pins, sec = sample()
    sec["wifi"]["ssid"] = SURROGATE
    with raises(ConfigError, "secrets.wifi.ssid") as r:
        validate_secrets(sec, validate_config(cfg, pins))
    assert r.value.errors == ["secrets.wifi.ssid: expected a string of 1-32 bytes (UTF-8)"]


def _objects(node, path, out):
    if isinstance(node, dict):
        out.append((path, node))
        for k in sorted(node):
            _objects(node[k], path + "." + k if path else k, out)
    elif isinstance(node, list):
        for i, v in enumerate(node[:2]):
            _objects(v, "%s[%d]" % (path, i), out)
    return out


def test_a_non_string_or_hostile_key_in_any_object_is_a_config_error():
    # MicroPython's json accepts {1: 2}; a JSON escape gives a key with a lone surrogate.
    cfg, pins, sec = sample()
    good = validate_config(cfg, pins)
    n = 0
    for doc, prefix, run in ((cfg, "", lambda: validate_config(cfg, pins)),
                             (pins, "pins", lambda: validate_config(cfg, pins)),
                             (sec, "secrets", lambda: validate_secrets(sec, good))):
        for path, obj in _objects(doc, "", []):
            for key in (1, SURROGATE):
                obj[key] = "x"
                try:
                    run()
                    raise AssertionError("%s %s: key %r accepted" % (prefix, path, key))
                except ConfigError as e:
                    assert [m for m in e.errors if "unknown key" in m], (path, e.errors)
                    str(e).encode("utf-8")
                del obj[key]
                n += 1
    assert n > 20


def test_hostile_keys_are_named_printably():
    cfg, pins, sec = sample()
    cfg["timers"] = {SURROGATE: 1}
    with raises(ConfigError) as r:
        validate_config(cfg, pins)
    assert [e for e in r.value.errors if e.startswith("timers.\\ud800: unknown key")], r.value.errors
    str(r.value).encode("utf-8")
