# Home Assistant discovery payloads and the retained state, checked against the fields HA
# documents for MQTT alarm_control_panel and binary_sensor (home-assistant.io/integrations/
# alarm_control_panel.mqtt and binary_sensor.mqtt, "Configuration Variables"). Runs on CPython
# and on the real MicroPython interpreter.
import json

from mimamori import VERSION
from mimamori.comms import discovery as DS
from mimamori.proto import frame as F

RUNS_ON_MICROPYTHON = True

# Documented configuration variables (HA MQTT integration docs).
COMMON = {"availability", "availability_mode", "availability_template", "availability_topic",
          "device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
          "json_attributes_template", "json_attributes_topic", "name", "object_id",
          "default_entity_id", "payload_available", "payload_not_available", "platform", "qos",
          "unique_id", "value_template",
          # home-assistant.io/integrations/mqtt/#discovery-messages: "origin" (abbreviated "o")
          # names the software that sent the discovery payload: name required, sw_version and
          # support_url optional.
          "origin"}
ORIGIN_FIELDS = {"name", "sw_version", "support_url"}
ALARM_FIELDS = COMMON | {"code", "code_arm_required", "code_disarm_required",
                         "code_trigger_required", "command_template", "command_topic",
                         "payload_arm_away", "payload_arm_custom_bypass", "payload_arm_home",
                         "payload_arm_night", "payload_arm_vacation", "payload_disarm",
                         "payload_trigger", "retain", "state_topic", "supported_features"}
ALARM_REQUIRED = {"command_topic", "state_topic"}
ALARM_FEATURES = {"arm_home", "arm_away", "arm_night", "arm_vacation", "arm_custom_bypass",
                  "trigger"}
ALARM_STATES = {"disarmed", "armed_home", "armed_away", "armed_night", "armed_vacation",
                "armed_custom_bypass", "pending", "triggered", "arming", "disarming"}
SENSOR_FIELDS = COMMON | {"device_class", "expire_after", "force_update", "off_delay",
                          "payload_off", "payload_on", "state_topic"}
SENSOR_CLASSES = {"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity",
                  "door", "garage_door", "gas", "heat", "light", "lock", "moisture", "motion",
                  "moving", "occupancy", "opening", "plug", "power", "presence", "problem",
                  "running", "safety", "smoke", "sound", "tamper", "update", "vibration",
                  "window"}
DEVICE_FIELDS = {"configuration_url", "connections", "hw_version", "identifiers", "manufacturer",
                 "model", "model_id", "name", "serial_number", "suggested_area", "sw_version",
                 "via_device"}

CONFIG = {"site_id": "site-001",
          "comms": {"mqtt": {"host": "10.0.0.2", "port": 8883, "tls": True, "keepalive_s": 60,
                             "ack_deadline_s": 20, "topic_prefix": "mimamori/v1"}},
          "zones": [{"id": 1, "name": "玄関", "type": "magnet"},
                    {"id": 2, "name": "居間", "type": "space"},
                    {"id": 3, "name": "台所", "type": "fire"},
                    {"id": 4, "name": "台所", "type": "gas"},
                    {"id": 5, "name": "金庫", "type": "vibration"},
                    {"id": 6, "name": "寝室", "type": "panic"},
                    {"id": 7, "name": "本体", "type": "tamper"},
                    {"id": 8, "name": "居間の窓", "type": "glass"}]}


def test_alarm_panel_fields_follow_the_documented_schema():
    topic, p = DS.alarm_panel(CONFIG)
    assert topic == "homeassistant/alarm_control_panel/site-001/config"
    assert set(p) <= ALARM_FIELDS, set(p) - ALARM_FIELDS
    assert ALARM_REQUIRED <= set(p)
    assert set(p["supported_features"]) == {"arm_away", "arm_home", "arm_custom_bypass"}
    assert set(p["supported_features"]) <= ALARM_FEATURES
    assert p["code"] == "REMOTE_CODE" and p["code_arm_required"] and p["code_disarm_required"]
    assert (p["payload_arm_away"], p["payload_arm_home"], p["payload_arm_custom_bypass"],
            p["payload_disarm"]) == ("ARM_AWAY", "ARM_HOME", "ARM_CUSTOM_BYPASS", "DISARM")
    assert p["state_topic"] == "mimamori/v1/site-001/state"
    assert p["availability_topic"] == "mimamori/v1/site-001/status"
    assert (p["payload_available"], p["payload_not_available"]) == ("online", "offline")
    assert "{{ action }}" in p["command_template"] and "{{ code }}" in p["command_template"]
    assert set(p["device"]) <= DEVICE_FIELDS and p["device"]["identifiers"]
    assert set(DS.HA_STATE.values()) <= ALARM_STATES
    assert p["value_template"] == "{{ value_json.state }}"
    assert p["device"]["sw_version"] == VERSION
    assert set(p["origin"]) <= ORIGIN_FIELDS and p["origin"]["name"] == "mimamori"


