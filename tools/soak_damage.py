"""Damaged flash at every byte: every file the controller keeps in its data dir (the journal's
segments, state.json, the small values, whatever a newer firmware adds there) is damaged at an
offset - one byte flipped, or the file cut short there (a torn write) - and the controller boots
on it. Invariant: it boots, it keeps stepping, a panic press afterwards is journalled as an 異常,
and `seq` never goes backwards (every event after the boot has a seq above every seq the
controller had used before the damage: the centre dedupes by seq).

    figures, failures = run(stride=1, seed=1)       # every offset of every file, both damages

The real App on the virtual board (tools/vboard.py), virtual clock, no network (reports wait in
the journal, as during an outage): this is about the flash, so it runs in this process.
"""
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import hostpath  # noqa: E402,F401
import vboard  # noqa: E402
import hostclock  # noqa: E402
import soak_site  # noqa: E402

PANIC = 12
WALL = 1764547200            # 2025-12-01 00:00 UTC: the RTC as the board had it
SAMPLE_CODE = "1234"
MODES = ("flip", "truncate", "remove")   # remove: once per file (a lost file)


# MqttLink's interface with no network: reports wait in the journal (the suite's own stand-in)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "host_tests", "support"))
from offline_link import OfflineLink  # noqa: E402


class Recorder:
    """The App's log: the seqs of the events it journals."""

    def __init__(self):
        self.lines = []

    def __call__(self, msg):
        self.lines.append(msg)

    def seqs(self):
        return sorted(soak_site.events_in_log("\n".join(self.lines)))


def boot(config, secrets, data_dir, log):
    hostclock.use_virtual(0)
    return vboard.VirtualBoard(config, secrets, data_dir, wall_unix=WALL, log=log,
                               link=OfflineLink(config["site_id"]))


def make_flash(config, secrets, data_dir, alarms=3):
    """A lived-in flash: boots, alarms (some acknowledged), armed away, a reboot. Returns the
    highest seq the controller used."""
    log = Recorder()
    b = boot(config, secrets, data_dir, log)
    for _ in range(alarms):
        b.press(PANIC)
        b.run(500)
    app = b.app
    for seq in list(app.journal.outbox())[:2]:
        app.journal.ack(seq)          # what the centre's acks do (ack records on flash)
    app.operate("arm", b.now(), code=SAMPLE_CODE, mode="away")
    b.run(61000)                      # past the exit delay: armed away, saved
    b.power_cut(1000)
    b.reboot()
    b.run(1000)
    b.app.journal.close()
    return b.app.journal.next_seq - 1, b.app.core.mode


def files_of(root):
    out = []
    for d, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(d, n)
            out.append(os.path.relpath(p, root))
    return sorted(out)


def _restore(pristine, work):
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)


def _damage(path, mode, offset, rnd):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if mode == "remove":
        os.remove(path)
        return
    if mode == "flip":
        data[offset] ^= rnd.randrange(1, 256)
    else:
        del data[offset:]
    with open(path, "wb") as f:
        f.write(data)


def check_one(config, secrets, work, top, mode=None):
    """Boot on the damaged flash in `work`; the list of what went wrong (empty: all kept)."""
    log = Recorder()
    try:
        b = boot(config, secrets, work, log)
    except Exception as e:  # noqa: BLE001 - a controller that does not boot is the finding
        return ["no_boot"], "boot raised %s" % (_short(e),)
    try:
        b.run(300)
        booted_mode = b.app.core.mode
        b.press(PANIC)
        b.run(500)
    except Exception as e:  # noqa: BLE001
        return ["no_step"], "step raised %s" % (_short(e),)
    seqs = log.seqs()
    bad = []
    why = ""
    if not seqs or seqs[0] <= top:
        bad.append("seq_back")
        why = "first seq after the boot %s, before the damage %d" % (seqs[:1], top)
    if mode is not None and booted_mode != mode:
        # the house was armed when the flash was damaged: damage never disarms it (the mode
        # the journal proves, else fail-secure 外出)
        bad.append("mode_lost")
        why = (why + "; " if why else "") + "booted %s, was %s" % (booted_mode, mode)
    alarms = [ln for ln in log.lines if ln.startswith("event ") and " alarm " in ln]
    if not alarms:
        bad.append("no_alarm")
        why = (why + "; " if why else "") + "the panic press journalled no 異常"
    try:
        b.app.journal.close()
    except Exception:  # noqa: BLE001
        pass
    return bad, why


