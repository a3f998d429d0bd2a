# config.json, secrets.json and the board's pins.json: load, validate completely, fill defaults.
#
# A security panel that boots with a half-understood config is worse than one that refuses to
# boot, so every problem is collected (not just the first) and reported as
# "<json path>: <what was expected>", one per line. Host installer tools run the same code on
# CPython before they write anything to a board, so this module is plain Python: no machine, no
# re. Secrets are never echoed: a message names the field and the rule, never the value.
#
# MicroPython dicts do not keep insertion order, so every walk below follows fixed key tuples
# (and sorts unknown keys): the same input gives the same messages in the same order on both.
#
# This module is the entry point (load, validate_config, validate_secrets, ConfigError, warnings)
# and checks the top level, outputs, supervision and timers; the rest is split by what it
# validates: config_pins.py (the board's pin map and its rules), config_zones.py, config_comms.py,
# config_secrets.py, all on the shared checker in config_check.py. The words (modes, zone types,
# roles) come from core/vocab.py.
import json
import os

from mimamori.store.config_bus import card_reader, i2c
from mimamori.store.config_check import REQUIRED, Check, ConfigError, is_int, kind, only
from mimamori.store.config_comms import comms
from mimamori.store.config_bus import i2c
from mimamori.store.config_pins import PinUse, Pins, display, keypad
from mimamori.store.config_secrets import Secrets
from mimamori.store.config_zones import zones

VERSION = 1
# name: (default, minimum, maximum). Units are in the names.
TIMERS = (
    ("entry_delay_s", 30, 0, 45),
    ("exit_delay_s", 60, 0, 255),
    ("cancel_window_s", 30, 5, 120),
    ("siren_cutoff_min", 5, 2, 15),
    ("life_monitor_h", 12, 1, 72),
    ("comm_check_h", 36, 1, 36),
    ("first_test_after_boot_min", 10, 1, 1440),
    ("fault_trouble_h", 24, 1, 168),     # a zone open this long while disarmed: sensor trouble
    ("line_cut_debounce_s", 10, 2, 600),
    ("forgot_arm_grace_min", 15, 1, 240),
    ("self_check_days", 30, 7, 31),
    ("mitsumete_min", 30, 5, 240),       # みつめてコール: the watch timer a resident starts
    ("mitsumete_warn_s", 60, 10, 240),   # ... its chime this long before it runs out
    ("shirasete_answer_min", 10, 1, 60),  # しらせてコール: no answer by then is reported (102)
)


def default_timers(**changes):
    """The `timers` section as the validator fills it when the installer sets none (tests and
    tools build a core or a supervisor from it), with `changes` applied."""
    out = {}
    for name, default, _lo, _hi in TIMERS:
        out[name] = default
    out.update(changes)
    return out


OUTPUTS_REQUIRED = ("siren", "flash_light", "buzzer")
OUTPUTS_OPTIONAL = ("led_away", "led_stay", "led_partial", "led_trouble", "led_memory")

_SITE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"


