# The retained state topic and Home Assistant MQTT discovery, built from the validated config.
#
# <prefix>/<site>/state (retained, signed like every frame):
#   {"v":1, "site", "ts", "mode": disarmed|away|stay|partial, "phase": idle|exit_delay|
#    entry_delay|alarm, "state": what Home Assistant's panel shows (ha_state below),
#    "alarm_memory": bool (an alarm not yet reset at the panel: history, not the present),
#    "troubles": [codes, e.g. "ac_loss"], "trouble_labels": [the panel's Japanese text of each,
#    same order], "open_zones": [zone ids], "mac"}
#
# Home Assistant (https://www.home-assistant.io/integrations/alarm_control_panel.mqtt/ and
# .../binary_sensor.mqtt/, .../mqtt/#discovery-messages): one alarm_control_panel per site, one
# binary_sensor per zone and three for the troubles (problem: any trouble; connectivity: the
# report paths to the centre; battery: the standby battery is low), all reading the state topic,
# available while <prefix>/<site>/status says "online". Every payload carries the device block
# (with sw_version) and an origin (the software that made the discovery message).
#   外出 ↔ armed_away / ARM_AWAY      在宅セット ↔ armed_home / ARM_HOME
#   部分セット ↔ armed_custom_bypass / ARM_CUSTOM_BYPASS      解除 ↔ disarmed / DISARM
# HA's state mirrors what the panel is doing (issue 10.9): triggered only while it sounds an
# alarm (siren, or the alarm / fire buzzer), never for the alarm memory after a disarm, a glass
# warble while disarmed (a local warning) or a silent alarm (panic, medical: the panel card may
# be on a tablet by the door); arming during the exit delay, pending during the entry delay or
# the cancel window.
# The code is required (code: REMOTE_CODE: HA does not check it, it passes it on). HA cannot
# sign, so its commands go to <prefix>/<site>/ha/cmd as {"action", "code"}; the controller never
# obeys that topic itself: `tools/receiver.py run --ha-bridge` turns each one into a signed
# command frame (the code still goes through the controller's Authenticator and its lockout).
# Each HA command carries the site's HA token (core.commands.ha_token, from the site key), put
# in the command_template here: the bridge forwards nothing without it.
from mimamori import VERSION
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED, MODE_PARTIAL, MODE_STAY, MODES
from mimamori.core import texts as tx
from mimamori.proto import frame

DISCOVERY_PREFIX = "homeassistant"
HA_STATE = {MODE_DISARMED: "disarmed", MODE_AWAY: "armed_away", MODE_STAY: "armed_home",
            MODE_PARTIAL: "armed_custom_bypass"}
HA_ACTIONS = {"ARM_AWAY": ("arm", MODE_AWAY), "ARM_HOME": ("arm", MODE_STAY),
              "ARM_CUSTOM_BYPASS": ("arm", MODE_PARTIAL), "DISARM": ("disarm", None)}
# zone type (core/vocab.py ZONE_TYPES) -> HA binary_sensor device_class
DEVICE_CLASS = {"magnet": "opening", "glass": "safety", "fire": "smoke", "gas": "gas",
                "vibration": "vibration", "space": "motion", "panic": "safety",
                "medical": "safety", "cancel": "safety", "tamper": "tamper",
                "case_tamper": "tamper"}
ORIGIN = {"name": "mimamori", "sw_version": VERSION}

# Trouble entities: (object id, device_class, name, template). Codes: core/troubles.py CODE.
# connectivity is ON while the report paths are fine (HA: on means connected); battery is ON
# while the battery is low (HA: on means low).
_PATH_CODES = ("comm_trouble", "comm_silent", "line_fault")
TROUBLE_SENSORS = (
    ("problem", "problem", tx.HA_PROBLEM,
     "{{ 'ON' if value_json.troubles else 'OFF' }}"),
    ("connectivity", "connectivity", tx.HA_PATHS,
     "{{ 'OFF' if (value_json.troubles | select('in', %r) | list) else 'ON' }}" % (
         list(_PATH_CODES),)),
    ("battery", "battery", tx.HA_BATTERY,
     "{{ 'ON' if 'low_battery' in value_json.troubles else 'OFF' }}"),
)


# The controller decides HA's state (ha_state) and sends it as `state`: the template only reads it.
_STATE_TEMPLATE = "{{ value_json.state }}"