def run(stride=1, seed=1, modes=MODES, alarms=3, say=None, max_cases=None):
    """Every `stride`-th offset of every file (plus the first and last bytes), each damage mode.
    Returns (figures, failures)."""
    say = say or (lambda *_: None)
    rnd = random.Random(seed)
    config, secrets = soak_site.sample()
    tmp = tempfile.mkdtemp(prefix="mimamori-soak-damage-")
    pristine = os.path.join(tmp, "pristine")
    work = os.path.join(tmp, "work")
    t0 = time.monotonic()
    counts = {}          # (file kind, mode) -> {"cases": n, fault: n}
    examples = {}        # (file kind, mode, fault) -> first example
    cases = 0
    try:
        top, armed = make_flash(config, secrets, pristine, alarms)
        names = files_of(pristine)
        # a file kept as two copies (<name>.1, <name>.2) is also damaged in both at once, at
        # the same offset: what the fail-secure boot is for
        pairs = [n[:-2] + ".1+2" for n in names if n.endswith(".1") and n[:-2] + ".2" in names]
        for name in names + pairs:
            both = name.endswith(".1+2")
            targets = [name[:-4] + ".1", name[:-4] + ".2"] if both else [name]
            size = min(os.path.getsize(os.path.join(pristine, t)) for t in targets)
            kind = _kind(name)
            every = sorted(set(list(range(0, size, stride)) + [max(0, size - 1)]))
            for mode in modes:
                offsets = [0] if mode == "remove" else every
                c = counts.setdefault((kind, mode), {"cases": 0, "bytes": 0})
                c["bytes"] += size
                for off in offsets:
                    if size == 0:
                        continue
                    if max_cases is not None and cases >= max_cases:
                        break
                    _restore(pristine, work)
                    for t in targets:
                        _damage(os.path.join(work, t), mode, off, rnd)
                    bad, why = check_one(config, secrets, work, top, armed)
                    cases += 1
                    c["cases"] += 1
                    for f in bad:
                        c[f] = c.get(f, 0) + 1
                        examples.setdefault((kind, mode, f), "%s %s at byte %d/%d: %s" % (
                            name, mode, off, size, why))
            say("  %s (%d bytes): %d offsets" % (name, size, len(every)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {"seed": seed, "stride": stride, "files": len(names), "pairs": len(pairs),
               "cases": cases,
               "top_seq_before": top, "mode_before": armed, "seconds": round(time.monotonic() - t0, 1)}
    failures = []
    for fault, text in (("no_boot", "did not boot"), ("no_step", "stopped stepping"),
                        ("seq_back", "reused a seq (seq went backwards)"),
                        ("no_alarm", "journalled no 異常 for a panic press"),
                        ("mode_lost", "booted in another mode than the armed one it had")):
        n = sum(c.get(fault, 0) for c in counts.values())
        figures[fault] = n
        if n:
            per = ", ".join("%s/%s %d of %d" % (k[0], k[1], c.get(fault, 0), c["cases"])
                            for k, c in sorted(counts.items()) if c.get(fault))
            ex = "; ".join(v for k, v in sorted(examples.items()) if k[2] == fault)
            failures.append("damaged flash: the controller %s in %d cases (%s). First cases: %s"
                            % (text, n, per, ex))
    figures["per_file"] = {"%s/%s" % k: dict(c) for k, c in sorted(counts.items())}
    if failures:
        failures.append("seed %d" % seed)
    return figures, failures


def _short(e, n=160):
    r = repr(e)
    return r if len(r) <= n else r[:n] + "..."


def _kind(name):
    """A file's family: journal segments are one kind whatever their number."""
    base = os.path.basename(name)
    if base.endswith(".log"):
        return os.path.dirname(name) + "/*.log"
    return name