class _Config(PinUse):
    def __init__(self, cfg, pins, errors):
        PinUse.__init__(self, Check(errors), pins)
        self.out = self.build(cfg)

    def build(self, cfg):
        c = self.c
        known = ("version", "site_id", "board", "utc_offset_min", "zones", "timers", "comms",
                 "outputs", "supervision", "strapping_override", "i2c", "card_reader",
                 "keypad", "display")
        if c.obj("", cfg, known) is None:
            return None
        out = {}
        self.strap_override = self.strapping_override(cfg.get("strapping_override", REQUIRED))
        out["strapping_override"] = self.strap_override
        v = cfg.get("version", REQUIRED)
        if v is REQUIRED:
            c.bad("version", "missing: expected %d" % VERSION)
        elif not is_int(v) or v != VERSION:
            c.bad("version", "expected %d, got %s" % (VERSION, v if is_int(v) else kind(v)))
        out["version"] = VERSION
        site = cfg.get("site_id", REQUIRED)
        rule = "1-32 characters of a-z, 0-9, _ and -"
        if site is REQUIRED:
            c.bad("site_id", "missing: expected " + rule)
        elif not isinstance(site, str):
            c.bad("site_id", "expected %s, got %s" % (rule, kind(site)))
        elif not 1 <= len(site) <= 32 or not only(site, _SITE_CHARS):
            c.bad("site_id", "'%s' must be %s" % (site, rule))
        out["site_id"] = site
        board = c.str("board", cfg.get("board", REQUIRED), 1, 32)
        if board is not None and self.pins is not None and board != self.pins.name:
            c.bad("board", "'%s' does not match the pin map, which is for %s" % (board, self.pins.name))
        out["board"] = board
        out["utc_offset_min"] = c.int("utc_offset_min", cfg.get("utc_offset_min", REQUIRED),
                                      -720, 840, default=540)
        out["zones"] = zones(self, cfg.get("zones", REQUIRED))
        out["outputs"] = self.outputs(cfg.get("outputs", REQUIRED))
        out["comms"] = comms(self, cfg.get("comms", REQUIRED))
        out["supervision"] = self.supervision(cfg.get("supervision", {}))
        out["timers"] = self.timers(cfg.get("timers", {}))
        out["i2c"] = i2c(self, cfg.get("i2c", REQUIRED))
        out["card_reader"] = card_reader(self, cfg.get("card_reader", REQUIRED), out["i2c"])
        out["keypad"] = keypad(self, cfg.get("keypad", REQUIRED))      # the panel (issue 14)
        out["display"] = display(self, cfg.get("display", REQUIRED), out["i2c"])
        return out

    def outputs(self, v):
        c = self.c
        if c.obj("outputs", v, OUTPUTS_REQUIRED + OUTPUTS_OPTIONAL,
                 "an object with siren, flash_light and buzzer") is None:
            return None
        out = {}
        for k in OUTPUTS_REQUIRED:
            out[k] = self.pin("outputs." + k, v.get(k, REQUIRED), "out")
        for k in OUTPUTS_OPTIONAL:
            out[k] = self.pin("outputs." + k, v.get(k, REQUIRED), "out", default=None)
        return out

    def supervision(self, v):
        c = self.c
        p = "supervision"
        out = {"line_voltage": None, "battery": None, "ac_sense_gpio": None}
        if c.obj(p, v, ("line_voltage", "battery", "ac_sense_gpio")) is None:
            return out
        lv = v.get("line_voltage", REQUIRED)
        if lv is not REQUIRED and c.obj(p + ".line_voltage", lv, ("gpio", "cut_below_mv")) is not None:
            q = p + ".line_voltage"
            out["line_voltage"] = {
                "gpio": self.pin(q + ".gpio", lv.get("gpio", REQUIRED), "adc"),
                "cut_below_mv": c.int(q + ".cut_below_mv", lv.get("cut_below_mv", REQUIRED),
                                      500, 60000, default=3000),
            }
        bat = v.get("battery", REQUIRED)
        if bat is not REQUIRED and c.obj(p + ".battery", bat, ("gpio", "low_mv", "ok_mv")) is not None:
            q = p + ".battery"
            low = c.int(q + ".low_mv", bat.get("low_mv", REQUIRED), 1000, 60000, default=11500)
            ok = c.int(q + ".ok_mv", bat.get("ok_mv", REQUIRED), 1000, 60000, default=12200)
            if low is not None and ok is not None and ok <= low:
                # Without a gap the trouble would flap on and off at the threshold.
                c.bad(q + ".ok_mv", "%d must be above low_mv %d (hysteresis)" % (ok, low))
            out["battery"] = {"gpio": self.pin(q + ".gpio", bat.get("gpio", REQUIRED), "adc"),
                              "low_mv": low, "ok_mv": ok}
        out["ac_sense_gpio"] = self.pin(p + ".ac_sense_gpio", v.get("ac_sense_gpio", REQUIRED),
                                        "in", default=None)
        return out

    def timers(self, v):
        c = self.c
        out = {}
        known = tuple([t[0] for t in TIMERS])
        if c.obj("timers", v, known) is None:
            v = {}
        for name, default, lo, hi in TIMERS:
            out[name] = c.int("timers." + name, v.get(name, REQUIRED), lo, hi, default=default)
        return out


