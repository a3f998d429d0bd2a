# Host shim: umqtt.simple imports `ustruct`; on CPython that is `struct`.
from struct import *  # noqa: F401,F403
