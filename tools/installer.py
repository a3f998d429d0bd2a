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
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import installer_deploy as D  # noqa: E402
from installer_board import BoardError  # noqa: E402
from installer_site import SiteError  # noqa: E402
from installer_verbs import (Fail, cmd_cards_add, cmd_cards_list, cmd_cards_revoke,  # noqa: E402
                             cmd_check, cmd_codes_set, cmd_configure, cmd_deploy,
                             cmd_factory_reset, cmd_flash, cmd_logs, cmd_status, cmd_update,
                             cmd_walktest)


PROG = "mimamori-installer"


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
