"""mimamori-installer: set a house up from a laptop over the board's USB serial (mpremote).

    python tools/installer.py [--port PORT] [--site DIR] VERB ...      (VERB --help for each)

    flash           write a MicroPython image (esptool: erase, write, verify)
    deploy          put the firmware on the board (ROMFS image, else changed .mpy files)
    check           check the site folder (config.json, secrets.json, pins.json), no board
    configure       check, then write config, secrets and pins to the board
    codes set       set a user's code (hashed; asked for, never on the command line)
    cards add|revoke|list   the ライフカード (hashed; `add --read` reads it on the board's reader)
    walktest        installer mode: every sensor trigger live; the zones never triggered
    logs            the event journal and the controller's log, as CSV or JSON
    status          mode, troubles, open zones
    factory-reset   erase config, secrets and history (asks to confirm)
    update          new firmware on a working board; config and state kept

The site folder (--site, default .) holds the house's config.json, secrets.json and, if the
board needs its own, pins.json (else boards/<config "board">/pins.json). Errors are one line,
exit status 1. While the installer is connected the controller's loop is stopped (the REPL
interrupts main.py); every verb starts it again when it is done.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import installer_deploy as D  # noqa: E402
from installer_board import Board, BoardError, find_port  # noqa: E402
from installer_site import Site, SiteError  # noqa: E402

PROG = "mimamori-installer"


class Fail(Exception):
    pass


def _progress(label, total):
    """A rich progress bar: returns (update(done), finish())."""
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                               TimeRemainingColumn)
    p = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                 transient=False)
    task = p.add_task(label, total=total)
    p.start()
    return (lambda done: p.update(task, completed=done)), p.stop


def _connect(args, need_version=True):
    b = Board.open(args.port, args.timeout, args.stay)
    if need_version:
        try:
            info = b.info()
        except BoardError:
            b.restart()
            raise
        want = D.firmware_version(args.firmware)
        if info.get("version") != want:
            b.restart()
            raise BoardError("the board runs mimamori %s, this installer is for %s: run update "
                             "first" % (info.get("version"), want))
    return b


def _read_secret(kind):
    from hash_secret import read_secret
    return read_secret(kind)


# --- verbs ------------------------------------------------------------------------------------

def cmd_flash(args):
    port = find_port(args.port)
    D.check_image(args.image)
    cmds = D.flash_commands(port, args.image, args.chip, args.baud, args.connect_attempts)
    if args.dry_run:
        for c in cmds:
            print(" ".join(c))
        return
    if not os.path.exists(port):
        raise BoardError("no board connected on %s (is the USB cable in? hold BOOT if the "
                         "board has no auto-reset)" % port)
    for what, c in zip(("erase", "write", "verify"), cmds):
        print("%s: %s" % (what, " ".join(c)), flush=True)
        if subprocess.run(c).returncode != 0:       # esptool shows its own progress bars
            raise BoardError("esptool %s failed (see above): check the port and hold BOOT "
                             "while it connects" % what)
    print("flashed %s: now run deploy" % os.path.basename(args.image))


def _deploy(args, b):
    """Firmware onto the board `b` (open); the board is restarted and checked afterwards."""
    version = D.firmware_version(args.firmware)
    rom = 0 if args.mpy else b.romfs_size()
    if rom:
        image = D.build_dir(args.firmware, "installer-romfs") + ".img"
        size = D.build_romfs(args.firmware, image)
        if size > rom:
            raise BoardError("the firmware image (%d bytes) does not fit the board's romfs "
                             "partition (%d bytes)" % (size, rom))
        b.close()                              # mpremote takes the port for the partition
        update, finish = _progress("ROMFS", size)
        try:
            D.romfs_deploy(b.port, image, args.timeout, update)
        finally:
            finish()
        b = Board(b.port, args.timeout, args.stay)
        b.remove_tree("/lib/mimamori")         # a .mpy install from before would be dead weight
        how = "ROMFS image, %d bytes" % size
    else:
        files = D.compile_package(args.firmware, D.build_dir(args.firmware, "installer-mpy"))
        todo = D.changed_files(b, files)
        total = sum(os.path.getsize(p) for p in todo.values())
        update, finish = _progress(".mpy", total or 1)
        done = 0
        try:
            for dst, src in sorted(todo.items()):
                with open(src, "rb") as f:
                    data = f.read()
                b.write_file(dst, data, progress=lambda n, t, d=done: update(d + n))
                done += len(data)
                update(done)
        finally:
            finish()
        how = ".mpy files, %d of %d changed" % (len(todo), len(files))
    with open(os.path.join(args.firmware, "main.py"), "rb") as f:
        b.write_file("/main.py", f.read())
    # a soft reset in the raw REPL (not main.py: a configured board would close its REPL)
    # mounts the new firmware; its own answer says which version runs
    b.close()
    b = Board(b.port, args.timeout, args.stay)
    try:
        info = b.info()
    finally:
        b.restart()
    if info.get("version") != version:
        raise BoardError("after deploy the board reports version %s, not %s"
                         % (info.get("version"), version))
    return "mimamori %s (%s)" % (version, how), info


def cmd_deploy(args):
    b = Board.open(args.port, args.timeout, args.stay)
    try:
        what, info = _deploy(args, b)
    except BaseException:
        b.close()
        raise
    print("deployed %s; config: %s" % (what, info.get("config")))


def cmd_update(args):
    b = Board.open(args.port, args.timeout, args.stay)
    try:
        try:
            old = b.info().get("version")
        except BoardError:
            raise BoardError("the board does not run mimamori firmware: use deploy for a new "
                             "board (update keeps an installed house)")
        what, info = _deploy(args, b)
    except BaseException:
        b.close()
        raise
    print("updated %s -> %s; config and state kept (config: %s)" % (old, what,
                                                                    info.get("config")))


def cmd_check(args):
    config, secrets = Site(args.site).check()
    from mimamori.store.config import warnings
    for w in warnings(config):
        print("warning: " + w)
    print("ok: %d zones, %d users, %d cards (site %s)" % (
        len(config["zones"]), len(secrets["users"]), len(secrets["cards"]), config["site_id"]))


def cmd_configure(args):
    site = Site(args.site)
    site.check()                       # nothing is written when anything is wrong
    files = site.files()
    b = _connect(args)
    try:
        for path in ("/pins.json", "/config.json", "/secrets.json"):
            b.write_file(path, files[path])
    finally:
        b.restart()
    print("configured: config.json, secrets.json, pins.json written (secrets not shown); the "
          "controller restarts with them")


def _push_secrets(args, site):
    if args.local:
        print("secrets.json updated in %s (not sent: --local)" % site.folder)
        return
    data = site.files()["/secrets.json"]
    b = _connect(args)
    try:
        b.write_file("/secrets.json", data)
    finally:
        b.restart()
    print("secrets.json written to the board (codes and cards hashed, not shown)")


def cmd_codes_set(args):
    site = Site(args.site)
    site.check()
    name = site.set_code(args.user, _read_secret("code"))
    print("code of user %d (%s) set" % (args.user, name))
    _push_secrets(args, site)


def cmd_cards_add(args):
    site = Site(args.site)
    site.check()
    if args.read:
        b = _connect(args)
        try:
            print("hold the card to the board's reader...", flush=True)
            got = b.service("read_card", args.wait * 1000, timeout=args.wait + args.timeout)
        finally:
            b.restart()
        uid = got[0]["card"] if got and "card" in got[0] else None
        if not uid:
            raise BoardError("no card read")
        print("card read (%s)" % got[0].get("kind", "?"))
    else:
        uid = _read_secret("card")
    card_id = site.add_card(args.user, uid)
    print("card %d enrolled for user %d" % (card_id, args.user))
    _push_secrets(args, site)


def cmd_cards_revoke(args):
    site = Site(args.site)
    site.revoke_card(args.card)
    print("card %d revoked" % args.card)
    _push_secrets(args, site)


def cmd_cards_list(args):
    rows = Site(args.site).cards()
    if not rows:
        print("no cards")
    for card, user, name in rows:
        print("card %s  user %s %s" % (card, user, name))


def cmd_walktest(args):
    code = _read_secret("code")
    b = _connect(args)
    end = {}

    def show(o):
        if o.get("walk") == "start":
            print("walk test running: walk the house, trigger every sensor; Ctrl-C (or the "
                  "installer code on the panel) ends it", flush=True)
        elif "zone" in o:
            print("zone %s %s (%s): %s" % (o["zone"], o.get("name", ""), o.get("type", ""),
                                           "triggered" if o.get("active") else "restored"),
                  flush=True)
        elif o.get("walk") == "end":
            end.update(o)
    try:
        b.service("walktest", code, args.seconds, on_object=show, timeout=0)
    finally:
        b.restart()
    left = end.get("untriggered") or []
    if left:
        print("never triggered: " + ", ".join("%s %s" % (z["zone"], z.get("name", ""))
                                              for z in left))
    else:
        print("every zone triggered")


LOG_FIELDS = ("source", "seq", "time", "cid", "q", "zone", "user", "kind", "text")


def cmd_logs(args):
    b = _connect(args)
    try:
        got = b.service("logs", args.since)
    finally:
        b.restart()
    events = [o for o in got if "log" not in o]
    logs = [o["log"] for o in got if "log" in o]
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "json":
            json.dump({"events": events, "log": logs}, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            w = csv.writer(out)
            w.writerow(LOG_FIELDS)
            for e in events:
                w.writerow(["event", e.get("seq"), e.get("time", e.get("ticks")), e.get("cid"),
                            e.get("q"), e.get("zone"), e.get("user"), e.get("kind"),
                            e.get("text")])
            for e in logs:
                w.writerow(["log", "", e.get("time"), "", "", "", "", e.get("level"),
                            e.get("msg")])
    finally:
        if args.output:
            out.close()


def cmd_status(args):
    b = _connect(args)
    try:
        st = b.service("status")[0]
    finally:
        b.restart()
    if args.json:
        print(json.dumps(st, ensure_ascii=False))
        return
    print("mode: %s (%s)" % (st.get("mode_label", ""), st.get("mode", "")))
    print("troubles: %s" % (", ".join(_item(t, "cid", "text") for t in st.get("troubles") or ())
                            or "none"))
    print("open zones: %s" % (", ".join(_item(z, "zone", "name")
                                        for z in st.get("open_zones") or ()) or "none"))
    print("alarm memory: %s" % ("yes" if st.get("alarm_memory") else "no"))
    if st.get("lockout_s"):
        print("keypad locked out for %d s (wrong codes)" % st["lockout_s"])


def _item(d, num, text):
    """"3 リビング窓" from {"zone": 3, "name": "リビング窓"} (or the value as it is)."""
    if not isinstance(d, dict):
        return str(d)
    return ("%s %s" % (d.get(num, ""), d.get(text, ""))).strip()


def cmd_factory_reset(args):
    confirm = args.confirm
    if confirm is None:
        sys.stdout.write("This erases the board's config, secrets (codes, cards) and history. "
                         "Type ERASE to go on: ")
        sys.stdout.flush()
        confirm = sys.stdin.readline().strip()
    if confirm != "ERASE":
        raise Fail("not confirmed: nothing erased")
    b = _connect(args)
    try:
        b.service("factory_reset", "ERASE")
    finally:
        b.restart()
    print("factory reset done: the board waits for configure")


# --- the command line -------------------------------------------------------------------------

def parser():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--port", help="the board's serial port (default: $MIMAMORI_PORT, else the "
                    "first USB serial port)")
    ap.add_argument("--site", default=".", help="the house's folder: config.json, "
                    "secrets.json (pins.json) (default: .)")
    ap.add_argument("--timeout", type=float, default=10,
                    help="seconds of silence that mean the board stopped answering (10)")
    ap.add_argument("--stay", action="store_true", help="leave the board in installer mode "
                    "afterwards (not guarding: the next verb needs no code at the panel; a "
                    "verb without --stay, or the board's 30-minute watchdog, restarts it)")
    ap.add_argument("--firmware", default=D.FIRMWARE, help=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = sub.add_parser("flash", help="write a MicroPython image: erase, write, verify")
    p.add_argument("image", help="the image (.bin) to write, e.g. the MIMAMORI_ESP32 build")
    p.add_argument("--chip", default="esp32", choices=sorted(D.IMAGE_OFFSET))
    p.add_argument("--baud", type=int, default=460800)
    p.add_argument("--connect-attempts", type=int, help="esptool's attempts to reach the "
                   "chip's bootloader (default esptool's, 7)")
    p.add_argument("--dry-run", action="store_true", help="print the esptool commands only")
    p.set_defaults(fn=cmd_flash)

    p = sub.add_parser("deploy", help="put the firmware on the board (ROMFS, else .mpy)")
    p.add_argument("--mpy", action="store_true", help=".mpy files even if the board has a "
                   "romfs partition")
    p.set_defaults(fn=cmd_deploy)

    p = sub.add_parser("update", help="new firmware on an installed board; config and state "
                       "kept")
    p.add_argument("--mpy", action="store_true", help=".mpy files even with a romfs partition")
    p.set_defaults(fn=cmd_update)

    p = sub.add_parser("check", help="check the site folder with the firmware's validator (no "
                       "board)")
    p.set_defaults(fn=cmd_check)

    p = sub.add_parser("configure", help="check, then write config, secrets and pins to the "
                       "board")
    p.set_defaults(fn=cmd_configure)

    p = sub.add_parser("codes", help="users' codes")
    s = p.add_subparsers(dest="what", metavar="ACTION", required=True)
    q = s.add_parser("set", help="set a user's code: asked for twice (hidden), or one line "
                     "on stdin")
    q.add_argument("--user", type=int, required=True, help="the user's id in secrets.json")
    q.add_argument("--local", action="store_true", help="edit the site folder only")
    q.set_defaults(fn=cmd_codes_set)

    p = sub.add_parser("cards", help="ライフカード")
    s = p.add_subparsers(dest="what", metavar="ACTION", required=True)
    q = s.add_parser("add", help="enrol a card: its id read on the board (--read), or typed")
    q.add_argument("--user", type=int, required=True, help="the card's user id")
    q.add_argument("--read", action="store_true", help="read the card on the board's reader")
    q.add_argument("--wait", type=int, default=10, help="seconds to wait for the card (10)")
    q.add_argument("--local", action="store_true", help="edit the site folder only")
    q.set_defaults(fn=cmd_cards_add)
    q = s.add_parser("revoke", help="remove a card")
    q.add_argument("--card", type=int, required=True, help="the card's id (cards list)")
    q.add_argument("--local", action="store_true", help="edit the site folder only")
    q.set_defaults(fn=cmd_cards_revoke)
    q = s.add_parser("list", help="the enrolled cards (ids and users; the numbers are hashed)")
    q.set_defaults(fn=cmd_cards_list)

    p = sub.add_parser("walktest", help="installer mode: sensor triggers live, then the zones "
                       "never triggered")
    p.add_argument("--seconds", type=int, default=600, help="ends by itself after (600)")
    p.set_defaults(fn=cmd_walktest)

    p = sub.add_parser("logs", help="the event journal and the controller's log")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--since", type=int, default=0, help="events after this seq only")
    p.add_argument("-o", "--output", help="write to this file (default: the terminal)")
    p.set_defaults(fn=cmd_logs)

    p = sub.add_parser("status", help="mode, troubles, open zones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_status)

    p = sub.add_parser("factory-reset", help="erase config, secrets and history (asks)")
    p.add_argument("--confirm", help="ERASE, to confirm without the question (scripts)")
    p.set_defaults(fn=cmd_factory_reset)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.fn(args)
    except SiteError as e:
        for line in e.errors:
            print("%s: %s" % (PROG, line), file=sys.stderr)
        print("%s: error: nothing was written" % PROG, file=sys.stderr)
        return 1
    except (BoardError, Fail) as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    except SystemExit as e:          # hash_secret's one-line refusals
        if isinstance(e.code, str):
            print("%s: error: %s" % (PROG, e.code.replace("hash_secret: ", "")), file=sys.stderr)
            return 1
        raise
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
