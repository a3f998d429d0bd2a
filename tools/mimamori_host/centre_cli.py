"""The monitoring centre's command line: `mimamori-centre` (or `python tools/receiver.py`).

Every error is one line naming what is wrong (the argument, the site, the broker's address),
never a traceback; exit 2 for bad input, 3 when the broker cannot be reached or refuses the
login. Secrets never come from the command line (a shell's history and `ps` show it): the
broker password from $MIMAMORI_MQTT_PASSWORD or a prompt, a site key from $MIMAMORI_SITE_KEY,
a prompt or stdin, a user's code from $MIMAMORI_CODE or a prompt.
"""
import argparse
import getpass
import json
import os
import sqlite3
import sys
import time

import receiver as R
from mimamori.core import commands as C
from mimamori.core.vocab import ARM_MODES
from mimamori.store.config import _SITE_CHARS   # the controller's own site_id rule
from mimamori_host import history as H

ENV_PASSWORD = "MIMAMORI_MQTT_PASSWORD"
ENV_SITE_KEY = "MIMAMORI_SITE_KEY"
ENV_CODE = "MIMAMORI_CODE"
SITE_RULE = "1-32 characters of a-z, 0-9, _ and - (config.json site_id; no MQTT wildcards, " \
            "no slashes)"
HEX = "0123456789abcdef"


class Fail(Exception):
    """One line for the operator; .code is the exit status."""

    def __init__(self, text, code=2):
        Exception.__init__(self, text)
        self.code = code


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, not argparse's usage block
        sys.stderr.write("%s: %s (see %s --help)\n" % (self.prog, message, self.prog))
        sys.exit(2)


class NotOnArgv(argparse.Action):
    """--password / --code of the old command line: refused with where the secret goes now."""

    def __init__(self, option_strings, dest, env=None, **kw):
        kw["help"] = argparse.SUPPRESS
        argparse.Action.__init__(self, option_strings, dest, **kw)
        self.env = env

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("%s is not taken on the command line (ps and the shell history show it): "
                     "set %s or answer the prompt" % (option_string, self.env))


# ---- checks ------------------------------------------------------------------------------------

def check_site(site):
    if not (1 <= len(site) <= 32 and all(ch in _SITE_CHARS for ch in site)):
        raise Fail("site: %r must be %s" % (site, SITE_RULE))
    return site


def check_key(key):
    key = key.strip().lower()
    if len(key) != 64 or any(ch not in HEX for ch in key):
        raise Fail("key: must be 64 hex digits (secrets.json site_key), got %d characters%s" % (
            len(key), "" if all(ch in HEX for ch in key) else " with non-hex ones"))
    return key


def _secret(env, prompt, what, piped_ok=False):
    """A secret from the environment, else a prompt on a terminal, else (piped_ok) the first
    line of stdin; None when there is none."""
    v = os.environ.get(env)
    if v:
        return v
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    if piped_ok and sys.stdin is not None:
        line = sys.stdin.readline().strip()
        return line or None
    return None