def ha_state(mode, sounding, exit_delay=False, entry_delay=False):
    """Home Assistant's alarm_control_panel state for what the panel is doing now."""
    if sounding:
        return "triggered"
    if exit_delay:
        return "arming"
    if entry_delay:
        return "pending"
    return HA_STATE[mode]


def _topic(prefix, site, name):
    return "%s/%s/%s" % (prefix, site, name)


def state_payload(key, site, mode, phase="idle", alarm_memory=False, troubles=(), open_zones=(),
                  ts=None, state=None, trouble_labels=None):
    """Bytes for the retained state topic (Delivery.publish_state). `troubles`: codes;
    `trouble_labels`: their panel text, same order; `state`: ha_state() (default: the mode's)."""
    if mode not in MODES:
        raise ValueError("mode")
    troubles = list(troubles)
    labels = list(trouble_labels) if trouble_labels is not None else list(troubles)
    if len(labels) != len(troubles):
        raise ValueError("trouble_labels")
    return frame.sign(key, {"v": frame.V, "site": site, "ts": ts, "mode": mode, "phase": phase,
                            "state": state or HA_STATE[mode],
                            "alarm_memory": bool(alarm_memory), "troubles": troubles,
                            "trouble_labels": labels, "open_zones": sorted(open_zones)})


def _device(site, model="mimamori"):
    return {"identifiers": ["mimamori-" + site], "name": tx.HA_DEVICE + site,
            "manufacturer": "mimamori", "model": model, "sw_version": VERSION}


def _availability(prefix, site):
    return {"availability_topic": _topic(prefix, site, "status"),
            "payload_available": "online", "payload_not_available": "offline"}


def alarm_panel(config, ha_token=None):
    """(topic, payload dict) for the site's alarm_control_panel. ha_token: the bridge's check."""
    site = config["site_id"]
    prefix = config["comms"]["mqtt"]["topic_prefix"]
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
        "origin": ORIGIN,
    }
    p.update(_availability(prefix, site))
    return "%s/alarm_control_panel/%s/config" % (DISCOVERY_PREFIX, site), p


def zone_sensor(config, zone):
    site = config["site_id"]
    prefix = config["comms"]["mqtt"]["topic_prefix"]
    zid = zone["id"]
    p = {
        "name": "%s (%s)" % (zone["name"], tx.ZONE_TYPE_LABELS.get(zone["type"], zone["type"])),
        "unique_id": "mimamori_%s_zone%d" % (site, zid),
        "state_topic": _topic(prefix, site, "state"),
        "value_template": "{{ 'ON' if %d in value_json.open_zones else 'OFF' }}" % zid,
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": DEVICE_CLASS.get(zone["type"], "safety"),
        "qos": 1,
        "device": _device(site),
        "origin": ORIGIN,
    }
    p.update(_availability(prefix, site))
    return "%s/binary_sensor/%s/zone%d/config" % (DISCOVERY_PREFIX, site, zid), p


def trouble_sensor(config, which):
    """(topic, payload dict) of one trouble entity (TROUBLE_SENSORS)."""
    site = config["site_id"]
    prefix = config["comms"]["mqtt"]["topic_prefix"]
    for obj, cls, name, template in TROUBLE_SENSORS:
        if obj == which:
            break
    else:
        raise ValueError(which)
    state = _topic(prefix, site, "state")
    p = {
        "name": name,
        "unique_id": "mimamori_%s_%s" % (site, obj),
        "state_topic": state,
        "value_template": template,
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": cls,
        "entity_category": "diagnostic",
        "qos": 1,
        "device": _device(site),
        "origin": ORIGIN,
    }
    if obj == "problem":        # the labels as an attribute: what the panel says
        p["json_attributes_topic"] = state
        p["json_attributes_template"] = ("{{ {'troubles': value_json.trouble_labels, "
                                         "'codes': value_json.troubles} | tojson }}")
    p.update(_availability(prefix, site))
    return "%s/binary_sensor/%s/%s/config" % (DISCOVERY_PREFIX, site, obj), p


def iter_payloads(config, ha_token=None):
    """Every discovery (topic, payload bytes), one at a time: built when a session starts and
    dropped once sent, so none of them is kept in RAM between sessions."""
    import json
    topic, p = alarm_panel(config, ha_token)
    yield topic, json.dumps(p).encode()
    for z in config["zones"]:
        topic, p = zone_sensor(config, z)
        yield topic, json.dumps(p).encode()
    for t in TROUBLE_SENSORS:
        topic, p = trouble_sensor(config, t[0])
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
