# Enrolling ライフカード on the host (CPython only: the installer's tools): tools/hash_secret.py
# takes the IDs the reader gives, of both kinds, and the hash it prints opens the panel.
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import hash_secret  # noqa: E402

from mimamori.core.auth import Authenticator  # noqa: E402


def _hash(card_id):
    out = io.StringIO()
    hash_secret.main(["card"], stream=io.StringIO(card_id + "\n"), out=out)
    return json.loads(out.getvalue())


def _opens(entry, card_id):
    secrets = {"users": [{"id": 1, "name": "住人", "role": "resident", "code": entry}],
               "cards": [{"id": 1, "user": 1, "uid": entry}]}
    return Authenticator(secrets, 0).check_card(card_id, 0) is not None


def test_a_felica_idm_is_enrolled_like_a_mifare_uid():
    # The reader gives a FeliCa card's IDm as 16 hex digits (8 bytes), a MIFARE UID as 8 or 14.
    for card_id in ("012E4CD1A2B3C4D5", "04A1B2C3", "04112233445566"):
        entry = _hash(card_id)
        assert _opens(entry, card_id), card_id
        assert card_id not in json.dumps(entry)     # only the salted hash is kept


def test_a_card_id_of_another_length_is_refused_with_the_reason():
    for bad in ("04A1B2", "04A1B2C3D4", "XYZ1B2C3"):
        try:
            _hash(bad)
        except SystemExit as e:
            assert "MIFARE UID" in str(e) and "FeliCa IDm" in str(e), e
        else:
            raise AssertionError("accepted " + bad)


def test_a_random_uid_is_refused_it_would_never_open_the_panel_again():
    # ISO/IEC 14443-3: a single-size UID whose first byte is 08 is random, new at every tap
    # (many bank cards, passports, phones): enrolled, it would never match again.
    try:
        _hash("08A1B2C3")
    except SystemExit as e:
        assert "random" in str(e), e
    else:
        raise AssertionError("a random UID was enrolled")
