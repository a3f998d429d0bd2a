# Boot: come back as we were, or fail secure (README "Power cut").
#
#   saved = restore_core(app, now)      # the alarm core from the state file, else the journal
#   restore_rest(app, saved, now)       # supervision and code lockouts, each section guarded
#   feed_boot_levels(app, now)          # the zones as read at boot, as changes from "closed"
#   announce(app, secrets, now)         # 305, the sample-secrets trouble, the findings (307)
#
# Nothing here raises: damage adds a finding (app._findings) that the 307 trouble reports.
from mimamori.core import events as ev
from mimamori.core.arming import AlarmCore
from mimamori.core.samples import sample_secrets
from mimamori.core.texts import MODE_LABELS
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED
from mimamori.store.health import state_problem
from mimamori.store.statefile import DAMAGED

FAIL_SECURE_MODE = MODE_AWAY   # no saved state and no journal can prove the mode


def ensure_dir(path):
    import os
    try:
        os.mkdir(path)
    except OSError:
        pass   # exists


def restore_core(app, now):
    """Come back as we were: mode, bypasses, alarm memory, running delays. Time without power
    (from the RTC, when it is set) counts against the running delays. Returns the saved state,
    or None when it was not used.

    Never raises. A saved state that is damaged or implausible is refused as a whole; then the
    mode is the one the journal proves (its newest event), else FAIL_SECURE_MODE (armed away,
    with the exit delay). Either way a finding is noted for the 307 trouble."""
    app._fail_secure = False
    saved = app.statefile.load()
    app._findings.extend(app.statefile.problems)
    why = None
    if saved is not None:
        why = state_problem(saved)
    elif app.statefile.status == DAMAGED:
        why = "no copy of the state checks"
    if why is None and saved is not None:
        since = None
        t = app.wall.unix()
        at = saved.get("saved_at")
        if t is not None and at is not None and t >= at:
            since = (t - at) * 1000
        try:
            app.core.restore(saved["core"], now, since)
            app.log.info("restored: mode %s", app.core.mode)
            return saved
        except Exception as e:   # noqa: BLE001 - whatever slipped past state_problem
            why = "core: %r" % (e,)
            app.core = AlarmCore(app.config["zones"], app.config["timers"], app._emit, now)
    if why is None and app.journal.fresh and not app._findings:
        return None              # a new installation: disarmed, nothing to report
    if why is not None:
        app._findings.append("state refused: %s" % why)
    mode = journal_mode(app.journal, app.log)
    if mode is None:
        _fail_secure(app, "no mode provable: fail-secure %s" % FAIL_SECURE_MODE, now)
    elif mode != app.core.mode:
        snap = app.core.snapshot(now)
        snap["mode"] = mode
        try:
            app.core.restore(snap, now)
        except Exception as e:   # noqa: BLE001
            _fail_secure(app, "mode %s not restorable (%r): fail-secure" % (mode, e), now)
    app.log.info("state not restored (%s): mode %s", why or "none saved", app.core.mode)
    return None


def _fail_secure(app, finding, now):
    app._fail_secure = True
    app._findings.append(finding)
    app.core.arm(FAIL_SECURE_MODE, 0, now, True)


def journal_mode(journal, log):
    """The arm mode as of the newest journalled event (every event carries the mode of its
    time; a disarm's 401 opening carries the mode it ended), or None."""
    mode = None
    top = 0
    try:
        for e, _up, _acked in journal.history():
            if e.seq > top and (e.kind == ev.OPENING or e.mode in MODE_LABELS):
                top = e.seq     # by seq: a pending report copied forward is older than it sits
                mode = MODE_DISARMED if e.kind == ev.OPENING else e.mode
    except Exception as e:   # noqa: BLE001 - an unreadable journal proves nothing
        log.error("journal unreadable: %r", e)
        return None
    return mode


def restore_rest(app, saved, now):
    sup = saved.get("sup")
    try:
        if sup and not app.sup.restore(sup, now):
            app._findings.append("state: supervision section refused")
    except Exception as e:   # noqa: BLE001 - one bad section must not stop the boot
        app._findings.append("state: supervision %r" % (e,))
    try:
        app.auth.restore(saved.get("auth") or {})
    except Exception as e:   # noqa: BLE001
        app._findings.append("state: lockout %r" % (e,))


def command_counter(app):
    """The last accepted remote command's counter (replay protection), 0 when junk."""
    ctr = app.journal.load_value("cmd_ctr", 0)
    if not isinstance(ctr, int) or isinstance(ctr, bool) or ctr < 0:
        app._findings.append("cmd_ctr: not a counter")   # junk must not stop the boot
        ctr = 0
    return ctr


def feed_boot_levels(app, now):
    """The levels read at boot go to the core as changes from 'closed': an armed zone found open
    after a power cut is an intrusion; one in alarm that closed meanwhile restores."""
    core = app.core
    for i in range(len(core.zones)):
        core.zone_changed(i, app.inputs.active(i), now)
        z = core.zones[i]
        app.sup.zone_fault(z.id, z.name, z.open, now)


def announce(app, secrets, now):
    # Every boot is reported (305): the centre learns of a power cut or a watchdog reset, and
    # its signed ack brings the time when the RTC lost it.
    app._emit(ev.Event(now, ev.STATUS, ev.CID_SYSTEM_RESET, ev.Q_NEW, 0, 0, "", app.core.mode))
    # The public sample secrets (boards/*/secrets.sample.json) left in place: a trouble on the
    # panel and at the centre (issue 10.12). Names only in the log, never values.
    found = sample_secrets(secrets)
    if found:
        app.log.warn("SAMPLE SECRETS IN USE: %s: replace them (tools/hash_secret.py, a new "
                     "site key)", ", ".join(found))
    app.keeper.sup_saved = app.sup.revision   # a trouble raised at boot is saved by step 1
    app.sup.sample_secrets(len(found) > 0, now)
    # Damage found in any saved file (state, journal, its mark, the command counter): shown and
    # reported once (307), after the 305.
    app._findings += app.journal.damage
    for f in app._findings:
        app.log.warn("storage: %s", f)
    app.storage.boot_damage(app._findings, app._fail_secure, now, app.core.mode)
