# The retained state topic and Home Assistant MQTT discovery, built from the validated config.
#
# <prefix>/<site>/state (retained, signed like every frame):
#   {"v":1, "site", "ts", "mode": disarmed|away|stay|partial, "phase": idle|exit_delay|
#    entry_delay|alarm, "alarm": bool, "troubles": [names], "open_zones": [zone ids], "mac"}
#
# Home Assistant (https://www.home-assistant.io/integrations/alarm_control_panel.mqtt/ and
# .../binary_sensor.mqtt/): one alarm_control_panel per site and one binary_sensor per zone,
# all reading the state topic, available while <prefix>/<site>/status says "online".
#   外出 ↔ armed_away / ARM_AWAY      在宅セット ↔ armed_home / ARM_HOME
#   部分セット ↔ armed_custom_bypass / ARM_CUSTOM_BYPASS      解除 ↔ disarmed / DISARM
# The code is required (code: REMOTE_CODE: HA does not check it, it passes it on). HA cannot
# sign, so its commands go to <prefix>/<site>/ha/cmd as {"action", "code"}; the controller never
# obeys that topic itself: `tools/receiver.py run --ha-bridge` turns each one into a signed
# command frame (the code still goes through the controller's Authenticator and its lockout).
# Each HA command carries the site's HA token (core.commands.ha_token, from the site key), put
# in the command_template here: the bridge forwards nothing without it.
from mimamori.proto import frame

DISCOVERY_PREFIX = "homeassistant"
MODES = ("disarmed", "away", "stay", "partial")
HA_STATE = {"disarmed": "disarmed", "away": "armed_away", "stay": "armed_home",
            "partial": "armed_custom_bypass"}
HA_ACTIONS = {"ARM_AWAY": ("arm", "away"), "ARM_HOME": ("arm", "stay"),
              "ARM_CUSTOM_BYPASS": ("arm", "partial"), "DISARM": ("disarm", None)}
# zone type (store/config.py ZONE_TYPES) -> HA binary_sensor device_class
DEVICE_CLASS = {"magnet": "opening", "glass": "safety", "fire": "smoke", "gas": "gas",
                "vibration": "vibration", "space": "motion", "panic": "safety",
                "medical": "safety", "cancel": "safety", "tamper": "tamper"}
ZONE_TYPE_LABELS = {"magnet": "マグネット", "glass": "ガラス破壊", "fire": "火災", "gas": "ガス",
                    "vibration": "振動", "space": "空間", "panic": "非常", "medical": "救急",
                    "cancel": "キャンセル", "tamper": "いたずら"}

_STATE_TEMPLATE = (
    "{% if value_json.alarm %}triggered"
    "{% elif value_json.phase == 'exit_delay' %}arming"
    "{% elif value_json.phase == 'entry_delay' %}pending"
    "{% else %}{{ {'disarmed': 'disarmed', 'away': 'armed_away', 'stay': 'armed_home', "
    "'partial': 'armed_custom_bypass'}[value_json.mode] }}{% endif %}")


def _topic(prefix, site, name):
    return "%s/%s/%s" % (prefix, site, name)


def state_payload(key, site, mode, phase="idle", alarm=False, troubles=(), open_zones=(),
                  ts=None):
    """Bytes for the retained state topic (Delivery.publish_state)."""
    if mode not in MODES:
        raise ValueError("mode")
    return frame.sign(key, {"v": frame.V, "site": site, "ts": ts, "mode": mode, "phase": phase,
                            "alarm": bool(alarm), "troubles": list(troubles),
                            "open_zones": sorted(open_zones)})


def _device(site, model="mimamori"):
    return {"identifiers": ["mimamori-" + site], "name": "見守り " + site,
            "manufacturer": "mimamori", "model": model}


def _availability(prefix, site):
    return {"availability_topic": _topic(prefix, site, "status"),
            "payload_available": "online", "payload_not_available": "offline"}


def alarm_panel(config, ha_token=None):
    """(topic, payload dict) for the site's alarm_control_panel. ha_token: the bridge's check."""
    site = config["site_id"]
    prefix = config["comms"]["mqtt"].get("topic_prefix", "mimamori/v1")
    p = {
        "name": None,     # the entity takes the device's name
        "unique_id": "mimamori_%s_alarm" % site,
        "state_topic": _topic(prefix, site, "state"),
        "value_template": _STATE_TEMPLATE,
        "command_topic": _topic(prefix, site, "ha/cmd"),
        "command_template": '{"action": "{{ action }}", "code": "{{ code }}"%s}' % (
            ', "token": "%s"' % ha_token if ha_token else ""),
        "code": "REMOTE_CODE",
        "code_arm_required": True,
        "code_disarm_required": True,
        "supported_features": ["arm_away", "arm_home", "arm_custom_bypass"],
        "payload_arm_away": "ARM_AWAY",
        "payload_arm_home": "ARM_HOME",
        "payload_arm_custom_bypass": "ARM_CUSTOM_BYPASS",
        "payload_disarm": "DISARM",
        "json_attributes_topic": _topic(prefix, site, "state"),
        "qos": 1,
        "device": _device(site),
    }
    p.update(_availability(prefix, site))
    return "%s/alarm_control_panel/%s/config" % (DISCOVERY_PREFIX, site), p


def zone_sensor(config, zone):
    site = config["site_id"]
    prefix = config["comms"]["mqtt"].get("topic_prefix", "mimamori/v1")
    zid = zone["id"]
    p = {
        "name": "%s (%s)" % (zone["name"], ZONE_TYPE_LABELS.get(zone["type"], zone["type"])),
        "unique_id": "mimamori_%s_zone%d" % (site, zid),
        "state_topic": _topic(prefix, site, "state"),
        "value_template": "{{ 'ON' if %d in value_json.open_zones else 'OFF' }}" % zid,
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": DEVICE_CLASS.get(zone["type"], "safety"),
        "qos": 1,
        "device": _device(site),
    }
    p.update(_availability(prefix, site))
    return "%s/binary_sensor/%s/zone%d/config" % (DISCOVERY_PREFIX, site, zid), p


def iter_payloads(config, ha_token=None):
    """Every discovery (topic, payload bytes), one at a time: built when a session starts and
    dropped once sent, so none of them is kept in RAM between sessions."""
    import json
    topic, p = alarm_panel(config, ha_token)
    yield topic, json.dumps(p).encode()
    for z in config.get("zones", ()):
        topic, p = zone_sensor(config, z)
        yield topic, json.dumps(p).encode()


def payloads(config):
    """All of iter_payloads() as a list (tests, tools)."""
    return list(iter_payloads(config))


def ha_command(payload):
    """Centre side (the HA bridge): HA's {"action", "code"} -> (command name, args, code), or
    None if it is not one of ours."""
    import json
    try:
        d = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(d, dict) or d.get("action") not in HA_ACTIONS:
        return None
    name, mode = HA_ACTIONS[d["action"]]
    code = d.get("code")
    return name, ({"mode": mode} if mode else {}), (str(code) if code not in (None, "") else None)
