# Frozen into the mimamori image (ESP32-S3). The port's own manifest first (asyncio, the
# networking bundle, umqtt, ...), as ESP32_GENERIC has it. The firmware itself is NOT frozen: it
# ships as a ROMFS image (tools/build.py --romfs, `mpremote romfs deploy`), so it can be updated
# without rebuilding MicroPython, and still runs in place from flash. Our MQTT client is our own
# (mimamori/proto/mqtt.py, comms/mqtt.py): it needs no umqtt; the port's manifest brings
# umqtt.simple anyway (kept: it costs flash, not RAM).
include("$(PORT_DIR)/boards/manifest.py")
