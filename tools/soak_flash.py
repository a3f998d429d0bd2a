"""A full flash: the controller's data dir behaves as a flash of a given size. Every file opened
for writing under it is wrapped; a write that would take the dir past the quota fails with
OSError(ENOSPC), as littlefs does. No mount, no root: it works on any CI machine.

    quota = install("/tmp/flash", used_bytes("/tmp/flash"))    # full from now on
    quota.bytes = None                                          # space again
    uninstall()

Then run(): the real App on the virtual board with the simulator's site (real mosquitto, the
receiver in this process), the flash fills while 異常 are raised. Invariant: no step raises (a
raising step is not fed to the watchdog: the board reboots every 8 s), every 異常 still reaches
the centre from RAM and is acknowledged, the trouble is shown on the panel (trouble LED) and
reported to the centre.
"""
import builtins
import errno
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

_real_open = builtins.open
_quota = None


def used_bytes(root):
    n = 0
    for d, _, names in os.walk(root):
        for name in names:
            try:
                n += os.path.getsize(os.path.join(d, name))
            except OSError:
                pass
    return n


class Quota:
    def __init__(self, root, nbytes):
        self.root = os.path.abspath(root)
        self.bytes = nbytes
        self.refused = 0            # writes refused for space

    def covers(self, path):
        try:
            p = os.path.abspath(os.fspath(path))
        except TypeError:
            return False
        return p == self.root or p.startswith(self.root + os.sep)

    def check(self, n):
        if self.bytes is not None and used_bytes(self.root) + n > self.bytes:
            self.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device (soak quota)")


class _QuotaFile:
    """A file under the quota: each write is checked, then written through (so the sizes on
    disk are the usage)."""

    def __init__(self, f, quota):
        self._f = f
        self._q = quota

    def write(self, b):
        self._q.check(len(b))
        n = self._f.write(b)
        self._f.flush()
        return n

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self._f.close()
        return False

    def __iter__(self):
        return iter(self._f)

    def __getattr__(self, name):
        return getattr(self._f, name)


def _open(file, mode="r", *a, **kw):
    q = _quota
    if q is not None and any(c in mode for c in "wax+") and q.covers(file):
        if q.bytes is not None and "w" in mode and used_bytes(q.root) >= q.bytes:
            # littlefs needs a free block even to create a file
            q.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device (soak quota)")
        return _QuotaFile(_real_open(file, mode, *a, **kw), q)
    return _real_open(file, mode, *a, **kw)


def install(root, nbytes):
    """Put `root` under a quota of `nbytes` (None: unlimited). Returns the Quota."""
    global _quota
    _quota = Quota(root, nbytes)
    builtins.open = _open
    return _quota


def uninstall():
    global _quota
    _quota = None
    builtins.open = _real_open


# ---- the scenario -------------------------------------------------------------------------------

PANIC, MEDICAL = 12, 13


def release_due(site):
    """Site.step's release of momentary buttons, also after a step that raised."""
    now = site.elapsed_ms()
    for item in [d for d in site._due if d[0] <= now]:
        site._due.remove(item)
        site.set_zone(item[1], False, quiet=True)


