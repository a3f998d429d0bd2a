# The walk test as the monitoring centre sees it (issue 13): its start and end (Contact ID 607)
# arrive over MQTT through a real mosquitto at the real receiver, and the sensors the installer
# trips meanwhile arrive as nothing: no 異常 line on the operator's console.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from mqtt_broker import broker  # noqa: E402,F401 (fixture)
from test_app import centre, run_until  # noqa: E402,F401 (fixtures and helpers)

INSTALLER_CODE = "5678"     # the sample installer's code (boards/*/secrets.sample.json)
WINDOW = 3
GLASS = 10


def test_the_centre_sees_the_walk_test_start_and_end_and_no_alarm(centre):
    b, store, lines, _broker = centre
    assert b.app.operate("walk_test", b.now(), code=INSTALLER_CODE) == "歩行試験を開始します"
    for zid in (WINDOW, GLASS):
        b.set_zone(zid, True)
        b.run(300)
        b.set_zone(zid, False)
        b.run(300)
    b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)
    assert run_until(b, lambda: b.app.journal.pending_count() == 0 and
                     any("歩行試験 終了" in line for line in lines))
    walk = [line for line in lines if "歩行試験" in line]
    assert len(walk) == 2 and "歩行試験 開始" in walk[0] and "歩行試験 終了" in walk[1]
    assert all(line.split()[0] == "試験" for line in walk), walk    # a test, not an 異常
    assert [line for line in lines if line.startswith("!!")] == []
    reports = store.reports(b.config["site_id"])
    assert [r[2:] for r in reports] == [("status", "再起動", ""), ("test", "歩行試験 開始", ""),
                                        ("test", "歩行試験 終了", "")]
