# The README's generated tables match the firmware's own definitions: keep the README true.
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("table", ["events", "wiring:esp32-devkitc", "wiring:esp32s3-devkitc"])
def test_generated_table_is_current(table):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "doc_tables.py"), table],
                         capture_output=True, text=True, check=True).stdout.strip()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert out in readme, ("README's %s table is out of date: paste the output of "
                           "`python tools/doc_tables.py %s`" % (table, table))


def test_readme_shows_the_two_quick_start_commands():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert "make sim" in readme and "make test" in readme


def test_readme_frames_are_real_signed_frames():
    # Every example frame in the README verifies with the documented example key: the examples
    # were produced by the code, and a frame format change that forgets the README fails here.
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import hostpath  # noqa: F401
    from mimamori.proto import frame as F
    key = F.site_key("00112233445566778899aabbccddeeff" * 2)
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    frames = [line for line in readme.splitlines() if line.startswith('{"') and '"mac"' in line]
    assert len(frames) >= 6
    for line in frames:
        F.verify(key, F.parse(line.encode()))


def test_readme_ack_example_names_the_event_example_it_acknowledges():
    # The ack example binds to the event example with its seq (its `ref`), and the event
    # examples are reports the centre accepts (every field of the current format: epoch...).
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import hostpath  # noqa: F401
    import receiver as R
    from mimamori.proto import frame as F
    key = F.site_key("00112233445566778899aabbccddeeff" * 2)
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    frames = [F.parse(line.encode()) for line in readme.splitlines()
              if line.startswith('{"') and '"mac"' in line]
    events = [d for d in frames if "kind" in d and "type" not in d]
    acks = [line.encode() for line in readme.splitlines() if '"type":"ack"' in line]
    assert events and acks
    for d in events:
        R.check_report(d)
        assert "epoch" in d and "base" in d
    refs = {(d["seq"], F.report_ref(d)) for d in events}
    for a in acks:
        seq, ref, t = F.verify_ack_ref(key, "site-001", a)
        assert (seq, ref) in refs
