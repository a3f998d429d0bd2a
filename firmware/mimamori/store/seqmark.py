# The journal's epoch and seq high-water mark (store/journal.py says why: `seq` never goes
# backwards, and `epoch` names the installation). The mark is "<epoch> <hi>", two checksummed
# copies (store/sealed.py); the journal writes it (Journal._save_mark), this reads it at boot.
import os
from binascii import hexlify

from mimamori.store import sealed

MARK = "seq.mark"
MARK_BLOCK = 64     # seqs reserved per mark write (2 file writes per 48 events or so), and at
                    # most this gap in seq after a reboot
MARK_AHEAD = 16     # the mark is raised this many seqs before it runs out


def new_epoch():
    """8 lowercase hex chars, random: the hardware RNG on a board (os.urandom), else the random
    module, else the clock (a new installation only needs to differ from the last one)."""
    try:
        return hexlify(os.urandom(4)).decode()
    except (AttributeError, OSError, NotImplementedError):
        pass
    try:
        import random
        return "%08x" % random.getrandbits(32)
    except (ImportError, AttributeError, ValueError):
        from mimamori.compat import ticks_ms
        return "%08x" % ((ticks_ms() * 2654435761) & 0xFFFFFFFF)


def _is_epoch(s):
    if len(s) != 8:
        return False
    for c in s:
        if c not in "0123456789abcdef":
            return False
    return True


def load(j, top, newest):
    """Epoch and next_seq from the mark and the records found. Writes nothing: the mark is
    written by the first append (an idle controller writes nothing).

    The boot continues above the mark, not after the newest record: a record may be lost
    (torn, rotten, a segment gone) or may never have reached a full flash, and its report
    may have gone out from RAM all the same. A gap in seq after a reboot (at most
    MARK_BLOCK), never a reuse."""
    m = j._mark
    payload = m.load()
    mark = None
    if payload is not None:
        try:
            ep, hi = payload.decode().split(" ")
            if _is_epoch(ep) and hi.isdigit():
                mark = (ep, int(hi))
        except (UnicodeError, ValueError):
            pass
        if mark is None:
            m.problems.append("%s: not a mark" % MARK)
    j.damage.extend(m.problems)
    if mark is not None:
        j.epoch, hi = mark
        j._hi = hi if hi > top else top
        j.next_seq = j.boot_seq = j._hi + 1
        return
    j.epoch = new_epoch()
    j.next_seq = j.boot_seq = top + 1
    if not newest and m.status == sealed.NONE:
        j.fresh = True          # nothing here before: a new installation
    elif m.status != sealed.NONE or payload is not None:
        j.damage.append("%s: lost, new epoch %s" % (MARK, j.epoch))
    # else: a journal from the version before the mark: a new epoch, seq continues
