# Persistence by revision, and the storage troubles (store/health.py).
#
# Each persistable component (the alarm core, the supervisor, the authenticator) bumps its own
# `revision` when something worth saving moved; save() writes the state file when one differs
# from the one last saved, or a running delay is due a checkpoint. Idle writes nothing and
# allocates nothing. A write the flash refuses never raises: the state stays in RAM, still
# unsaved, and is tried again every RETRY_WRITE_MS (not every step), as is the journal.
from mimamori.compat import const, ticks_add, ticks_diff

RETRY_WRITE_MS = const(5000)  # while the flash refuses writes: try again this often


class Keeper:
    def __init__(self, app, now):
        self.app = app
        self.retry_at = now
        # A restored core is at revision 0 ("as saved"); auth and supervision baselines are
        # taken by the App once they are restored (baseline()).
        self.core_saved = 0
        self.auth_saved = 0
        self.sup_saved = 0

    def save(self, now):
        """Save the state file if anything moved. Returns True when the supervisor moved (its
        troubles may have changed)."""
        a = self.app
        sup_changed = a.sup.revision != self.sup_saved
        # checkpoint_due: a running delay or siren is saved every few seconds (core/arming.py),
        # so a power cut that loses the RTC cannot restart it from an old point.
        if (a.core.revision != self.core_saved or sup_changed
                or a.auth.revision != self.auth_saved or a.core.checkpoint_due(now)):
            if not a.statefile.failing or ticks_diff(now, self.retry_at) >= 0:
                if a.statefile.save({"core": a.core.snapshot(now), "sup": a.sup.snapshot(),
                                     "auth": a.auth.snapshot(), "saved_at": a.wall.unix()}):
                    self.core_saved = a.core.revision
                    self.sup_saved = a.sup.revision
                    self.auth_saved = a.auth.revision
                else:
                    self.retry_at = ticks_add(now, RETRY_WRITE_MS)
        return sup_changed

    def storage_check(self, now):
        """While the flash refuses writes: retry the journal every RETRY_WRITE_MS; raise or end
        the 624 trouble (once each). Returns True when the storage trouble changed.
        Allocation-free and write-free while all is well."""
        a = self.app
        j = a.journal
        if j.write_failed and ticks_diff(now, self.retry_at) >= 0:
            self.retry_at = ticks_add(now, RETRY_WRITE_MS)
            j.retry()
        rev = a.storage.revision
        a.storage.update(j.write_failed or a.statefile.failing, now, a.core.mode)
        return a.storage.revision != rev
