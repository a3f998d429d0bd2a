"""Flash writes during one simulated idle day: the real App on the virtual board, nobody home to
move, a real broker and the centre (receiver, own process) acknowledging every report. Counts
every write the firmware makes to flash: the state file and the journal (appends, acks,
renames, removals). Virtual time runs in 1 s loop steps; each step also gives the network 1 ms
of real time so the centre's acks arrive well inside their 20 s deadline."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import latency  # noqa: E402  (site loading; puts the firmware on the path)
import vboard  # noqa: E402
import broker as broker_mod  # noqa: E402
import receiver as R  # noqa: E402
import hostclock  # noqa: E402

DAY_MS = 24 * 3600 * 1000


def measure(hours=24):
    b = broker_mod.launch()
    tmp = tempfile.mkdtemp(prefix="mm-idle-")
    try:
        config, secrets = latency._site(b.port)
        db = os.path.join(tmp, "centre.db")
        R.Store(db).add_site(config["site_id"], secrets["site_key"])
        rx = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(HERE), "receiver.py"),
                               "--db", db, "--host", b.host, "--port", str(b.port), "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hostclock.use_virtual(0)
        board = vboard.VirtualBoard(config, secrets, os.path.join(tmp, "flash"),
                                    log=lambda m: None)
        app = board.app
        board.run(60000, real_sleep_s=0.001)          # boot settles, link up
        w0 = app.statefile.writes + app.journal.writes
        e0 = app.journal.next_seq
        t0 = time.monotonic()
        board.run(hours * 3600 * 1000, real_sleep_s=0.0005, step_ms=1000)
        writes = app.statefile.writes + app.journal.writes - w0
        out = {"hours": hours, "writes": writes, "state_writes": app.statefile.writes,
               "journal_writes": app.journal.writes, "events": app.journal.next_seq - e0,
               "pending": app.journal.pending_count(), "life_alarm": any(
                   e.cid == 641 for e, _u, _a in app.journal.history()),
               "real_s": round(time.monotonic() - t0, 1)}
        rx.terminate()
        rx.wait(10)
        return out
    finally:
        b.close()


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 24)))
