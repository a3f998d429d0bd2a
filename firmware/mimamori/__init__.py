# mimamori (見守り): home security controller firmware.
VERSION = "0.1.0"
