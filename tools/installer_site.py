"""The installer's site folder (host side): config.json, secrets.json and the board's pins.json of
one house, checked with the firmware's own validator (mimamori.store.config) before anything goes
to a board, and the codes and cards hashed on the way in (mimamori.core.auth, as
tools/hash_secret.py). Secrets are never printed: messages name the field, not the value.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (os.path.join(ROOT, "host_tests", "fakes"), os.path.join(ROOT, "firmware"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from mimamori.core import auth, samples  # noqa: E402
from mimamori.store import config as C  # noqa: E402
from hash_secret import SALT_BYTES, check_code, check_uid  # noqa: E402

FILES = ("config.json", "secrets.json", "pins.json")
SAMPLE_CODES = ("1234", "5678")     # boards/*/secrets.sample.json: published, so never a house's
SAMPLE_CARD = "04A1B2C3"


class SiteError(Exception):
    """Everything wrong with a site folder: `errors`, one line each."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class Site:
    def __init__(self, folder):
        self.folder = os.path.abspath(folder)

    def path(self, name):
        return os.path.join(self.folder, name)

    def pins_path(self):
        """The site's own pins.json, else the one of the board its config names."""
        own = self.path("pins.json")
        if os.path.exists(own):
            return own
        try:
            with open(self.path("config.json"), encoding="utf-8") as f:
                board = json.load(f).get("board")
        except (OSError, ValueError, AttributeError):
            board = None
        if isinstance(board, str) and "/" not in board and board not in ("", ".", ".."):
            p = os.path.join(ROOT, "boards", board, "pins.json")
            if os.path.exists(p):
                return p
        return own

    def check(self):
        """(config, secrets) validated by the firmware's own code, or SiteError listing every
        problem, the published sample secrets included."""
        try:
            config, secrets = C.load(self.path("config.json"), self.path("secrets.json"),
                                     self.pins_path())
        except C.ConfigError as e:
            raise SiteError(e.errors)
        found = samples.sample_secrets(secrets)
        if found:
            raise SiteError(["secrets.json: %s: the published sample (boards/*/secrets.sample"
                             ".json), which anyone can read: make the house's own" % n
                             for n in found])
        return config, secrets

    def files(self):
        """{board path: bytes} of what `configure` writes (after check())."""
        out = {}
        for name, src in (("config.json", self.path("config.json")),
                          ("secrets.json", self.path("secrets.json")),
                          ("pins.json", self.pins_path())):
            with open(src, "rb") as f:
                out["/" + name] = f.read()
        return out

    # --- secrets.json edits (codes, cards): read, change, validate, write (temp + rename) ----
    def _secrets_raw(self):
        with open(self.path("secrets.json"), encoding="utf-8") as f:
            return json.load(f)

    def _save_secrets(self, raw):
        """Validate the edited secrets with the rest of the site; write only if all is well."""
        p = self.path("secrets.json")
        tmp = p + ".new"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(raw, f, ensure_ascii=False, indent=2)
            f.write("\n")
        old = p + ".old"
        os.replace(p, old)
        os.replace(tmp, p)
        try:
            self.check()
        except SiteError:
            os.replace(old, p)       # put the house's file back as it was
            raise
        os.remove(old)

    def set_code(self, user_id, code, iterations=auth.ITERATIONS):
        problem = check_code(code)
        if problem:
            raise SiteError([problem])
        if code in SAMPLE_CODES:
            raise SiteError(["that is a sample code, published in the repository: choose "
                             "another"])
        raw = self._secrets_raw()
        for u in raw.get("users") or ():
            if u.get("id") == user_id:
                u["code"] = auth.make_entry("code", code, os.urandom(SALT_BYTES), iterations)
                self._save_secrets(raw)
                return u.get("name") or ""
        raise SiteError(["secrets.json: no user %d" % user_id])

    def add_card(self, user_id, uid, iterations=auth.ITERATIONS):
        problem = check_uid(uid)
        if problem:
            raise SiteError([problem])
        if auth.normalise_uid(uid).decode() == SAMPLE_CARD:
            raise SiteError(["that is the sample card's id, published in the repository"])
        raw = self._secrets_raw()
        if not any(u.get("id") == user_id for u in raw.get("users") or ()):
            raise SiteError(["secrets.json: no user %d" % user_id])
        cards = raw.setdefault("cards", [])
        for c in cards:
            e = c.get("uid") or {}
            try:
                same = auth.make_entry("card", uid, bytes.fromhex(e["salt"]),
                                       e["iter"])["hash"] == e["hash"]
            except (KeyError, TypeError, ValueError):
                same = False
            if same:
                raise SiteError(["this card is enrolled already (card %s)" % c.get("id")])
        new_id = max([c.get("id", 0) for c in cards] + [0]) + 1
        cards.append({"id": new_id, "user": user_id,
                      "uid": auth.make_entry("card", uid, os.urandom(SALT_BYTES), iterations)})
        self._save_secrets(raw)
        return new_id

    def revoke_card(self, card_id):
        raw = self._secrets_raw()
        cards = raw.get("cards") or []
        keep = [c for c in cards if c.get("id") != card_id]
        if len(keep) == len(cards):
            raise SiteError(["secrets.json: no card %d" % card_id])
        raw["cards"] = keep
        self._save_secrets(raw)

    def cards(self):
        """[(card id, user id, user name)] - the ids only: the card numbers are stored hashed."""
        raw = self._secrets_raw()
        names = dict((u.get("id"), u.get("name", "")) for u in raw.get("users") or ())
        return [(c.get("id"), c.get("user"), names.get(c.get("user"), ""))
                for c in raw.get("cards") or ()]