def test_ha_state_is_what_the_panel_is_doing():
    assert DS.ha_state("away", True) == "triggered"
    assert DS.ha_state("disarmed", True) == "triggered"            # fire while disarmed
    assert DS.ha_state("disarmed", False) == "disarmed"            # memory or warble: not sounding
    assert DS.ha_state("away", False, exit_delay=True) == "arming"
    assert DS.ha_state("away", False, entry_delay=True) == "pending"
    for mode, want in (("away", "armed_away"), ("stay", "armed_home"),
                       ("partial", "armed_custom_bypass")):
        assert DS.ha_state(mode, False) == want
    for args in (("away", True), ("away", False, True), ("away", False, False, True)):
        assert DS.ha_state(*args) in ALARM_STATES


def test_trouble_entities_follow_the_documented_schema():
    seen = set()
    for obj, cls, _name, _tpl in DS.TROUBLE_SENSORS:
        topic, p = DS.trouble_sensor(CONFIG, obj)
        assert topic == "homeassistant/binary_sensor/site-001/%s/config" % obj
        assert set(p) <= SENSOR_FIELDS, set(p) - SENSOR_FIELDS
        assert p["device_class"] == cls and cls in SENSOR_CLASSES
        assert p["entity_category"] == "diagnostic"
        assert set(p["origin"]) <= ORIGIN_FIELDS
        seen.add(cls)
    assert seen == {"problem", "connectivity", "battery"}


def test_one_binary_sensor_per_zone():
    seen = []
    for z in CONFIG["zones"]:
        topic, p = DS.zone_sensor(CONFIG, z)
        assert topic == "homeassistant/binary_sensor/site-001/zone%d/config" % z["id"]
        assert set(p) <= SENSOR_FIELDS, set(p) - SENSOR_FIELDS
        assert p["device_class"] in SENSOR_CLASSES
        assert p["state_topic"] == "mimamori/v1/site-001/state"
        assert "%d in value_json.open_zones" % z["id"] in p["value_template"]
        assert z["name"] in p["name"]
        seen.append(p["unique_id"])
    assert len(set(seen)) == len(CONFIG["zones"])
    assert DS.zone_sensor(CONFIG, CONFIG["zones"][2])[1]["device_class"] == "smoke"
    assert DS.zone_sensor(CONFIG, CONFIG["zones"][0])[1]["device_class"] == "opening"
    all_ = DS.payloads(CONFIG)
    assert len(all_) == 1 + len(CONFIG["zones"]) + len(DS.TROUBLE_SENSORS)
    for topic, b in all_:
        assert isinstance(json.loads(b), dict)


def test_state_payload_is_signed_and_carries_what_ha_reads():
    key = F.site_key("00112233445566778899aabbccddeeff" * 2)
    b = DS.state_payload(key, "site-001", "stay", "idle", True, ["ac_loss"], [8, 1],
                         "2026-11-22T12:00:00+09:00", "armed_home", ["停電中(バッテリーで動作中)"])
    d = F.parse(b)
    F.verify(key, d)
    assert (d["mode"], d["open_zones"], d["troubles"], d["alarm_memory"], d["state"]) == \
        ("stay", [1, 8], ["ac_loss"], True, "armed_home")
    assert d["trouble_labels"] == ["停電中(バッテリーで動作中)"]
    assert "alarm" not in d             # the memory is not "an alarm now" (issue 10.9)
    raised = False
    try:
        DS.state_payload(key, "site-001", "vacation")
    except ValueError:
        raised = True
    assert raised


def test_ha_commands_map_to_ours():
    assert DS.ha_command(b'{"action": "ARM_AWAY", "code": "1234"}') == ("arm", {"mode": "away"}, "1234")
    assert DS.ha_command(b'{"action": "ARM_HOME", "code": "1234"}') == ("arm", {"mode": "stay"}, "1234")
    assert DS.ha_command(b'{"action": "ARM_CUSTOM_BYPASS", "code": "1"}')[1] == {"mode": "partial"}
    assert DS.ha_command(b'{"action": "DISARM", "code": ""}') == ("disarm", {}, None)
    assert DS.ha_command(b'{"action": "ARM_NIGHT"}') is None
    assert DS.ha_command(b"nonsense") is None