def command_of(words):
    """CLI words -> (name, args), checked as the controller will check them (core.commands), so
    nothing malformed is signed or sent: Fail names the command and the field."""
    verbs = sorted(n.replace("_", "-") for n in C.COMMANDS)
    shown = words[0]
    name = shown.replace("-", "_")
    if name not in C.COMMANDS:
        raise Fail("unknown command %r (one of: %s)" % (shown, ", ".join(verbs)))
    rest = words[1:]
    if name == "arm":
        mode = rest[0] if rest else "away"
        if mode not in ARM_MODES or len(rest) > 1:
            raise Fail("arm: mode must be one of %s, got %s" % (", ".join(ARM_MODES),
                                                                " ".join(rest)))
        args = {"mode": mode}
    elif name == "set_departure":
        t = rest[0] if rest else "none"
        if len(rest) > 1 or not (t == "none" or C._hhmm(t)):
            raise Fail("set-departure: time must be HH:MM (00:00-23:59) or none, got %s"
                       % " ".join(rest))
        args = {"time": None if t == "none" else t}
    elif name == "revoke_card":
        if len(rest) != 1 or not rest[0].isdigit() or not rest[0].isascii() or int(rest[0]) < 1:
            raise Fail("revoke-card: card must be the card's number (1 or more), got %s"
                       % " ".join(rest))
        args = {"card": int(rest[0])}
    elif name == "shirasete":
        msg = " ".join(rest)
        if len(msg) > C.MAX_MESSAGE:
            raise Fail("shirasete: message is at most %d characters, got %d" % (
                C.MAX_MESSAGE, len(msg)))
        args = {"message": msg} if rest else {}
    else:
        if rest:
            raise Fail("%s takes no arguments, got %s" % (shown, " ".join(rest)))
        args = {}
    if C._args(name, args) is None:      # the controller's own rule has the last word
        raise Fail("%s: the controller would refuse these arguments: %s" % (shown, args))
    return name, args


def code_for(name):
    """The user's code for a command that needs one (core.commands.COMMANDS)."""
    if not C.COMMANDS[name]:
        return None
    code = _secret(ENV_CODE, "%s: the user's code: " % name, "code")
    if not code:
        raise Fail("%s needs the user's code: set %s or run on a terminal to be asked" % (
            name, ENV_CODE))
    if not (code.isdigit() and code.isascii() and len(code) <= C.CODE_PAD):
        raise Fail("code: 1-%d digits" % C.CODE_PAD)
    return code


# ---- the parser --------------------------------------------------------------------------------

