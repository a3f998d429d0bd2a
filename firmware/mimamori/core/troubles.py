# Building blocks of supervision: a debounced condition, and the state-topic code of each
# supervised condition (its Japanese text: core/texts.py TROUBLE_TEXT). Sans-I/O: time is a
# ticks_ms value passed in; nothing here allocates in `feed`/`settle`, so the supervisor can call
# them from its steady-state tick.
from mimamori.compat import ticks_diff
from mimamori.core import events as ev


class Debounce:
    """A yes/no condition (e.g. "line voltage is low") confirmed only after the raw input has
    held the other value for a delay: `on_ms` to enter the condition, `off_ms` to leave it.
    A raw input that flips back before the delay has passed changes nothing (a glitch).
    `state` is the confirmed value (what was reported); `raw` the latest input."""

    def __init__(self, on_ms, off_ms, state=False):
        self.on_ms = on_ms
        self.off_ms = off_ms
        self.state = state
        self.raw = state
        self.since = 0      # ticks when `raw` last changed (meaningful only while raw != state)

    def feed(self, raw, now):
        if raw != self.raw:
            self.raw = raw
            self.since = now

    def settle(self, now):
        """Confirm the raw value once it has held long enough. True when `state` changed."""
        if self.raw == self.state:
            return False
        if ticks_diff(now, self.since) >= (self.on_ms if self.raw else self.off_ms):
            self.state = self.raw
            return True
        return False


# Machine-readable code of each condition, for the state topic (Home Assistant, apps): stable
# identifiers in English; the Japanese text (core/texts.py TROUBLE_TEXT) travels beside them as
# the label.
CODE = {
    ev.CID_TAMPER: "case_tamper",
    ev.CID_EXPANSION_TAMPER: "sensor_tamper",
    ev.CID_AC_LOSS: "ac_loss",
    ev.CID_LOW_BATTERY: "low_battery",
    ev.CID_COMM_TROUBLE: "comm_trouble",
    ev.CID_FAIL_TO_COMM: "comm_silent",
    ev.CID_TELCO_FAULT: "line_fault",
    ev.CID_SENSOR_TROUBLE: "sensor_stuck",
    ev.CID_LIFE: "life",
    ev.CID_FAIL_TO_CLOSE: "forgot_to_arm",
    ev.CID_SYSTEM_TROUBLE: "sample_secrets",
    ev.CID_SELF_TEST: "storage_damaged",
    ev.CID_LOG_OVERFLOW: "flash_full",
    ev.CID_PERIPHERAL: "card_reader",
}


def code(cid):
    """The state topic's code of a trouble (Contact ID code); "trouble" for one not listed."""
    return CODE.get(cid, "trouble")

