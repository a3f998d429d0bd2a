# Strapping pins (issue 10.12): a pin whose level at reset picks the boot mode or the flash
# voltage is refused for zones and outputs, unless the installer lists it in strapping_override
# and the board's pins.json says that use cannot stop the board booting. Runs on CPython and on
# the real MicroPython interpreter.
import json
import sys

from check import raises
from mimamori.store.config import ConfigError, validate_config

RUNS_ON_MICROPYTHON = True

ON_MICROPYTHON = sys.implementation.name == "micropython"
DEVKITC = "boards/esp32-devkitc/"
S3 = "boards/esp32s3-devkitc/"


def repo_json(rel):
    if ON_MICROPYTHON:
        path = rel
    else:
        import os
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), rel)
    with open(path, encoding="utf-8") as f:
        return json.loads(f.read())


def sample(board=DEVKITC):
    return repo_json(board + "config.sample.json"), repo_json(board + "pins.json")


def errors(cfg, pins):
    with raises(ConfigError) as r:
        validate_config(cfg, pins)
    return r.value.errors


def used_pins(c):
    """GPIO -> use ("in"/"out") of everything a validated config wires."""
    out = {}
    for z in c["zones"]:
        out[z["gpio"]] = "in"
    for k, v in c["outputs"].items():
        if v is not None:
            out[v] = "out"
    ll = c["comms"]["landline"]
    if ll["uart"]:
        out[ll["uart"]["tx"]] = "out"
        out[ll["uart"]["rx"]] = "in"
    sup = c["supervision"]
    for k in ("line_voltage", "battery"):
        if sup[k]:
            out[sup[k]["gpio"]] = "in"
    if sup["ac_sense_gpio"] is not None:
        out[sup["ac_sense_gpio"]] = "in"
    return out


def test_flash_light_on_gpio12_and_the_landline_tx_on_gpio0_are_refused():
    cfg, pins = sample()
    cfg["outputs"]["flash_light"] = 12                  # MTDI: high at reset = 1.8 V flash
    cfg["outputs"]["led_trouble"] = 0                   # BOOT: a load here stops the boot
    e = errors(cfg, pins)
    assert len(e) == 2
    assert e[0].startswith("outputs.flash_light: GPIO 12 is a strapping pin on esp32-devkitc "
                           "(MTDI") and e[0].endswith("use another pin")
    assert e[1].startswith("outputs.led_trouble: GPIO 0 is a strapping pin on esp32-devkitc")


def test_a_zone_on_a_strapping_pin_is_refused_too():
    cfg, pins = sample()
    cfg["zones"][0]["gpio"] = 0                         # a closed contact = download mode
    e = errors(cfg, pins)
    assert e[0].startswith("zones[0].gpio: GPIO 0 is a strapping pin on esp32-devkitc")
    cfg, pins = sample(S3)
    cfg["outputs"]["siren"] = 45                        # VDD_SPI
    e = errors(cfg, pins)
    assert e == [e[0]] and e[0].startswith("outputs.siren: GPIO 45 is a strapping pin on "
                                           "esp32s3-devkitc")


def test_the_override_allows_only_what_the_board_says_is_safe():
    cfg, pins = sample()
    del cfg["strapping_override"]                       # the sample's own overrides removed
    e = errors(cfg, pins)
    assert [m.split(":")[0] for m in e] == ["zones[1].gpio", "zones[2].gpio", "outputs.buzzer"]
    assert "or list it in strapping_override" in e[0]
    cfg, pins = sample()
    cfg["outputs"]["led_trouble"] = 5                   # pull-up at reset: on during reset
    cfg["zones"][1]["gpio"] = 16
    assert errors(cfg, pins) == [
        "outputs.led_trouble: GPIO 5 is a strapping pin on esp32-devkitc (internal pull-up; "
        "selects the SDIO slave timing only: an output here is on during reset): "
        "strapping_override cannot allow it as an output"]
    cfg, pins = sample()
    cfg["strapping_override"] = [2, 5, 15, 12, 4]
    assert errors(cfg, pins) == [
        "strapping_override[4]: GPIO 4 is not a strapping pin on esp32-devkitc"]
    cfg["strapping_override"] = [2, 5, 15, 12]
    cfg["outputs"]["flash_light"] = 12
    cfg["zones"][1]["gpio"] = 14                        # 5 freed: 14 was the flash light
    assert errors(cfg, pins)[0].endswith("strapping_override cannot allow it as an output")