def build_parser():
    p = Parser(prog="mimamori-centre", description="mimamori monitoring-centre receiver: "
               "receives, stores, shows and acknowledges the controllers' reports; sends "
               "signed commands; lists sites and history.",
               epilog="Secrets are never arguments: the broker password comes from $%s (or a "
               "prompt), a site key from $%s (or a prompt, or stdin), a user's code from $%s "
               "(or a prompt)." % (ENV_PASSWORD, ENV_SITE_KEY, ENV_CODE))
    p.add_argument("--db", default="centre.db", help="the centre's SQLite database "
                   "(default: centre.db; created, or upgraded to the current schema)")
    p.add_argument("--host", default="127.0.0.1", help="the MQTT broker's address "
                   "(default 127.0.0.1)")
    p.add_argument("--port", type=int, default=1883, help="the broker's port (default 1883)")
    p.add_argument("--user", help="broker login (password: $%s or a prompt)" % ENV_PASSWORD)
    p.add_argument("--password", action=NotOnArgv, env=ENV_PASSWORD)
    p.add_argument("--tls", action="store_true", help="TLS to the broker (README \"TLS to "
                   "the broker\")")
    p.add_argument("--prefix", default=R.PREFIX, help="topic prefix (default %s)" % R.PREFIX)
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    a = sub.add_parser("add-site", help="add a site (or change its key, period, account); the "
                       "key from $%s, a prompt or stdin" % ENV_SITE_KEY)
    a.add_argument("site", help="the site id: " + SITE_RULE)
    a.add_argument("--period-h", type=float, default=36, help="flag the site 通信途絶 when "
                   "nothing arrived for this many hours (default 36: the comm check)")
    a.add_argument("--account", help="the site's Contact ID account number (4 digits, "
                   "comms.landline.account): names the site on the landline")
    sub.add_parser("sites", help="every site: account, period, state (正常 / 通信途絶 / 未受信), "
                   "last report, reports stored")
    h = sub.add_parser("history", help="reports as the operator saw them: event time, received "
                       "time, 遅延 flag, who armed/disarmed, the alarm a 406 cancels")
    h.add_argument("--site", help="only this site")
    h.add_argument("--since", help="received at or after: 2026-12-01, 2026-12-01T10:00 (local "
                   "time) or 36h / 7d ago")
    h.add_argument("--until", help="received at or before (same forms as --since)")
    h.add_argument("--kind", action="append", choices=H.KINDS, help="only this kind "
                   "(repeatable): " + ", ".join(H.KINDS))
    h.add_argument("--limit", type=int, help="only the newest N")
    h.add_argument("--late-s", type=float, default=H.LATE_S, help="flag 遅延 when received "
                   "more than this many seconds after the event (default %d)" % H.LATE_S)
    sub.add_parser("silent", help="every site silent now: 通信途絶 (nothing for longer than its "
                   "period) and 未受信 (never heard from)")
    ln = sub.add_parser("line-in", help="landline intake: Contact ID reports from the line "
                        "receiver, one per line on stdin (15 or 16 Ademco digits)")
    ln.add_argument("--name", help="this intake's name in the database (default rx-<pid>)")
    k = sub.add_parser("import-keys", help="add sites from a JSON file {site: {key, period_h}}")
    k.add_argument("file", help="the JSON file (keep it private: it holds the site keys)")
    r = sub.add_parser("run", help="receive: subscribe, store, show and ack reports")
    r.add_argument("--group", default="centre", help="shared-subscription group: receivers of "
                   "one group split the load (default centre)")
    r.add_argument("--name", help="this receiver's MQTT client id (default rx-<pid>)")
    r.add_argument("--silent-every", type=float, default=60.0, help="seconds between checks "
                   "for silent sites (default 60)")
    r.add_argument("--ha-bridge", action="store_true",
                   help="sign Home Assistant's commands from <prefix>/<site>/ha/cmd")
    s = sub.add_parser("send-cmd", help="sign and send a command, wait for the controller's "
                       "answer; the user's code from $%s or a prompt" % ENV_CODE)
    s.add_argument("--site", required=True, help="the site to command")
    s.add_argument("--code", action=NotOnArgv, env=ENV_CODE)
    s.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the result "
                   "(default 5)")
    s.add_argument("words", nargs="+", help="arm [away|stay|partial] | disarm | status | test "
                   "| shirasete [message] | set-departure HH:MM|none | revoke-card N")
    t = sub.add_parser("ha-token", help="the site's Home Assistant token (for a hand-made HA "
                       "config; discovery already carries it)")
    t.add_argument("--site", required=True, help="the site")
    d = sub.add_parser("dc09", help="SIA DC-09 intake through pysiaalarm (tools/receiver_dc09.py)"
                       ": add-account ACCOUNT SITE | listen [--port P] [--udp]")
    d.add_argument("args", nargs=argparse.REMAINDER, help="the DC-09 verb and its options "
                   "(dc09 --help)")
    return p


# ---- the verbs ---------------------------------------------------------------------------------

def _password(o):
    if not o.user:
        return None
    return _secret(ENV_PASSWORD, "broker password for %s at %s:%d: " % (o.user, o.host, o.port),
                   "password")


def _add_site(o, store):
    site = check_site(o.site)
    if not o.period_h > 0:
        raise Fail("--period-h: must be more than 0 hours")
    key = _secret(ENV_SITE_KEY, "site key of %s (64 hex digits): " % site, "key", piped_ok=True)
    if key is None:
        raise Fail("key: none given: set %s, pipe it on stdin or run on a terminal" % ENV_SITE_KEY)
    key = check_key(key)
    try:
        store.add_site(site, key, int(o.period_h * 3600), o.account)
    except ValueError as e:
        raise Fail(str(e)) from None
    print("site %s added" % site)


def _import_keys(o, store):
    try:
        with open(o.file, encoding="utf-8") as f:
            sites = json.load(f)
    except (OSError, ValueError) as e:
        raise Fail("%s: %s" % (o.file, e)) from None
    if not isinstance(sites, dict):
        raise Fail("%s: expected {site: {key, period_h}}" % o.file)
    for site, v in sites.items():
        try:
            check_site(site)
            if not isinstance(v, dict) or not isinstance(v.get("key"), str):
                raise Fail("key: missing")
            store.add_site(site, check_key(v["key"]), int(float(v.get("period_h", 36)) * 3600))
        except (Fail, ValueError) as e:
            raise Fail("%s: %s: %s" % (o.file, site, e)) from None
    print("%d site(s) imported" % len(sites))