def validate_pins(pins_dict):
    errors = []
    Pins(pins_dict, Check(errors))
    if errors:
        raise ConfigError(errors)
    return pins_dict


def validate_config(cfg_dict, pins_dict):
    """The config with every default filled in, or ConfigError listing every problem (the pin
    map's included)."""
    errors = []
    pins = Pins(pins_dict, Check(errors))
    out = _Config(cfg_dict, pins, errors).out
    if errors:
        raise ConfigError(errors)
    return out


def validate_secrets(secrets_dict, config_dict=None):
    """Secrets with defaults filled in, or ConfigError. `config_dict` (validated) enables the
    cross-checks: broker credentials only over TLS or loopback."""
    errors = []
    out = Secrets(secrets_dict, config_dict, errors).out
    if errors:
        raise ConfigError(errors)
    return out


def warnings(config):
    """Advice on a validated config, not errors (it boots and guards): "<path>: <why>" lines,
    shown by boot and the installer tools."""
    from mimamori.proto.dns import is_ipv4
    out = []
    host = config["comms"]["mqtt"]["host"]
    if not is_ipv4(host):
        out.append("comms.mqtt.host: '%s' is a host name: the controller asks DNS for it (in "
                   "the background, the loop never waits), so a DNS outage or a wrong answer "
                   "keeps reports off MQTT; an IP address needs no DNS (with TLS, put the "
                   "certificate's name in comms.mqtt.tls_name)" % host)
    return out


def _exists(path):
    # Asked of the directory rather than read from the errno: ENOENT is 2 on the ESP32 but 44
    # under Emscripten (the WebAssembly test interpreter), whatever its errno module says.
    cut = path.rfind("/")
    folder, name = (path[:cut] or "/", path[cut + 1:]) if cut >= 0 else (".", path)
    try:
        return name in os.listdir(folder)
    except OSError:
        return False


def read_json(path, errors):
    """The parsed file, or None with a message naming the file (and the position, where the
    parser gives one: CPython does, MicroPython's json does not)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        if not _exists(path):
            errors.append("%s: file not found" % path)
        else:
            errors.append("%s: cannot be read (OSError %s)" % (path, e.args[0] if e.args else "?"))
        return None
    try:
        text = raw.decode("utf-8")
    except Exception:  # noqa: BLE001 - UnicodeError on CPython, the same or ValueError here
        errors.append("%s: not UTF-8 text" % path)
        return None
    if text[:1] == "\ufeff":
        text = text[1:]   # a byte-order mark from a Windows editor is harmless: skip it
    try:
        return json.loads(text)
    except Exception as e:  # noqa: BLE001 - ValueError; also RecursionError on deep nesting
        line = getattr(e, "lineno", None)
        if line is not None:
            errors.append("%s: not valid JSON at line %d, column %d: %s" % (
                path, line, e.colno, e.msg))
        else:
            errors.append("%s: not valid JSON: %s" % (path, e))
        return None


def load(config_path="config.json", secrets_path="secrets.json", pins_path="pins.json"):
    """(config, secrets), validated with defaults filled in, or ConfigError naming every
    problem in all three files."""
    errors = []
    pins_raw = read_json(pins_path, errors)
    cfg_raw = read_json(config_path, errors)
    sec_raw = read_json(secrets_path, errors)
    pins = Pins(pins_raw, Check(errors)) if pins_raw is not None else None
    config = _Config(cfg_raw, pins, errors).out if cfg_raw is not None else None
    secrets = Secrets(sec_raw, config, errors).out if sec_raw is not None else None
    if errors:
        raise ConfigError(errors)
    return config, secrets
