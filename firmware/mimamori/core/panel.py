# What the panel shows and sounds: the alarm core's outputs merged with supervision's, and the
# display line. Sans-I/O: the app renders the merged OutputState on the pins.
from mimamori.compat import const
from mimamori.core import outputs as out
from mimamori.core.texts import MODE_LABELS

SELF_CHECK_BLINK_MS = const(500)   # the trouble LED blinks 250 / 250 ms in its self-check step


def merge(r, c, sup, trouble, now):
    """Fill OutputState r from the core's outputs c, the supervisor's reminder and self-check,
    and `trouble` (any trouble shown: the trouble LED and chirp). Allocates nothing."""
    r.siren = c.siren
    r.flash = c.flash
    r.mode = c.mode
    r.arming = c.arming
    r.alarm_memory = c.alarm_memory
    buzzer = c.buzzer
    if sup.reminding and out.buzzer_rank(out.BUZ_REMIND) < out.buzzer_rank(buzzer):
        buzzer = out.BUZ_REMIND
    if trouble and out.buzzer_rank(out.BUZ_TROUBLE) < out.buzzer_rank(buzzer):
        buzzer = out.BUZ_TROUBLE
    # The monthly self-check drives each output in turn, visibly on its pin (issue 10.7): the
    # buzzer a continuous tone, the flash light blinking, the trouble LED blinking (so it moves
    # even when a trouble already lights it), the siren a short chirp. A real alarm's outputs are
    # never masked: the check only adds to them.
    sc = sup.self_check_output
    if sc is not None:
        if sc == "buzzer":
            if out.buzzer_rank(out.BUZ_ALARM) < out.buzzer_rank(buzzer):
                buzzer = out.BUZ_ALARM
        elif sc == "flash":
            r.flash = True
        elif sc == "trouble":
            trouble = now % SELF_CHECK_BLINK_MS < SELF_CHECK_BLINK_MS // 2
        elif sc == "siren":
            r.siren = True
    r.buzzer = buzzer
    r.trouble = trouble
    return r


def sounding(c):
    """The panel sounds an alarm (HA: triggered): the siren, or the alarm or fire buzzer. Not a
    glass warble while disarmed (a local warning), not a silent alarm."""
    return c.siren or c.buzzer == out.BUZ_ALARM or c.buzzer == out.BUZ_FIRE


def display(prompt, core, notices, troubles, now):
    """The panel's display line (Japanese): the resident's prompt first (resident.py: a call,
    the code being typed, a result, a lockout), then the core's text; at rest, the first trouble
    or else the first notice beside the mode."""
    if prompt:
        return prompt
    text = core.display(now)
    if text == MODE_LABELS[core.mode]:
        if troubles:
            return text + " / " + troubles[0][2]
        if notices:
            return text + " / " + notices[0]
    return text
