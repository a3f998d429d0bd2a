# Host shim: umqtt.simple imports `ubinascii`; on CPython that is `binascii`.
from binascii import *  # noqa: F401,F403
