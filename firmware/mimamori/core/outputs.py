# What the outputs should be doing, as decided by the core. io/outputs.py renders this onto pins
# (blink timing, buzzer cadence); the core only says which pattern, never touches hardware.
from mimamori.core.vocab import MODE_DISARMED

# Buzzer patterns a resident can tell apart (rendered in io/outputs.py).
BUZ_OFF = "off"
BUZ_EXIT = "exit"          # exit delay countdown: slow beep, 1 per second
BUZ_ENTRY = "entry"        # entry delay / cancel window countdown: fast beeps, "disarm now"
BUZ_GLASS = "glass"        # glass break while disarmed: continuous warble
BUZ_FIRE = "fire"          # fire: temporal-3 (three beeps, pause; ISO 8201)
BUZ_ALARM = "alarm"        # any other 異常 at the panel: continuous tone
BUZ_TROUBLE = "trouble"    # trouble chirp: one short chirp every 30 s
BUZ_REMIND = "remind"      # セット忘れ reminder / monthly self-check prompt: double chirp every 10 s
BUZ_CALL = "call"          # みつめてコール about to run out / しらせてコール: ding-dong every 3 s
BUZ_CHIME = "chime"        # door chime: one ding-dong when a chime zone opens while disarmed

# Priority when several want the buzzer at once: the most urgent wins.
_BUZ_PRIORITY = (BUZ_FIRE, BUZ_ALARM, BUZ_GLASS, BUZ_ENTRY, BUZ_EXIT, BUZ_CALL, BUZ_CHIME,
                 BUZ_REMIND, BUZ_TROUBLE, BUZ_OFF)


def buzzer_rank(pattern):
    return _BUZ_PRIORITY.index(pattern)


class OutputState:
    """The desired state of every output. Mutated in place by the core (no allocation)."""

    def __init__(self):
        self.siren = False          # external siren (cut off after siren_cutoff_min)
        self.flash = False          # フラッシュライト: blinks from an 異常 until an authorised reset
        self.buzzer = BUZ_OFF       # one of BUZ_*
        self.mode = MODE_DISARMED   # mode LEDs: disarmed / away / stay / partial
        self.arming = False         # exit delay running (mode LED blinks)
        self.trouble = False        # trouble LED
        self.alarm_memory = False   # alarm memory LED until acknowledged

    def __repr__(self):
        return "OutputState(siren=%s flash=%s buzzer=%s mode=%s arming=%s trouble=%s memory=%s)" % (
            self.siren, self.flash, self.buzzer, self.mode, self.arming, self.trouble,
            self.alarm_memory)
