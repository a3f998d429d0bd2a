# Crash-safe state files: the old or the new content survives, never half; writes are counted.
RUNS_ON_MICROPYTHON = True

import os

from mimamori.store.statefile import StateFile
from scratch import fresh_dir as _dir


def test_save_then_load_round_trips_and_counts_writes():
    d = _dir("rt")
    sf = StateFile(d + "/state.json")
    assert sf.load() is None
    sf.save({"mode": "away", "bypassed": [2]})
    sf.save({"mode": "stay", "bypassed": []})
    assert StateFile(d + "/state.json").load() == {"mode": "stay", "bypassed": []}
    assert sf.writes == 2
    assert sorted(os.listdir(d)) == ["state.json"]  # no temporary file left behind


def test_a_torn_temporary_file_does_not_replace_the_state():
    d = _dir("torn")
    sf = StateFile(d + "/state.json")
    sf.save({"mode": "away"})
    with open(d + "/state.json.tmp", "w") as f:  # power cut while writing the next state
        f.write('{"mode": "dis')
    assert StateFile(d + "/state.json").load() == {"mode": "away"}


def test_a_corrupt_state_file_is_set_aside_not_fatal():
    d = _dir("bad")
    with open(d + "/state.json", "w") as f:
        f.write("\x00\x00garbage")
    sf = StateFile(d + "/state.json")
    assert sf.load() is None
    assert "unreadable" in sf.last_error
    assert "state.json.bad" in os.listdir(d)
