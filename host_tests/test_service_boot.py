# service.walktest as the installer CLI runs it on a board: mpremote soft-resets the board, so
# the loop is not running; walktest boots the controller itself (boot.main: config, watchdog,
# Wi-Fi, App) and runs the loop. CPython only: the App's MQTT link needs sockets (the broker is
# unreachable here: reports wait in the journal), which the WebAssembly interpreter lacks.
import json
import os
import sys

import hostclock
import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import vboard  # noqa: E402
from sample_board import INSTALLER_CODE, normal_level, own_secrets, read_json  # noqa: E402
from mimamori import service as S  # noqa: E402
from mimamori import usbrepl  # noqa: E402


def test_walktest_boots_the_controller_prints_only_json_and_leaves_the_session(tmp_path, capsys):
    hostclock.use_virtual(0)
    machine.reset_all()
    S.ROOT = str(tmp_path)
    cfg = read_json("config.sample.json")
    cfg["comms"]["mqtt"]["port"] = 1               # nobody listens: reports wait
    for name, obj in (("/pins.json", read_json("pins.json")), ("/config.json", cfg),
                      ("/secrets.json", own_secrets(read_json("secrets.sample.json")))):
        with open(S.ROOT + name, "w") as f:
            f.write(json.dumps(obj))
    for z in cfg["zones"]:
        machine.Pin(z["gpio"]).drive(normal_level(z))
    machine.Pin(cfg["supervision"]["ac_sense_gpio"]).drive(1)
    machine.ADC(machine.Pin(36)).set_uv(1800000)
    machine.ADC(machine.Pin(39)).set_uv(2070000)
    door = cfg["zones"][0]
    steps = [0]

    def on_step(app):
        steps[0] += 1
        if steps[0] == 50:
            machine.Pin(door["gpio"]).drive(1 - normal_level(door))
    try:
        S.walktest(INSTALLER_CODE, 10, on_step=on_step)    # the 10 s limit ends it
    finally:
        S.ROOT = ""
    lines = capsys.readouterr().out.splitlines()
    out = [json.loads(line) for line in lines]             # every line is JSON
    assert out[0] == {"walk": "start", "seconds": 10}
    assert {"zone": 1, "name": "玄関ドア", "type": "magnet", "active": True} in out
    assert out[-2]["walk"] == "end" and out[-1] == {"done": True}
    assert 1 not in [d["zone"] for d in out[-2]["untriggered"]]
    assert machine.WDT(timeout=usbrepl.SESSION_MS).timeout == usbrepl.SESSION_MS
    # what the centre will get: the boot, the walk test's start and end, from the journal
    S.ROOT = str(tmp_path)
    try:
        S.logs()
    finally:
        S.ROOT = ""
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["cid"], d["q"]) for d in logs if "seq" in d] == [(305, 1), (607, 1), (607, 3)]