def run(alarms=6, headroom=600, seed=1, settle_s=30.0, say=None):
    """Fill the flash while raising `alarms` 異常 (headroom: bytes left when the first is
    raised). Returns (figures, failures)."""
    say = say or (lambda *_: None)
    from simlib.site import Site
    failures = []
    figures = {"seed": seed, "alarms": alarms, "headroom_bytes": headroom}
    site = Site(clock="virtual")
    t0 = time.monotonic()
    errors = []
    step_ms = []

    def step():
        t = time.perf_counter()
        try:
            site.board.step()
        except Exception as e:  # noqa: BLE001 - what run() would catch, without feeding the WDT
            errors.append(repr(e))
        step_ms.append((time.perf_counter() - t) * 1000)
        release_due(site)
        site.drain()

    def settle(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            step()
            time.sleep(0.001)
            if cond():
                return True
        return False

    try:
        if not settle(site.ready, 15):
            return figures, ["the controller never came up on the broker"]
        settle(lambda: site.app.journal.pending_count() == 0, 10)
        flash = site.board.data_dir
        before = {r["seq"] for r in site.reports()}
        q = install(flash, used_bytes(flash) + headroom)
        raised = []
        for i in range(alarms):
            first = site.app.journal.next_seq
            site.press(PANIC if i % 2 == 0 else MEDICAL, 200)
            for _ in range(60):
                step()
            raised += [s for s in range(first, site.app.journal.next_seq)]
        figures["refused_writes"] = q.refused
        alarm_seqs = set()
        for s in raised:
            got = site.app.journal.get(s)
            if got is not None and got[0].kind == "alarm":
                alarm_seqs.add(s)

        def centre_has_all():
            seen = {r["seq"]: r for r in site.reports()}
            return all(s in seen for s in raised) and site.app.journal.pending_count() == 0

        delivered = settle(centre_has_all, settle_s)

        def trouble_reports():
            # the full flash's own trouble (Contact ID 624, event log overflow), shown to the
            # operator (not only stored)
            return [r for r in site.reports() if r["seq"] not in before and
                    r["kind"] == "trouble" and str(r["cid"]).endswith("624") and r["shown"]]

        settle(lambda: trouble_reports() and (site.app.rendered.trouble or
                                              site.app.sup.troubles()), 5)
        seen = {r["seq"]: r for r in site.reports()}
        got_alarms = [s for s in raised if s in seen and seen[s]["kind"] == "alarm"]
        troubles = trouble_reports()
        # shown: the trouble LED, or a trouble in the panel's list (the display's " / ...")
        trouble_led = bool(site.app.rendered.trouble) or bool(site.app.sup.troubles())
        display = site.app.display(site.board.now())
        # A power cut on the full flash: it must boot, guard, and report again.
        rebooted = True
        site.board.power_cut(1000)
        try:
            site.board.reboot()
        except Exception as e:  # noqa: BLE001 - a controller that does not boot is the finding
            rebooted = False
            failures.append("full flash: the controller does not boot on it: %r" % (e,))
        after_boot = None
        if rebooted:
            first = site.app.journal.next_seq
            site.press(PANIC, 200)
            for _ in range(60):
                step()
            after = [s for s in range(first, site.app.journal.next_seq)
                     if (site.app.journal.get(s) or (None,))[0] is not None]
            after_boot = settle(lambda: site.app.journal.pending_count() == 0 and all(
                s in {r["seq"] for r in site.reports()} for s in after), settle_s)
            if not after or not after_boot:
                failures.append("full flash: after a reboot on it, a panic press did not reach "
                                "the centre (events %s)" % after)
        figures.update({
            "flash_bytes": q.bytes, "events_raised": len(raised),
            "alarms_at_centre": len(got_alarms), "step_errors": len(errors),
            "max_step_ms": round(max(step_ms), 1), "trouble_reports": len(troubles),
            "trouble_led": int(trouble_led), "rebooted_and_reported": int(bool(after_boot)),
            "seconds": round(time.monotonic() - t0, 1)})
        if q.refused == 0:
            failures.append("the flash never filled (no write was refused): the scenario is void")
        if errors:
            failures.append("full flash: %d steps raised (the watchdog is not fed: a reboot "
                            "every 8 s), first: %s" % (len(errors), errors[0]))
        if not delivered:
            missing = [s for s in raised if s not in seen]
            failures.append("full flash: %d of %d events raised never reached the centre "
                            "(seqs %s), %d still pending" % (
                                len(missing), len(raised), missing[:10],
                                site.app.journal.pending_count()))
        if len(got_alarms) < alarms:
            failures.append("full flash: %d 異常 pressed, %d reached the centre"
                            % (alarms, len(got_alarms)))
        if not trouble_led:
            failures.append("full flash: no trouble shown on the panel (trouble LED off; "
                            "display: %s)" % display)
        if not troubles:
            failures.append("full flash: no trouble report (624) reached the centre and was "
                            "shown: %s" % [(r["seq"], r["kind"], r["cid"], r["shown"])
                                           for r in site.reports() if r["seq"] not in before])
    finally:
        uninstall()
        site.close()
    if failures:
        failures.append("seed %d" % seed)
    return figures, failures
