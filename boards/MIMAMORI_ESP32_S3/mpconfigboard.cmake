# mimamori controller on an ESP32-S3-WROOM-1-N8R8 (8 MiB flash, 8 MiB octal PSRAM):
# boards/esp32s3-devkitc. Out-of-tree MicroPython board, based on the port's ESP32_GENERIC_S3
# (with its SPIRAM_OCT variant's settings). Build from the port folder:
#   cd micropython/ports/esp32 && make BOARD_DIR=/path/to/mimamori/boards/MIMAMORI_ESP32_S3
# (README "The image"). Relative paths here are the port's own (ports/esp32/...).
include(boards/mpconfigboard_esp32s3_common.cmake)

list(APPEND SDKCONFIG_DEFAULTS
    boards/sdkconfig.flash_qio_80m
    boards/sdkconfig.csi
    boards/sdkconfig.240mhz
    boards/sdkconfig.spiram_oct
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

# ESP-IDF reads CONFIG_PARTITION_TABLE_CUSTOM_FILENAME relative to the port folder: give it the
# absolute path of this board's table through a generated sdkconfig fragment.
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.mimamori_partitions
    "CONFIG_PARTITION_TABLE_CUSTOM=y\nCONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${MICROPY_BOARD_DIR}/partitions-mimamori.csv\"\n")
list(APPEND SDKCONFIG_DEFAULTS ${CMAKE_BINARY_DIR}/sdkconfig.mimamori_partitions)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
