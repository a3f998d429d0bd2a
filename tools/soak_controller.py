#!/usr/bin/env python3
"""The controller of the soak (tools/soak.py): the real firmware App on the virtual board, in
real time, against a real broker, raising 異常 by pressing the panic and medical buttons. Meant
to be killed with SIGKILL at any point and started again on the same --dir (the board's flash).

    python tools/soak_controller.py --dir /tmp/flash --port 1883 --go /tmp/go \
        [--press-every-ms 400] [--quota-bytes N]

While the file --go exists it presses a button every --press-every-ms (each press is one 異常:
the 24-hour zones alarm at once in every state). Every line the App logs goes to stdout ("event
<seq> <kind> <cid> ..." once an event is journalled); twice a second a line
"STATUS next_seq=<n> pending=<n> up=<0|1> errors=<n>". With --quota-bytes the data dir behaves
as a flash of that size (tools/soak_flash.py): writes past it fail with ENOSPC.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import hostpath  # noqa: E402,F401 - firmware/ and the host fakes
import vboard  # noqa: E402 - also lib/ (umqtt.simple)
import hostclock  # noqa: E402
import soak_site  # noqa: E402

PANIC, MEDICAL = 12, 13       # the sample house's 非常ボタン and 救急ボタン (NO contacts)
HOLD_MS = 200


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--press-every-ms", type=int, default=400)
    p.add_argument("--quota-bytes", type=int, default=0)
    o = p.parse_args(argv)
    if o.quota_bytes:
        import soak_flash
        soak_flash.install(o.dir, o.quota_bytes)
    config, secrets = soak_site.sample(o.host, o.port)
    hostclock.use_real()

    def log(msg):
        print(msg, flush=True)

    board = vboard.VirtualBoard(config, secrets, o.dir, log=log)
    print("BOOT next_seq=%d pending=%d epoch=%s" % (
        board.app.journal.next_seq, board.app.journal.pending_count(), board.app.journal.epoch),
        flush=True)
    last_press = 0.0
    release_at = None
    button = PANIC
    last_status = 0.0
    while True:
        t = time.monotonic()
        if release_at is not None and t >= release_at:
            board.set_zone(button, False)
            release_at = None
            button = MEDICAL if button == PANIC else PANIC
        elif (release_at is None and t - last_press >= o.press_every_ms / 1000.0
              and os.path.exists(o.go)):
            board.set_zone(button, True)
            release_at = t + HOLD_MS / 1000.0
            last_press = t
        board.step()          # 10 ms of real time: RealClock.advance sleeps
        if t - last_status >= 0.5:
            last_status = t
            app = board.app
            print("STATUS next_seq=%d pending=%d up=%d errors=%d" % (
                app.journal.next_seq, app.journal.pending_count(), int(app.link.connected),
                app.errors), flush=True)


if __name__ == "__main__":
    sys.exit(main())
