"""Print the secrets.json entry for a user code or a ライフカード UID.

    python tools/hash_secret.py code            # asks for the code twice (hidden)
    python tools/hash_secret.py card            # asks for the card id: a MIFARE UID, e.g.
                                                # 04A1B2C3, or a FeliCa IDm (16 hex digits)
    echo 04A1B2C3 | python tools/hash_secret.py card     # or one line on stdin
    python tools/hash_secret.py code --iter 2000 # rounds (default and minimum: the floor,
                                                 # mimamori.core.auth.MIN_ITERATIONS)

The secret is read from the terminal or stdin, never from the command line, so it does not land
in the shell history or the process list. The output is the JSON object to paste as the
`code` of a user or the `uid` of a card: {"salt": ..., "hash": ..., "iter": ...}.
The hashing is the firmware's own (mimamori.core.auth), so what this prints is what the panel
checks.
"""
import argparse
import getpass
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(1, os.path.join(ROOT, "host_tests", "fakes"))  # ticks for the compat seam

from mimamori.core import auth  # noqa: E402

SALT_BYTES = 16
_HEX = "0123456789ABCDEF"


def check_code(code):
    if not (4 <= len(code) <= 8 and code.isdigit() and code.isascii()):
        return "a code is 4-8 digits"
    return None


def check_uid(uid):
    u = auth.normalise_uid(uid).decode()
    # what the reader gives (io/cardreader.py): a MIFARE / ISO 14443A UID of 4, 7 or 10 bytes,
    # or a FeliCa card's IDm of 8 bytes
    if len(u) not in (8, 14, 16, 20) or any(ch not in _HEX for ch in u):
        return ("a card id is a MIFARE UID (4, 7 or 10 bytes) or a FeliCa IDm (8 bytes) in hex, "
                "e.g. 04A1B2C3 or 012E4CD1A2B3C4D5")
    if len(u) == 8 and u.startswith("08"):
        # ISO/IEC 14443-3 6.4.4: UID0 = 08h marks a random single-size UID, drawn anew at each
        # activation (bank cards, passports, phones): enrolled, it would never match again.
        return "this card shows a random UID (starting 08), a new one at every tap: it cannot " \
               "be enrolled; use the issued card or another IC card"
    return None


def read_secret(kind, stream=None):
    """From a terminal: hidden prompt (a code twice, to catch a typo). Otherwise one line."""
    stream = stream or sys.stdin
    label = "user code" if kind == "code" else "card UID"
    if stream.isatty():
        first = getpass.getpass("%s: " % label)
        if kind == "code" and getpass.getpass("again: ") != first:
            raise SystemExit("hash_secret: the two entries differ")
        return first.strip()
    return stream.readline().strip()


def main(argv=None, stream=None, out=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=("code", "card"))
    ap.add_argument("--iter", type=int, default=auth.ITERATIONS,
                    help="hash rounds (%d-%d, default %d)" % (
                        auth.MIN_ITERATIONS, auth.MAX_ITERATIONS, auth.ITERATIONS))
    args = ap.parse_args(argv)
    if not auth.MIN_ITERATIONS <= args.iter <= auth.MAX_ITERATIONS:
        # Below the floor a short code falls in moments to anyone holding the file.
        raise SystemExit("hash_secret: --iter must be %d-%d" % (auth.MIN_ITERATIONS,
                                                              auth.MAX_ITERATIONS))
    secret = read_secret(args.kind, stream)
    problem = check_code(secret) if args.kind == "code" else check_uid(secret)
    if problem:
        raise SystemExit("hash_secret: " + problem)
    entry = auth.make_entry(args.kind, secret, os.urandom(SALT_BYTES), args.iter)
    (out or sys.stdout).write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main()
