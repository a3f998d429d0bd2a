"""The installer's verbs (tools/installer.py parses the command line and calls these): each
takes the parsed arguments, talks to the board through installer_board.Board and the site folder
through installer_site.Site, prints what the installer needs to read, and raises BoardError,
SiteError or Fail with one line when something is wrong.
"""
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
from installer_site import Site  # noqa: E402


class Fail(Exception):
    """The installer said no (a confirmation not given): one line, nothing done."""


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
