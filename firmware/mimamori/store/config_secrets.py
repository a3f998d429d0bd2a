# secrets.json: Wi-Fi and broker credentials, the site key, users with their hashed codes and the
# hashed card ids. Messages name the field and the rule, never the value (Check(secret=True)).
from mimamori.core.auth import ITERATIONS, MAX_ITERATIONS, MIN_ITERATIONS
from mimamori.core.vocab import HOUSE_ROLES, ROLES
from mimamori.store.config_check import REQUIRED, Check, text_ok


class Secrets:
    def __init__(self, s, config, errors):
        self.c = Check(errors, secret=True)
        self.out = self.build(s, config)

    def build(self, s, config):
        c = self.c
        if c.obj("secrets", s, ("wifi", "mqtt", "site_key", "users", "cards",
                                "card_and_code")) is None:
            return None
        out = {"wifi": None, "mqtt": None}
        # 外出 disarmed by a card only with the code too (README "ライフカード and codes")
        out["card_and_code"] = c.bool("secrets.card_and_code", s.get("card_and_code", REQUIRED),
                                      default=False)
        w = s.get("wifi", REQUIRED)
        if c.obj("secrets.wifi", w, ("ssid", "password"),
                 "an object with ssid and password") is not None:
            ssid = w.get("ssid", REQUIRED)
            # The 802.11 limit is 32 bytes, and a Japanese SSID takes 3 bytes per character.
            if ssid is REQUIRED:
                c.bad("secrets.wifi.ssid", "missing: expected a string of 1-32 bytes (UTF-8)")
            elif not isinstance(ssid, str) or not text_ok(ssid) or not 1 <= len(ssid.encode()) <= 32:
                c.bad("secrets.wifi.ssid", "expected a string of 1-32 bytes (UTF-8)")
                ssid = None
            out["wifi"] = {"ssid": ssid,
                           "password": c.str("secrets.wifi.password", w.get("password", REQUIRED),
                                             8, 63)}
        m = s.get("mqtt", REQUIRED)
        if m is not REQUIRED and c.obj("secrets.mqtt", m, ("username", "password")) is not None:
            out["mqtt"] = {
                "username": c.str("secrets.mqtt.username", m.get("username", REQUIRED), 1, 64),
                "password": c.str("secrets.mqtt.password", m.get("password", REQUIRED), 0, 128),
            }
            self.cleartext(config)
        out["site_key"] = c.hex("secrets.site_key", s.get("site_key", REQUIRED), 64, 64,
                                what="64 hex characters (a 32-byte key)")
        out["users"] = self.users(s.get("users", REQUIRED))
        out["cards"] = self.cards(s.get("cards", []), out["users"])
        return out

    def cleartext(self, config):
        """Broker credentials must not cross the network in clear text: TLS, or loopback."""
        try:
            mq = config["comms"]["mqtt"]
            host, tls = mq["host"], mq["tls"]
        except (KeyError, TypeError, IndexError):
            return   # no (valid) config to compare with: its own errors say why
        if tls is False and isinstance(host, str) and not (
                host == "localhost" or host.startswith("127.")):
            self.c.bad("secrets.mqtt", "the broker password would cross the network in clear "
                       "text: set comms.mqtt.tls to true")

    def hashed(self, p, v, kind, tool_arg):
        c = self.c
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            c.bad(p, "store the hash, not the %s: run tools/hash_secret.py %s" % (kind, tool_arg))
            return None
        if c.obj(p, v, ("salt", "hash", "iter"),
                 "{salt, hash, iter} from tools/hash_secret.py " + tool_arg) is None:
            return None
        return {
            "salt": c.hex(p + ".salt", v.get("salt", REQUIRED), 16, 64,
                          what="16-64 hex characters (8-32 bytes)"),
            "hash": c.hex(p + ".hash", v.get("hash", REQUIRED), 64, 64,
                          what="64 hex characters (SHA-256)"),
            "iter": c.int(p + ".iter", v.get("iter", REQUIRED), MIN_ITERATIONS, MAX_ITERATIONS,
                          default=ITERATIONS),
        }

    def users(self, v):
        c = self.c
        users = []
        if c.list("secrets.users", v, 1, 99, "a non-empty list of users") is None:
            return users
        ids = {}
        residents = 0
        for i, u in enumerate(v):
            p = "secrets.users[%d]" % i
            if c.obj(p, u, ("id", "name", "role", "code", "duress")) is None:
                continue
            user = {"id": c.int(p + ".id", u.get("id", REQUIRED), 1, 99),
                    "name": c.str(p + ".name", u.get("name", REQUIRED), 1, 32),
                    "role": c.choice(p + ".role", u.get("role", REQUIRED), ROLES),
                    "code": self.hashed(p + ".code", u.get("code", REQUIRED), "code", "code"),
                    "duress": None}
            if u.get("duress", REQUIRED) is not REQUIRED:
                # the duress code (強要): disarms as the code does and reports 121 silently
                user["duress"] = self.hashed(p + ".duress", u["duress"], "duress code", "code")
            if user["id"] is not None:
                if user["id"] in ids:
                    c.bad(p + ".id", "%d is already used by %s" % (user["id"], ids[user["id"]]))
                else:
                    ids[user["id"]] = p
            if user["role"] in HOUSE_ROLES:
                residents += 1
            users.append(user)
        if not residents:
            c.bad("secrets.users", "at least one user must have the role master or resident")
        return users

    def cards(self, v, users):
        c = self.c
        cards = []
        if c.list("secrets.cards", v, 0, 99, "a list of cards") is None:
            return cards
        user_ids = [u["id"] for u in users]
        ids = {}
        for i, k in enumerate(v):
            p = "secrets.cards[%d]" % i
            if c.obj(p, k, ("id", "user", "uid")) is None:
                continue
            card = {"id": c.int(p + ".id", k.get("id", REQUIRED), 1, 999),
                    "user": c.int(p + ".user", k.get("user", REQUIRED), 1, 99),
                    "uid": self.hashed(p + ".uid", k.get("uid", REQUIRED), "card id", "card")}
            if card["id"] is not None:
                if card["id"] in ids:
                    c.bad(p + ".id", "%d is already used by %s" % (card["id"], ids[card["id"]]))
                else:
                    ids[card["id"]] = p
            if card["user"] is not None and card["user"] not in user_ids:
                c.bad(p + ".user", "no user with id %d in secrets.users" % card["user"])
            cards.append(card)
        return cards

