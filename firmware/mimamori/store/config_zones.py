# config.json `zones`: each zone's type, pin, wiring and what its type allows (arm modes, entry
# route, follower, sounder, 24-hour, detector), with every default filled in. The words come from
# core/vocab.py, their one home.
from mimamori.core.vocab import (ALWAYS_ARMED_TYPES, ARM_MODES, CHIME_TYPES, DEFAULT_MODES,
                                 DETECTORS, ENTRY_ROUTE_TYPES, FOLLOWER_TYPES,
                                 NEVER_ALWAYS_ARMED_TYPES, PULLS, SOUNDERS, WARNING_TYPES,
                                 WIRINGS, ZONE_TYPES)
from mimamori.store.config_check import REQUIRED
from mimamori.io.display import lacks as font_lacks

MAX_ZONES = 64


def zones(k, v):
    c = k.c
    out = []
    if c.list("zones", v, 1, MAX_ZONES, "a non-empty list of zones") is None:
        return out
    ids = {}
    for i, z in enumerate(v):
        one = zone(k, "zones[%d]" % i, z)
        if one is None:
            continue
        zid = one["id"]
        if zid is not None:
            if zid in ids:
                c.bad("zones[%d].id" % i, "%d is already used by %s" % (zid, ids[zid]))
            else:
                ids[zid] = "zones[%d]" % i
        out.append(one)
    return out


def zone(k, p, z):
    c = k.c
    known = ("id", "name", "type", "gpio", "wiring", "pull", "debounce_ms", "modes",
             "entry_route", "always_armed", "detector", "follower", "sounder", "chime")
    if c.obj(p, z, known) is None:
        return None
    g = z.get
    t = c.choice(p + ".type", g("type", REQUIRED), ZONE_TYPES)
    zone = {
        "id": c.int(p + ".id", g("id", REQUIRED), 1, 999),
        "name": c.str(p + ".name", g("name", REQUIRED), 1, 32),
        "type": t,
        "gpio": k.pin(p + ".gpio", g("gpio", REQUIRED), "in"),
        "wiring": c.choice(p + ".wiring", g("wiring", REQUIRED), WIRINGS, default="NC"),
        "pull": c.choice(p + ".pull", g("pull", REQUIRED), PULLS,
                         default="up"),
        "debounce_ms": c.int(p + ".debounce_ms", g("debounce_ms", REQUIRED), 10, 5000,
                             default=50),
    }
    if zone["name"] is not None:
        lacks = font_lacks(zone["name"])     # the panel's OLED draws zone names (issue 14)
        if lacks:
            c.bad(p + ".name", "'%s': the panel's display font has no %s (use other words, or add "
                  "the kanji to tools/font.py ROOM_KANJI and rebuild the font)" % (
                      zone["name"], " ".join(lacks)))
    b = k.pins
    gpio, pull = zone["gpio"], zone["pull"]
    if b is not None and gpio is not None and pull in ("up", "down") and gpio in b.no_pull:
        c.bad(p + ".pull", "GPIO %d has no internal pull resistor on %s: set \"none\" and "
              "fit an external resistor" % (gpio, b.name))
    zone["modes"] = modes(k, p + ".modes", g("modes", REQUIRED),
                               list(DEFAULT_MODES.get(t, ())))
    route = c.bool(p + ".entry_route", g("entry_route", REQUIRED), default=False)
    if route and t is not None and t not in ENTRY_ROUTE_TYPES:
        c.bad(p + ".entry_route", "only magnet and space zones can be entry routes, "
              "not a %s zone" % t)
    zone["entry_route"] = route
    follower = c.bool(p + ".follower", g("follower", REQUIRED), default=False)
    if follower and t is not None and t not in FOLLOWER_TYPES:
        c.bad(p + ".follower", "only magnet and space zones can be followers, not a %s "
              "zone" % t)
    elif follower and route:
        c.bad(p + ".follower", "an entry_route zone starts the entry delay, a follower "
              "follows it: set one of them")
    zone["follower"] = follower
    # door chime (core/chime.py): a short tone when it opens while disarmed
    chime = c.bool(p + ".chime", g("chime", REQUIRED), default=False)
    if chime and t is not None and t not in CHIME_TYPES:
        c.bad(p + ".chime", "only magnet and space zones can chime, not a %s zone" % t)
    zone["chime"] = chime
    sounder = g("sounder", REQUIRED)
    if t in WARNING_TYPES:
        zone["sounder"] = c.choice(p + ".sounder", sounder, SOUNDERS, default="buzzer")
    else:
        if sounder is not REQUIRED and t is not None:
            c.bad(p + ".sounder", "only fire and gas zones have a sounder, not a %s zone" % t)
        zone["sounder"] = None
    armed = c.bool(p + ".always_armed", g("always_armed", REQUIRED), default=None)
    if t in ALWAYS_ARMED_TYPES:
        if armed is False:
            c.bad(p + ".always_armed", "a %s zone is a 24-hour zone and is always armed: "
                  "remove always_armed or set it to true" % t)
        armed = True
    elif t in NEVER_ALWAYS_ARMED_TYPES:
        if armed is True:
            c.bad(p + ".always_armed", "a %s zone cannot be a 24-hour zone" % t)
        armed = False
    elif armed is None:
        armed = False
    zone["always_armed"] = armed
    det = g("detector", REQUIRED)
    if t == "fire":
        zone["detector"] = c.choice(p + ".detector", det, DETECTORS, default="generic")
    else:
        if det is not REQUIRED and t is not None:
            c.bad(p + ".detector", "only fire zones have a detector, not a %s zone" % t)
        zone["detector"] = None
    return zone


def modes(k, p, v, default):
    c = k.c
    if v is REQUIRED:
        return default
    if c.list(p, v, 0, 3, "a list of away, stay, partial") is None:
        return None
    seen = []
    for i, m in enumerate(v):
        if c.choice("%s[%d]" % (p, i), m, ARM_MODES) is None:
            continue
        if m in seen:
            c.bad("%s[%d]" % (p, i), "'%s' is listed twice" % m)
        else:
            seen.append(m)
    return seen
