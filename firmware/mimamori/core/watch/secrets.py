# The controller booted with the public sample secrets (core/samples.py): 300 System trouble,
# reported when it starts, restored when a boot finds own secrets; a reboot that changes nothing
# sends nothing (the state is saved).
from mimamori.core.watch.base import Watcher, ev, tx


class SampleSecretsWatcher(Watcher):
    def __init__(self, ctx):
        Watcher.__init__(self, ctx)
        self.in_use = False

    def sample_secrets(self, in_use):
        if in_use != self.in_use:
            self.in_use = in_use
            self._touch()
            self.ctx.event(ev.TROUBLE if in_use else ev.RESTORE, ev.CID_SYSTEM_TROUBLE)

    def troubles(self, out):
        if self.in_use:
            out.append((ev.CID_SYSTEM_TROUBLE, 0, tx.TROUBLE_TEXT[ev.CID_SYSTEM_TROUBLE]))

    def snapshot(self, d):
        d["sample"] = self.in_use

    def parse(self, d):
        return bool(d.get("sample", False))    # absent in states saved before issue 10.12

    def restore(self, in_use, now):
        self.in_use = in_use
