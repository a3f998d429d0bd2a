# The installer's entry points on the board, called over the REPL by the installer CLI:
#
#   mpremote connect PORT exec "import mimamori.service as s; s.status()"
#
# Each verb prints JSON objects, one per line, and ends with exactly one {"done": true} or
# {"error": "<one-line reason>"}. Nothing secret is printed (no key, code, hash, salt or card).
#
#   info()                      firmware, version, board, running from ROMFS, config check
#   status()                    mode, troubles, open zones, alarm memory, seq, lockout
#   logs(since=0)               the event journal (seq > since), then the controller's log
#   walktest(code, seconds=600) the walk test (core/walktest.py) with the installer's code
#   read_card(timeout_ms=10000) one card on the board's reader: its id and kind
#   factory_reset(confirm)      erases /data, config.json and secrets.json when confirm=="ERASE"
#
# mpremote soft-resets the board before it runs these, so the controller's loop is not running:
# status and logs read what the controller left on flash, and never write it;
# walktest boots the controller itself (boot.main, watchdog included) and runs its loop. Each
# verb also takes `app=` (a live App: the tests, the virtual board).
import json

from mimamori import VERSION
from mimamori.compat import ticks_ms, ticks_diff, sleep_ms
from mimamori.service_flash import exists as _exists

ROOT = ""                    # the board's "/" (tests: a scratch folder standing for it)
CONFIG = "/config.json"
SECRETS = "/secrets.json"
PINS = "/pins.json"
DATA = "/data"
LOG = "/log.txt"             # in DATA: the controller's warnings (mimamori/log.py, boot.py)
LOOP_MS = 10
FLUSH_MS = 10000             # after a walk test: steps to get its 607 end to the centre
ERASE = "ERASE"


def _out(d):
    print(json.dumps(d))


def _fail(why):
    _out({"error": " ".join(str(why).split())})   # one line, whatever the reason held


def _run(body, *args):
    """A verb: its body's lines, then exactly one done or error line."""
    try:
        why = body(*args)
    except KeyboardInterrupt:
        why = "interrupted"
    except Exception as e:   # noqa: BLE001 - the installer gets a reason, never a traceback
        why = "%s: %s" % (type(e).__name__, e)
    if why is None:
        _out({"done": True})
    else:
        _fail(why)


def _p(name):
    return ROOT + name




def _load():
    from mimamori.store.config import load
    return load(_p(CONFIG), _p(SECRETS), _p(PINS))


# ---- info --------------------------------------------------------------------------------------

def _config_state():
    if not _exists(_p(CONFIG)):
        return "missing"
    from mimamori.store.config import ConfigError
    try:
        _load()
    except ConfigError as e:
        return e.errors[0]
    return "ok"


def _board():
    try:
        with open(_p(PINS)) as f:
            return json.loads(f.read()).get("board")
    except Exception:   # noqa: BLE001 - missing or unreadable: no board named
        return None


def _romfs():
    import mimamori
    return str(getattr(mimamori, "__file__", "")).startswith("/rom")


def _info():
    _out({"firmware": "mimamori", "version": VERSION, "board": _board(), "romfs": _romfs(),
          "config": _config_state()})


def info():
    _run(_info)


# ---- status ------------------------------------------------------------------------------------

def _drop(*args):
    pass


def _status(app):
    from mimamori.core.texts import MODE_LABELS
    now = ticks_ms()
    if app is None:
        from mimamori import service_flash as sf
        config, secrets = _load()
        v = sf.Saved(config, secrets, _p(DATA), now)
        del secrets
        core, auth, seq, troubles, state = v.core, v.auth, sf.top_seq(_p(DATA)), \
            v.troubles(), v.state
    else:
        state = "running"
        from mimamori import status as st
        core, auth, seq, troubles = app.core, app.auth, app.journal.next_seq - 1, \
            st.troubles(app)
    left = 0
    if auth.locked(now):
        left = (ticks_diff(auth.locked_until, now) + 999) // 1000
    _out({"mode": core.mode, "mode_label": MODE_LABELS[core.mode],
          "troubles": [{"cid": t[0], "zone": t[1], "text": t[2]} for t in troubles],
          "open_zones": [{"zone": z.id, "name": z.name} for z in core.zones if z.open],
          "alarm_memory": len(core.memory) > 0,
          "seq": seq,
          "lockout_s": left, "walk_test": core.walk is not None, "state": state})


def status(app=None):
    _run(_status, app)


# ---- logs --------------------------------------------------------------------------------------

_LEVEL_NAMES = {10: "debug", 20: "info", 30: "warn", 40: "error"}


def _logs(since, app):
    from mimamori.log import read_saved
    if app is not None:
        events = ((e, acked) for e, _up, acked in app.journal.history())
    else:
        from mimamori.service_flash import history
        events = history(_p(DATA))
    for e, acked in events:
        if e.seq > since:
            _out({"seq": e.seq, "time": e.wall, "ticks": e.ticks, "cid": e.cid,
                  "q": e.qualifier, "zone": e.zone, "user": e.user, "kind": e.kind,
                  "text": e.label + (" " + e.zone_name if e.zone_name else ""),
                  "acked": acked})
    ring = app.log.ring if app is not None else None
    if ring is not None:     # the live controller: its RAM ring (every level it kept)
        for level, t, msg in ring.entries():
            _out({"log": {"level": _LEVEL_NAMES.get(level, level), "time": t, "msg": msg}})
    else:                    # after a reset: the warnings and errors it saved on flash
        for level, t, msg in read_saved(_p(DATA) + LOG):
            _out({"log": {"level": level, "time": t, "msg": msg}})


