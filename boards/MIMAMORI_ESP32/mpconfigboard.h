// mimamori controller on an ESP32-WROOM-32E (based on the port's ESP32_GENERIC).
#define MICROPY_HW_BOARD_NAME               "mimamori controller (ESP32-WROOM-32E)"
#define MICROPY_HW_MCU_NAME                 "ESP32"

// ROMFS: the firmware is deployed as a ROMFS image (`mpremote romfs deploy`) into the `romfs`
// partition and runs in place from flash, mounted at /rom with /rom/lib on sys.path: its bytecode
// costs no heap, and an update does not rebuild MicroPython.
#define MICROPY_VFS_ROM                     (1)
