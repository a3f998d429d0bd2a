# The event model: every decision the core makes becomes one Event. The catalogue below maps each
# Ademco Contact ID event code (SIA DC-05-1999.09, "Ademco Contact ID Reporting") to the seed's
# service category and the Japanese label a resident or an operator reads.
#
# Sans-I/O: the core fills in what it knows (ticks, kind, code, zone, user). The journal
# (store/) stamps `seq` (monotonic across reboots) and `wall` (ISO 8601 from the RTC) when it
# appends the event, before anything tries to send it.
from mimamori.compat import const

# Event kinds.
ALARM = "alarm"        # 異常
TROUBLE = "trouble"    # 故障・異常 of the equipment or a path
RESTORE = "restore"    # the condition has ended
OPENING = "opening"    # disarm (解除)
CLOSING = "closing"    # arm (セット)
BYPASS = "bypass"      # a zone left out of this arming
TEST = "test"          # periodic / manual test report
CANCEL = "cancel"      # an alarm cancelled by an authorised user
STATUS = "status"      # a status report: 305 system reset at every boot

# Contact ID qualifiers (DC-05 section 4.3: Q digit).
Q_NEW = const(1)        # new event or opening
Q_RESTORE = const(3)    # new restore or closing
Q_PREVIOUS = const(6)   # previously reported condition still present (status)

# Seed service categories (secom-home-security-contract.txt, 【サービス一覧】 A-H).
SERVICES = {
    "A": "防犯",
    "B": "火災",
    "C": "非常通報",
    "D": "救急",
    "E": "ガス漏れ",
    "F": "断線",
    "G": "設備",
    "H": "ライフ",
}

# Contact ID event codes used by mimamori. Standard codes from DC-05 appendix (1xx alarms,
# 3xx troubles, 4xx open/close, 5xx bypass, 6xx test/misc). Where the standard has no code for a
# sensor (glass break, vibration) we chose the nearest standard one and say so.
CID_MEDICAL = const(100)        # Medical
CID_FIRE = const(110)           # Fire
CID_SMOKE = const(111)          # Smoke
CID_HEAT = const(114)           # Heat
CID_PANIC = const(120)          # Panic
CID_BURGLARY = const(130)       # Burglary
CID_PERIMETER = const(131)      # Perimeter (doors, windows, shutters)
CID_INTERIOR = const(132)       # Interior (space / PIR)
CID_24H_SAFE = const(133)       # 24 Hour (Safe): our choice for vibration sensors
CID_ENTRY_EXIT = const(134)     # Entry/Exit: entry delay expired
CID_TAMPER = const(137)         # Tamper (the panel's own case)
CID_GAS = const(151)            # Gas detected
CID_GLASS = const(155)          # Foil break: our choice for glass-break sensors (window foil
                                # is the historical glass-break detector; no standard code exists)
CID_SYSTEM_TROUBLE = const(300) # System trouble: the sample site key or codes are in use
CID_AC_LOSS = const(301)        # AC Loss
CID_SYSTEM_RESET = const(305)   # System reset: sent at every boot (power cut, watchdog, update)
CID_LOW_BATTERY = const(302)    # Low system battery
CID_SELF_TEST = const(307)      # Self-test failure: a saved file failed its check at boot
                                # (store/health.py: booted in the fail-secure state)
CID_COMM_TROUBLE = const(350)   # Communication trouble (MQTT path)
CID_TELCO_FAULT = const(351)    # Telco 1 fault (landline cut / path failed)
CID_FAIL_TO_COMM = const(354)   # Failure to communicate event (MQTT test not delivered)
CID_SENSOR_TROUBLE = const(380) # Sensor trouble (zone faulted too long while disarmed)
CID_EXPANSION_TAMPER = const(144)  # Sensor tamper
CID_OPEN_CLOSE = const(401)     # O/C by user: 外出 arm (Q3) / disarm (Q1)
CID_WRONG_CODE = const(461)     # Wrong code entry: a lockout began (codes or cards guessed)
CID_CANCEL = const(406)         # Cancel
CID_STAY_ARM = const(441)       # Armed STAY: 在宅セット
CID_FAIL_TO_CLOSE = const(454)  # Failed to close: セット忘れ (not armed by the departure time)
CID_PARTIAL_ARM = const(456)    # Partial arm: 部分セット
CID_BYPASS = const(570)         # Zone/sensor bypass
CID_MANUAL_TEST = const(601)    # Manual trigger test report (monthly self-check)
CID_PERIODIC_TEST = const(602)  # Periodic test report (36-hour communication check)
CID_WALK_TEST = const(607)      # Walk test mode: Q1 the installer started it, Q3 it ended
                                # (core/walktest.py: zones tripped meanwhile are not alarms)
CID_PROGRAM_MODE = const(627)   # Program mode entry: the panel stopped guarding for the
                                # installer's USB session (mimamori/usbrepl.py); its next boot
                                # reports 305
CID_LIFE = const(641)           # Senior watch trouble: ライフ監視 (no activity for the set time)
CID_LOG_OVERFLOW = const(624)   # Event log overflow: the flash refuses writes (full); reports
                                # live in RAM only until it takes them again

