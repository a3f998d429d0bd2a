# mimamori controller on an ESP32-WROOM-32E (4 MiB flash, no PSRAM): boards/esp32-devkitc.
# Out-of-tree MicroPython board, based on the port's ESP32_GENERIC. Build from the port folder:
#   cd micropython/ports/esp32 && make BOARD_DIR=/path/to/mimamori/boards/MIMAMORI_ESP32
# (README "The image"). Relative paths here are the port's own (ports/esp32/...).
include(boards/mpconfigboard_esp32_common.cmake)

list(APPEND SDKCONFIG_DEFAULTS
    boards/sdkconfig.csi
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

# ESP-IDF reads CONFIG_PARTITION_TABLE_CUSTOM_FILENAME relative to the port folder: give it the
# absolute path of this board's table through a generated sdkconfig fragment.
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.mimamori_partitions
    "CONFIG_PARTITION_TABLE_CUSTOM=y\nCONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${MICROPY_BOARD_DIR}/partitions-mimamori.csv\"\n")
list(APPEND SDKCONFIG_DEFAULTS ${CMAKE_BINARY_DIR}/sdkconfig.mimamori_partitions)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
