# `vfs` on the virtual board: the interpreter's own, with rom_ioctl backed by the host's ROMFS
# partition file, so `mpremote romfs deploy` (and the installer) write it as on a board. The new
# image is mounted at /rom on the next reset.
import vfs as _vfs
from vfs import *   # noqa: F401,F403
import binascii
import _vb

BLOCK = 4096
ENODEV = 19


class _Partition:
    """What rom_ioctl(2) gives: a region of the partition's size (mpremote reads len())."""

    def __len__(self):
        return _vb.rom_size()


def rom_ioctl(op, *args):
    size = _vb.rom_size()
    if op == 1:                       # number of ROMFS partitions
        return 1 if size else 0
    if args and args[0] != 0 or not size:
        return -ENODEV
    if op == 2:                       # the partition
        return _Partition()
    if op == 3:                       # prepare (erase): (id, length) or (id, offset, length)
        offset, length = (0, args[1]) if len(args) == 2 else (args[1], args[2])
        _vb.rom_erase(offset, length)
        return 4                      # minimum write size
    if op == 4:                       # write (id, offset, buf)
        _vb.rom_write(args[1], binascii.hexlify(args[2]).decode())
        return 0
    if op == 5:                       # writing finished
        return 0
    if op == 6:                       # block size
        return BLOCK
    return -22