def _send_cmd(o, store):
    if store.key(o.site) is None:
        raise Fail("site: unknown site %s (add-site first)" % o.site)
    name, args = command_of(o.words)
    code = code_for(name)
    try:
        res = R.send_command(store, o.host, o.port, o.site, name, args, code, o.user,
                             _password(o), o.prefix, o.wait, o.tls)
    except R.BrokerError as e:
        raise Fail(str(e), 3) from None
    if res is None:
        print("no result from %s within %g s" % (o.site, o.wait))
        return 1
    print("%s %s ctr=%s: %s" % (o.site, name, res["ctr"],
                               "accepted" if res["ok"] else "rejected: " + res["reason"]))
    return 0 if res["ok"] else 2


def _history(o, store):
    try:
        since = H.parse_when(o.since) if o.since else None
    except H.BadTime as e:
        raise Fail("--since: %s" % e) from None
    try:
        until = H.parse_when(o.until) if o.until else None
    except H.BadTime as e:
        raise Fail("--until: %s" % e) from None
    rows = H.history(store, o.site, since, until, o.kind, o.limit)
    for line in H.history_table(rows, o.late_s):
        print(line)


def _silent(o, store):
    now = time.time()
    for site, age in store.silent_now(now):
        if age is None:
            print("未受信 %s: 登録から一度も通報なし" % site)
        else:
            print("通信途絶 %s: 最終通報から %.1f 時間" % (site, age / 3600))


def _run(o, store):
    rx = R.Receiver(store, o.host, o.port, o.user, _password(o), o.group, o.prefix, o.name,
                    tls=o.tls, ha_bridge=o.ha_bridge).start()
    print("receiver %s: listening on %s:%d ($share/%s/%s/+/event)" % (
        rx.name, o.host, o.port, o.group, o.prefix), flush=True)
    try:
        last = 0.0
        while True:
            time.sleep(1.0)
            rx.tick()
            if time.time() - last >= o.silent_every:
                last = time.time()
                rx.check_silent()
    except KeyboardInterrupt:
        rx.stop()


def _line_in(o, store):
    rx = R.Receiver(store, name=o.name)
    for text in sys.stdin:
        if text.strip():
            rx.line_report(text.strip())


def _ha_token(o, store):
    key = store.key(o.site)
    if key is None:
        raise Fail("site: unknown site %s (add-site first)" % o.site)
    print(C.ha_token(key, o.site))


def _dc09(o, store):
    try:
        import receiver_dc09          # the SIA DC-09 issue's intake
    except ImportError:
        raise Fail("the SIA DC-09 intake (tools/receiver_dc09.py) is not in this version") \
            from None
    return receiver_dc09.main(o.args, store)


VERBS = {"dc09": _dc09, "add-site": _add_site, "sites": lambda o, s: print("\n".join(
    H.sites_table(H.sites(s)))), "history": _history, "silent": _silent, "line-in": _line_in,
    "import-keys": _import_keys, "run": _run, "send-cmd": _send_cmd, "ha-token": _ha_token}


def main(argv=None):
    o = build_parser().parse_args(argv)
    try:
        try:
            store = R.Store(o.db)
        except (sqlite3.Error, R.SchemaTooNew) as e:
            raise Fail("receiver: cannot open the database %s: %s" % (o.db, e), 2) from None
        try:
            return VERBS[o.verb](o, store) or 0
        except Fail as e:
            raise Fail("%s: %s" % (o.verb, e), e.code) from None
    except Fail as e:
        sys.stderr.write("%s\n" % e)
        return e.code
    except KeyboardInterrupt:
        return 130
