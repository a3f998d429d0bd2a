# `asyncio` on the virtual board: just what the firmware's loop needs (app.run(): an endless
# coroutine awaiting sleep_ms), run by sleeping between steps. The interpreter's own asyncio is
# the browser's event loop, which never turns while Python runs synchronously under Node.
import vtime


def sleep_ms(ms):
    yield ms


def sleep(s):
    yield int(s * 1000)


def run(coro):
    while True:
        try:
            ms = coro.send(None)
        except StopIteration as e:
            return e.value
        vtime.sleep_ms(ms if isinstance(ms, int) else 0)
