// mimamori controller on an ESP32-S3-WROOM-1-N8R8 (based on the port's ESP32_GENERIC_S3).
#define MICROPY_HW_BOARD_NAME               "mimamori controller (ESP32-S3-WROOM-1-N8R8)"
#define MICROPY_HW_MCU_NAME                 "ESP32-S3"

// The DevKitC-1's UART port (a CP210x bridge on GPIO43/44) carries the REPL, as on the port's
// ESP32_GENERIC_S3; the native USB pins (GPIO19/20) are refused for wiring in pins.json.
#define MICROPY_HW_ENABLE_UART_REPL         (1)

// ROMFS: the firmware is deployed as a ROMFS image (`mpremote romfs deploy`) into the `romfs`
// partition and runs in place from flash, mounted at /rom with /rom/lib on sys.path: its bytecode
// costs no heap, and an update does not rebuild MicroPython.
#define MICROPY_VFS_ROM                     (1)
