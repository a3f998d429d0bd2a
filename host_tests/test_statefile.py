# Crash-safe state files: the old or the new content survives, never half; one torn or rotten copy
# leaves the other; damage is refused as a whole and said so; writes are counted; a full flash
# never raises.
RUNS_ON_MICROPYTHON = True

import os

from mimamori.store import sealed
from mimamori.store.statefile import StateFile
from scratch import fresh_dir as _dir

STATE = {"core": {"mode": "away", "bypassed": [2]}, "sup": {"v": 1}, "auth": {}, "saved_at": 1}


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _files(d):
    return sorted(n for n in os.listdir(d) if not n.endswith(".tmp"))


def test_save_then_load_round_trips_and_counts_writes():
    d = _dir("rt")
    sf = StateFile(d + "/state.json")
    assert sf.load() is None and sf.status == "none"
    assert sf.save({"mode": "away", "bypassed": [2]})
    assert sf.save({"mode": "stay", "bypassed": []})
    again = StateFile(d + "/state.json")
    assert again.load() == {"mode": "stay", "bypassed": []} and again.status == "ok"
    assert sf.writes == 4                          # two copies per save
    assert _files(d) == ["state.json.1", "state.json.2"]
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == []


def test_a_torn_temporary_file_does_not_replace_the_state():
    d = _dir("torn")
    sf = StateFile(d + "/state.json")
    sf.save({"mode": "away"})
    with open(d + "/state.json.1.tmp", "w") as f:  # power cut while writing the next state
        f.write('{"mode": "dis')
    assert StateFile(d + "/state.json").load() == {"mode": "away"}


def test_one_flipped_or_truncated_byte_in_any_file_keeps_the_state():
    d = _dir("flip")
    sf = StateFile(d + "/state.json")
    sf.save({"core": {"mode": "stay"}})
    sf.save(STATE)
    names = _files(d)
    for name in names:
        orig = _read(d + "/" + name)
        for off in range(len(orig)):
            bad = bytearray(orig)
            bad[off] ^= 0x20
            _write(d + "/" + name, bytes(bad))
            got = StateFile(d + "/state.json")
            assert got.load() == STATE, (name, off)
            assert got.problems or len(names) == 1, (name, off)   # the damage is still told
        for cut in range(len(orig)):
            _write(d + "/" + name, orig[:cut])
            assert StateFile(d + "/state.json").load() == STATE, (name, cut)
        _write(d + "/" + name, orig)


def test_damage_to_every_copy_is_refused_as_a_whole_and_never_raises():
    d = _dir("bad")
    sf = StateFile(d + "/state.json")
    sf.save(STATE)
    for junk in (b"\x00\x00garbage", b"\xff\xfe\xfd", b'["not", "a", "state"]', b"", b"7"):
        for name in _files(d):
            _write(d + "/" + name, junk)
        got = StateFile(d + "/state.json")
        assert got.load() is None, junk
        assert got.status == "damaged" and got.last_error, junk
    # a copy that checks but holds no state object (invalid UTF-8, a list): damage too
    for payload in (b"\xff\xfe\xfd", b'["away"]', b"null", b"[" * 5000):
        for name in _files(d):
            _write(d + "/" + name, sealed.seal(9, payload))
        got = StateFile(d + "/state.json")
        assert got.load() is None and got.status == "damaged", payload[:10]


def test_the_state_file_of_the_previous_version_is_kept():
    d = _dir("legacy")
    _write(d + "/state.json", b'{"core": {"mode": "away"}}')
    sf = StateFile(d + "/state.json")
    assert sf.load() == {"core": {"mode": "away"}} and sf.status == "legacy"
    assert sf.save({"core": {"mode": "stay"}})
    assert _files(d) == ["state.json.1", "state.json.2"]
    assert StateFile(d + "/state.json").load() == {"core": {"mode": "stay"}}


def test_a_full_flash_fails_the_save_without_raising_and_recovers():
    from fullflash import FullFlash
    d = _dir("full")
    sf = StateFile(d + "/state.json")
    sf.save({"core": {"mode": "disarmed"}})
    flash = FullFlash(0).install(sealed)
    try:
        assert sf.save(STATE) is False and sf.failing and "save failed" in sf.last_error
        assert StateFile(d + "/state.json").load() == {"core": {"mode": "disarmed"}}
        flash.free = 10 ** 6
        assert sf.save(STATE) is True and not sf.failing
    finally:
        flash.remove()
    assert StateFile(d + "/state.json").load() == STATE