def test_both_samples_keep_off_strapping_pins_or_use_them_as_their_board_allows():
    for board in (DEVKITC, S3):
        cfg, pins = sample(board)
        c = validate_config(cfg, pins)
        straps = dict((s["gpio"], s.get("override", [])) for s in pins["strapping"])
        for gpio, use in used_pins(c).items():
            if gpio in straps:
                assert gpio in c["strapping_override"] and use in straps[gpio], (board, gpio)
        never = [g for g in straps if not straps[g]]    # boot mode, flash voltage
        assert never == ([0, 12] if board == DEVKITC else [0, 45])
        for gpio in never:
            assert gpio not in used_pins(c), (board, gpio)


# ---- the sample secrets (issue 10.12) ---------------------------------------------------------

def test_the_shipped_sample_secrets_are_recognised():
    # If the samples are regenerated, core/samples.py must follow: this fails until it does.
    from mimamori.core.samples import sample_secrets
    from mimamori.store.config import validate_secrets
    for board in (DEVKITC, S3):
        sec = validate_secrets(repo_json(board + "secrets.sample.json"))
        assert sample_secrets(sec) == ["site_key", "code of user 1", "code of user 2", "card 1"]
    sec = repo_json(DEVKITC + "secrets.sample.json")
    sec["site_key"] = "00112233445566778899aabbccddeeff" * 2
    sec["users"] = sec["users"][1:]
    sec["users"][0]["code"]["hash"] = "ab" * 32
    sec["cards"] = []
    assert sample_secrets(sec) == []


# ---- input-only pins and pulls: the board's rule, in pins.json only (issue 11.5) --------------

def test_an_s3_zone_on_gpio38_with_a_pull_up_validates_and_its_pull_up_works():
    # GPIO 38 is input-only without pulls on the ESP32 but an ordinary pad on the ESP32-S3. The
    # validator knows that from the board's pins.json; the zone driver must not refuse it at
    # boot with the ESP32's rule.
    import machine
    from mimamori.io.inputs import ZoneInputs
    cfg, pins = sample(S3)
    cfg["zones"][0]["gpio"] = 38                        # 玄関ドア, NC, pull left to its default
    c = validate_config(cfg, pins)
    assert c["zones"][0]["gpio"] == 38 and c["zones"][0]["pull"] == "up"
    try:
        machine.reset_all("esp32s3")
        for z in c["zones"]:
            machine.Pin(z["gpio"]).drive(0 if z["wiring"] == "NC" else 1)   # all quiet
        machine.Pin(38).release()                       # the door's wire cut: the pull-up wins
        zones = ZoneInputs(c["zones"], machine)
        assert zones.open_zones() == [0]
        zones.deinit()
    finally:
        machine.reset_all()


def test_a_pull_on_an_esp32_input_only_pin_is_refused_by_the_validator():
    cfg, pins = sample()
    assert cfg["zones"][3]["gpio"] == 34 and cfg["zones"][3]["pull"] == "none"
    cfg["zones"][3]["pull"] = "up"
    assert errors(cfg, pins) == [
        "zones[3].pull: GPIO 34 has no internal pull resistor on esp32-devkitc: set \"none\" "
        "and fit an external resistor"]


def test_an_s3_site_with_a_zone_on_gpio38_boots_on_the_virtual_board():
    if ON_MICROPYTHON:
        return          # the virtual board runs the whole App on CPython only
    import os
    import tempfile
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "tools"))
    import hostclock
    import machine
    import vboard
    from mimamori.store.config import validate_secrets
    hostclock.use_virtual(0)
    cfg, pins = sample(S3)
    cfg["zones"][0]["gpio"] = 38
    cfg["comms"]["mqtt"]["port"] = 1                    # no broker: reports wait in the journal
    config = validate_config(cfg, pins)
    secrets = validate_secrets(vboard.own_secrets(repo_json(S3 + "secrets.sample.json")), config)
    try:
        with tempfile.TemporaryDirectory() as flash:
            board = vboard.VirtualBoard(config, secrets, flash, log=lambda m: None)
            assert machine.chip == "esp32s3"
            board.run(1000)
            assert not board.app.core.zones[0].open
            board.set_zone(1, True)                     # 玄関ドア opens
            board.run(1000)
            assert board.app.core.zones[0].open
    finally:
        machine.reset_all()
