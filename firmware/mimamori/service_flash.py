# What the controller left on flash, read without running it (mimamori/service.py's status and
# logs while the loop is stopped for the installer's mpremote session): the state file restored
# into a throwaway core, supervision and lockout, and the journal's segments scanned. Never
# writes: repairs are the boot's.


def _drop(*args):
    pass


def exists(path):
    cut = path.rfind("/")
    folder, name = (path[:cut] or "/", path[cut + 1:]) if cut >= 0 else (".", path)
    import os
    try:
        return name in os.listdir(folder)
    except OSError:
        return False


class Saved:
    """The controller as it left the flash: its config, the alarm core, supervision and the
    lockout restored from the state file (events they emit are dropped: a view, not a boot),
    and the zones' levels read from the pins now. `state`: none (nothing saved yet), ok, or
    damaged (the next boot refuses it and boots fail-secure)."""

    def __init__(self, config, secrets, data, now):
        from mimamori.core.arming import AlarmCore
        from mimamori.core.auth import Authenticator
        from mimamori.core.supervision import Supervisor
        from mimamori.comms import routes
        from mimamori.store.statefile import StateFile
        self.config = config
        self.core = AlarmCore(config["zones"], config["timers"], _drop, now)
        saved = StateFile(data + "/state.json").load() if exists(data) else None
        self.state = "none" if saved is None else "ok"
        if saved is not None:
            try:
                self.core.restore(saved["core"], now)
            except Exception:   # noqa: BLE001 - the boot would refuse it too
                self.state = "damaged"
        paths = tuple([r["name"] for r in routes.routes(config)])
        self.sup = Supervisor(config["timers"], paths, _drop, _drop, now,
                              config["supervision"], self.core.mode)
        self.auth = Authenticator(secrets, now)
        del secrets
        if saved is not None:
            try:
                self.sup.restore(saved.get("sup") or {}, now)
                self.auth.restore(saved.get("auth") or {}, now)
            except Exception:   # noqa: BLE001
                self.state = "damaged"
        import machine
        from mimamori.io.inputs import ZoneInputs
        inputs = ZoneInputs(config["zones"], machine)
        for i in range(len(self.core.zones)):
            self.core.zones[i].open = inputs.active(i)
        inputs.deinit()

    def troubles(self):
        return self.sup.troubles()


def _segments(data):
    """The journal's segment files, oldest first ([] when there is none)."""
    import os
    d = data + "/journal"
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return [d + "/" + n for n in sorted(names) if n.endswith(".log")]


def _records(data, kind):
    """Read-only: the payloads of one kind of record in every segment, oldest first (a torn or
    damaged record is skipped, as the boot scan would). Never writes: the boot owns repairs."""
    from mimamori.store.journal_scan import scan
    for path in _segments(data):
        with open(path, "rb") as f:
            recs = scan(f.read())[0]
        for r in recs:
            if r[0] == kind:
                yield r


def history(data):
    """(Event, acked) for every journalled event on flash, once each, oldest first."""
    import struct
    from mimamori.store.journal_scan import REC_ACK, REC_EVENT, decode_event
    acked = set()
    for r in _records(data, REC_ACK):
        acked.add(struct.unpack("<I", r[1:5])[0])
    seen = set()
    for r in _records(data, REC_EVENT):
        try:
            e = decode_event(r[1:])[0]
        except (KeyError, ValueError, TypeError, IndexError):
            continue
        if e.seq not in seen:      # a pending report copied forward appears twice
            seen.add(e.seq)
            yield e, e.seq in acked


def top_seq(data):
    top = 0
    for e, _acked in history(data):
        if e.seq > top:
            top = e.seq
    return top
