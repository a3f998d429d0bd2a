"""What the soak's parts share: the sample house's configuration pointed at a test broker, and a
read-only look at what a controller journalled on its flash.

The sample house (boards/esp32-devkitc/*.sample.json) is the one the simulator runs: its site id
and key are what the centre's database is given.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import hostpath  # noqa: E402,F401

from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

BOARD_DIR = os.path.join(hostpath.ROOT, "boards", "esp32-devkitc")
SHOW_RE = re.compile(r"site=(\S+) seq=(\d+)")
EVENT_RE = re.compile(r"^event (\d+) (\w+) (\d+)")


def _load(name):
    with open(os.path.join(BOARD_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def raw_sample(host="127.0.0.1", port=1883):
    raw = _load("config.sample.json")
    raw["comms"]["mqtt"]["host"] = host
    raw["comms"]["mqtt"]["port"] = port
    return raw


def sample(host="127.0.0.1", port=1883):
    """(config, secrets) of the sample house, validated, its MQTT pointed at host:port."""
    config = validate_config(raw_sample(host, port), _load("pins.json"))
    secrets = validate_secrets(_load("secrets.sample.json"), config)
    return config, secrets


def site_and_key():
    """(site id, site key hex) of the sample house."""
    return _load("config.sample.json")["site_id"], _load("secrets.sample.json")["site_key"]


def mqtt_password():
    """The sample house's broker password (its user name is the site id)."""
    return _load("secrets.sample.json")["mqtt"]["password"]


BOOT_RE = re.compile(r"^BOOT .*epoch=(\w+)")


def epochs_in_log(text):
    """The epochs the controller booted in (tools/soak_controller.py's BOOT lines), in order."""
    return [m.group(1) for m in map(BOOT_RE.match, text.splitlines()) if m]


def journalled(data_dir):
    """{seq: (kind, cid)} of every event record still on the controller's flash, read without
    writing (a Journal object would repair a torn tail). Only for a stopped controller."""
    from mimamori.store import journal as J
    out = {}
    jdir = os.path.join(data_dir, "journal")
    try:
        names = sorted(os.listdir(jdir))
    except OSError:
        return out
    for name in names:
        if not name.endswith(".log"):
            continue
        with open(os.path.join(jdir, name), "rb") as f:
            recs = J.scan(f.read())[0]
        for r in recs:
            if r[0] == J.REC_EVENT:
                try:
                    d = json.loads(r[1:])
                    out[d["s"]] = (d["k"], d["c"])
                except (ValueError, KeyError, TypeError):
                    pass
    return out


def max_journalled_seq(data_dir):
    """The highest seq on the flash (0 if none)."""
    got = journalled(data_dir)
    return max(got) if got else 0


def events_in_log(text):
    """{seq: (kind, cid)} from the App's log lines ("event <seq> <kind> <cid> ...")."""
    out = {}
    for line in text.splitlines():
        m = EVENT_RE.match(line)
        if m:
            out[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return out


FLAG_PREFIXES = ("!! 通番重複", "!! 新エポック")   # the centre's flags, not reports


def flags_in_console(text, site):
    """The centre's seq-regression and new-epoch flags for `site` (lines, in order)."""
    return [ln for ln in text.splitlines() if ln.startswith(FLAG_PREFIXES) and
            (" site=%s " % site) in ln]


def shown_in_console(text, site):
    """The seqs the receiver's console showed for `site`, in order, duplicates kept."""
    out = []
    for line in text.splitlines():
        if "結果" in line or line.startswith(FLAG_PREFIXES):
            continue
        m = SHOW_RE.search(line)
        if m and m.group(1) == site:
            out.append(int(m.group(2)))
    return out

