# The words the whole controller shares, declared here once and imported everywhere: arm modes
# and their resident-facing labels, zone types and what each may be, contact wiring and pulls,
# user roles. The validator (store/config*.py) refuses anything outside them; the core, the
# drivers, the display and Home Assistant discovery read them from here. To add a zone type:
# name it in ZONE_TYPES and the groups below it applies to, and give it a Contact ID code in
# core/zones.py.

MODE_DISARMED = "disarmed"
MODE_AWAY = "away"
MODE_STAY = "stay"
MODE_PARTIAL = "partial"
ARM_MODES = (MODE_AWAY, MODE_STAY, MODE_PARTIAL)
MODES = (MODE_DISARMED,) + ARM_MODES

# Their resident-facing names: core/texts.py MODE_LABELS.

ZONE_TYPES = ("magnet", "glass", "fire", "gas", "vibration", "space", "panic", "medical",
              "cancel", "tamper", "case_tamper")
# 24-hour zones: live in every state, including disarmed and during the delays (seed 6.(3): fire,
# panic, gas, medical watched 24 hours; glass too, sounding the buzzer even while disarmed; tamper
# as the panel's own 24-hour protection; case_tamper as the panel's own case switch).
ALWAYS_ARMED_TYPES = ("fire", "gas", "glass", "panic", "medical", "tamper", "case_tamper")
NEVER_ALWAYS_ARMED_TYPES = ("magnet", "space", "cancel")
ENTRY_ROUTE_TYPES = ("magnet", "space")
FOLLOWER_TYPES = ("magnet", "space")    # interior followers (follow a running entry delay)
CHIME_TYPES = ("magnet", "space")       # may sound the door chime while disarmed (`chime`)
# Detectors whose warning outlives the siren cut-off while they still detect; `sounder` says what
# keeps sounding: the buzzer (default) or the siren too.
WARNING_TYPES = ("fire", "gas")
SOUNDERS = ("buzzer", "siren")
# Silent alarms: a panic or medical call must not provoke an attacker (SECOM: the 非常 button makes
# no sound) or frighten a patient. The centre is called as for any alarm; nothing local shows it:
# no siren, buzzer, display text, flash light or alarm-memory LED.
SILENT_TYPES = ("panic", "medical")
# Never silenced by the swinger shutdown (core/zones.py): every trip is reported, in every state.
LIFE_SAFETY_TYPES = ("fire", "gas", "panic", "medical")
DETECTORS = ("smoke", "heat", "generic")     # fire zones
# Modes a zone is armed in when `modes` is left out; other types: [] (24-hour or a button).
DEFAULT_MODES = {"magnet": ARM_MODES, "space": (MODE_AWAY,), "vibration": ARM_MODES,
                 "glass": ARM_MODES}

# Contact wiring (README "Wiring"): NC = normally closed (active when it opens), NO = normally
# open (active when it closes). The pull is the rail an open contact rests at ("none": an
# external resistor).
WIRINGS = ("NC", "NO")
PULLS = ("up", "down", "none")

# User roles (core/auth.py ROLE_ACTIONS says what each may do): master (the household's manager:
# everything a resident does, plus users and cards), resident, installer (installer mode only,
# never while armed), centre (the code the centre seals into remote arm / disarm).
ROLES = ("master", "resident", "installer", "centre")
HOUSE_ROLES = ("master", "resident")    # at least one user must be able to run the house
