"""What touching a sensor does, per zone type. The panel's zone keys and the scenarios both go
through here, so a glass-break sensor is "broken" the same way in both.

A Device has a Japanese verb for the key legend and an `actuate(site, zone_id)`:
  Toggle  the contact stays where it is put (doors, windows, a fire or gas detector that keeps
          sensing until it clears, a tamper switch left open)
  Pulse   the sensor reports for a moment and returns to rest by itself (a glass-break or
          vibration sensor's output, a PIR seeing someone walk by, a push button)
A new kind of sensor is one line in DEVICES (and a class here if it behaves in a new way).
"""


class Toggle:
    def __init__(self, verb):
        self.verb = verb

    def actuate(self, site, zone_id):
        site.set_zone(zone_id, not site.board.is_active(zone_id))


class Pulse:
    def __init__(self, verb, hold_ms):
        self.verb = verb
        self.hold_ms = hold_ms    # longer than the zone's debounce, or the firmware ignores it

    def actuate(self, site, zone_id):
        site.press(zone_id, self.hold_ms)


DEVICES = {
    "magnet": Toggle("開/閉"),
    "space": Pulse("人が通る", 2000),
    "glass": Pulse("ガラス破壊", 500),
    "vibration": Pulse("振動", 500),
    "fire": Toggle("火災/復旧"),
    "gas": Toggle("ガス/復旧"),
    "panic": Pulse("押す", 300),
    "medical": Pulse("押す", 300),
    "cancel": Pulse("押す", 300),
    "tamper": Toggle("開/閉"),
    "case_tamper": Toggle("開/閉"),   # the panel's own case switch
}


def device_for(zone):
    return DEVICES[zone["type"]]