def logs(since=0, app=None):
    _run(_logs, since, app)


# ---- walk test ---------------------------------------------------------------------------------

def _show(app, w):
    for i, active, live in w.take():
        z = app.core.zones[i]
        d = {"zone": z.id, "name": z.name, "type": z.type, "active": active}
        if live:
            d["alarm"] = True     # a fire/gas detector that kept detecting: a real 異常 now
        _out(d)


def _boot():
    """The controller, booted as main.py would (watchdog, Wi-Fi, the 305 boot report), its log
    kept in the ring and on flash but not printed: the installer's output stays JSON lines."""
    from mimamori import boot
    from mimamori.log import Logger, Ring
    log = Logger(_drop, ring=Ring(_p(DATA) + LOG))
    app = boot.main(data=_p(DATA), config_paths=(_p(CONFIG), _p(SECRETS), _p(PINS)), run=False,
                    log=log)
    if app is None:
        raise ValueError("the configuration is refused (run `check`)")
    return app


def _walktest(code, seconds, app, on_step):
    if app is not None:
        return _walk(code, seconds, app, on_step)
    app = _boot()
    try:
        return _walk(code, seconds, app, on_step)
    finally:
        # The loop stops here, and the watchdog boot.main started would reset the board in
        # 8 s: give the installer's session its full length instead (mimamori/usbrepl.py);
        # the board then restarts and guards.
        import machine
        from mimamori.usbrepl import SESSION_MS
        machine.WDT(timeout=SESSION_MS)


def _walk(code, seconds, app, on_step):
    from mimamori.core import walktest
    now = ticks_ms()
    user = app.auth.check_code(code, now)
    app.ops.after_auth(now)
    if user is None:
        return "locked out" if app.auth.outcome == "locked" else "wrong code"
    r = app.ops.walk_test(user["id"], user["role"], now, seconds)
    if not r.ok:
        return "%s: %s" % (r.reason, r.text)
    w = app.core.walk
    _out({"walk": "start", "seconds": w.limit_ms // 1000})
    try:
        # until the time limit (the core ends it), the installer's code at the panel, Ctrl-C
        while app.core.walk is w:
            app.step(ticks_ms())
            _show(app, w)
            if on_step is not None:
                on_step(app)
            sleep_ms(LOOP_MS)
    except KeyboardInterrupt:
        pass
    if app.core.walk is w:
        walktest.end(app.core, user["id"], ticks_ms())
    _show(app, w)
    _flush(app)
    _out({"walk": "end", "untriggered": [{"zone": z.id, "name": z.name}
                                         for z in w.untriggered()]})


def _flush(app):
    """A few more loop steps, so the 607 end reaches the centre (up to FLUSH_MS)."""
    start = ticks_ms()
    try:
        while app.journal.pending_count() and ticks_diff(ticks_ms(), start) < FLUSH_MS:
            app.step(ticks_ms())
            sleep_ms(LOOP_MS)
    except KeyboardInterrupt:
        pass


def walktest(code, seconds=600, app=None, on_step=None):
    """The walk test with the installer's code (see the top). on_step(app): tests only."""
    _run(_walktest, code, seconds, app, on_step)


# ---- cards -------------------------------------------------------------------------------------

def _read_card(timeout_ms, reader):
    if reader is not None:          # tests: anything with read_once(timeout_ms)
        got = reader.read_once(timeout_ms)
    else:
        try:
            from mimamori.io import cardreader     # the PN532 reader (issue 14)
        except ImportError:
            return "no card reader in this firmware"
        import machine
        config, _secrets = _load()
        try:
            got = cardreader.read_card(config, machine, timeout_ms)
        except (ValueError, OSError) as e:   # no reader configured, or it does not answer
            return str(e)
    if got is None:
        return "no card"
    _out({"card": str(got[0]).upper(), "kind": got[1]})


def read_card(timeout_ms=10000, reader=None):
    _run(_read_card, timeout_ms, reader)


# ---- factory reset -----------------------------------------------------------------------------

def _factory_reset(confirm):
    import os
    from mimamori.boot import _remove_tree     # one definition: the boot's, for damaged data
    if confirm != ERASE:
        return 'not confirmed: factory_reset("%s") erases the house\'s data' % ERASE
    erased = []
    for d in (DATA, DATA + ".bad"):
        if _exists(_p(d)):
            _remove_tree(_p(d))
            erased.append(d)
    for f in (CONFIG, SECRETS):
        if _exists(_p(f)):
            os.remove(_p(f))
            erased.append(f)
    _out({"erased": erased})


def factory_reset(confirm=None):
    _run(_factory_reset, confirm)
