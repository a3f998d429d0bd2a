"""Flash writes that the power-cut checkpoints cost (core/arming.py checkpoint_due): the real App
on the virtual board (no broker: reports wait in the journal, which is counted apart), the sample
house, virtual time in 10 ms loop steps. For each timer: the state-file writes from its start to
its end, checkpoints included."""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import vboard  # noqa: E402  (puts firmware/, fakes and lib/ on the path)
import hostclock  # noqa: E402

from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

BOARD = os.path.join(vboard.hostpath.ROOT, "boards", "esp32-devkitc")
CODE = "1234"
DOOR = 1            # 玄関ドア, entry route


def _board(tmp):
    cfg = json.load(open(os.path.join(BOARD, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(BOARD, "pins.json"), encoding="utf-8"))
    sec = json.load(open(os.path.join(BOARD, "secrets.sample.json"), encoding="utf-8"))
    cfg["comms"]["mqtt"]["port"] = 1          # unreachable: nothing but the firmware writes
    config = validate_config(cfg, pins)
    hostclock.use_virtual(0)
    b = vboard.VirtualBoard(config, validate_secrets(sec, config), os.path.join(tmp, "flash"),
                            log=lambda m: None)
    b.run(1000)
    return b, config["timers"]


def _writes(b, act, ms):
    w0 = b.app.statefile.writes
    act()
    b.run(ms)
    return b.app.statefile.writes - w0


def measure():
    tmp = tempfile.mkdtemp(prefix="mm-delay-")
    b, timers = _board(tmp)
    app = b.app
    exit_ms = timers["exit_delay_s"] * 1000
    entry_ms = timers["entry_delay_s"] * 1000
    siren_ms = timers["siren_cutoff_min"] * 60000
    arm = _writes(b, lambda: app.operate("arm", b.now(), code=CODE, mode="away"), exit_ms + 1000)
    idle = _writes(b, lambda: None, 60000)
    entry = _writes(b, lambda: b.set_zone(DOOR, True), entry_ms - 1000)
    entry += _writes(b, lambda: app.operate("disarm", b.now(), code=CODE), 1000)
    b.set_zone(DOOR, False)
    b.run(1000)
    app.operate("arm", b.now(), code=CODE, mode="away")
    b.run(exit_ms + 1000)
    alarm = _writes(b, lambda: b.set_zone(DOOR, True), entry_ms + siren_ms + 2000)
    return {"exit_delay": arm, "idle_minute": idle, "entry_delay": entry,
            "entry_then_alarm": alarm, "exit_s": exit_ms // 1000, "entry_s": entry_ms // 1000,
            "siren_min": siren_ms // 60000}


if __name__ == "__main__":
    print(json.dumps(measure()))