# code -> (service letter, Japanese label, urgent). Low-urgency items (urgent=False) may be
# deferred by the centre between 22:00 and 08:00 (seed 6.(5) ④).
CATALOGUE = {
    CID_MEDICAL: ("D", "救急", True),
    CID_FIRE: ("B", "火災", True),
    CID_SMOKE: ("B", "火災(煙)", True),
    CID_HEAT: ("B", "火災(熱)", True),
    CID_PANIC: ("C", "非常", True),
    CID_BURGLARY: ("A", "侵入", True),
    CID_PERIMETER: ("A", "侵入(外周)", True),
    CID_INTERIOR: ("A", "侵入(屋内)", True),
    CID_24H_SAFE: ("A", "振動", True),
    CID_ENTRY_EXIT: ("A", "侵入(出入口)", True),
    CID_TAMPER: ("G", "いたずら(本体)", True),
    CID_EXPANSION_TAMPER: ("G", "いたずら(センサー)", True),
    CID_GAS: ("E", "ガス漏れ", True),
    CID_GLASS: ("A", "ガラス破壊", True),
    CID_SYSTEM_TROUBLE: ("G", "初期設定の鍵・暗証番号", False),
    CID_AC_LOSS: ("G", "停電", False),
    CID_SYSTEM_RESET: ("G", "再起動", False),
    CID_LOW_BATTERY: ("G", "電池低下", False),
    CID_SELF_TEST: ("G", "自己診断異常(保存データ破損)", True),
    CID_LOG_OVERFLOW: ("G", "記録メモリ満杯", False),
    CID_COMM_TROUBLE: ("F", "通信異常(MQTT)", False),
    CID_TELCO_FAULT: ("F", "断線(電話回線)", False),
    CID_FAIL_TO_COMM: ("F", "通報失敗(MQTT)", False),
    CID_SENSOR_TROUBLE: ("G", "センサー故障", False),
    CID_OPEN_CLOSE: ("A", "外出セット/解除", False),
    CID_CANCEL: ("A", "キャンセル", True),
    CID_WRONG_CODE: ("A", "暗証番号誤り(ロック)", True),
    CID_STAY_ARM: ("A", "在宅セット", False),
    CID_FAIL_TO_CLOSE: ("A", "セット忘れ", False),
    CID_PARTIAL_ARM: ("A", "部分セット", False),
    CID_BYPASS: ("A", "バイパス", False),
    CID_MANUAL_TEST: ("G", "点検(手動試験)", False),
    CID_PERIODIC_TEST: ("F", "定期通信試験", False),
    # urgent: the centre must know at once that this house's zones report no alarms for a while
    CID_WALK_TEST: ("G", "歩行試験", True),
    CID_PROGRAM_MODE: ("G", "施工モード(監視停止)", True),
    CID_LIFE: ("H", "ライフ監視", True),
}


class Event:
    """One decision of the core. `zone` and `user` are 0 when not applicable (Contact ID's
    zone/user field is 3 digits: 000 means none)."""

    __slots__ = ("seq", "wall", "ticks", "kind", "cid", "qualifier", "zone", "user",
                 "zone_name", "mode")

    def __init__(self, ticks, kind, cid, qualifier=Q_NEW, zone=0, user=0, zone_name="",
                 mode=""):
        self.seq = 0        # stamped by the journal
        self.wall = None    # stamped by the journal (ISO 8601 with offset)
        self.ticks = ticks
        self.kind = kind
        self.cid = cid
        self.qualifier = qualifier
        self.zone = zone
        self.user = user
        self.zone_name = zone_name
        self.mode = mode    # arm mode at the time: disarmed / away / stay / partial

    @property
    def service(self):
        return CATALOGUE[self.cid][0]

    @property
    def service_label(self):
        return SERVICES[CATALOGUE[self.cid][0]]

    @property
    def label(self):
        """Resident-facing Japanese label, e.g. 火災(煙), with 復旧 on a restore."""
        base = CATALOGUE[self.cid][1]
        if self.kind == RESTORE:
            return base + " 復旧"
        if self.cid == CID_WALK_TEST:
            return base + (" 終了" if self.qualifier == Q_RESTORE else " 開始")
        return base

    @property
    def urgent(self):
        return CATALOGUE[self.cid][2]

    def __repr__(self):
        return "Event(%s %s %03d q%d zone=%d user=%d %s)" % (
            self.kind, self.service, self.cid, self.qualifier, self.zone, self.user,
            self.zone_name)

    def to_dict(self):
        return {
            "seq": self.seq, "wall": self.wall, "ticks": self.ticks, "kind": self.kind,
            "service": self.service, "service_label": self.service_label, "cid": self.cid,
            "qualifier": self.qualifier, "zone": self.zone, "user": self.user,
            "zone_name": self.zone_name, "label": self.label, "mode": self.mode,
            "urgent": self.urgent,
        }

    @classmethod
    def from_dict(cls, d):
        e = cls(d["ticks"], d["kind"], d["cid"], d["qualifier"], d["zone"], d["user"],
                d["zone_name"], d["mode"])
        e.seq = d["seq"]
        e.wall = d["wall"]
        return e


class MemoryEntry:
    """One zone's line in the alarm memory (what a returning resident reads before going in):
    the latest code, how many times it tripped, when first and last (wall time, ISO 8601).
    One line per zone, so a chattering detector cannot grow the memory (nor state.json)."""

    __slots__ = ("zone", "zone_name", "cid", "count", "first", "last")

    def __init__(self, zone, zone_name, cid, first, count=1, last=None):
        self.zone = zone
        self.zone_name = zone_name
        self.cid = cid
        self.count = count
        self.first = first
        self.last = first if last is None else last

    @property
    def label(self):
        return CATALOGUE[self.cid][1]

    def to_list(self):
        return [self.zone, self.cid, self.count, self.first, self.last]

    @classmethod
    def from_saved(cls, d, zone_name):
        """From to_list(), or from an Event dict (state files written before the memory was
        bounded)."""
        if isinstance(d, dict):
            return cls(d["zone"], zone_name, d["cid"], d.get("wall"))
        return cls(d[0], zone_name, d[1], d[3], d[2], d[4])

    def __repr__(self):
        return "MemoryEntry(zone=%d %03d x%d)" % (self.zone, self.cid, self.count)
