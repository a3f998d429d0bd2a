# mimamori boot: load and validate the configuration, join Wi-Fi, restore the saved state and run
# the loop. A bad configuration stops here with every problem printed (the installer reads them
# over mpremote) rather than running a controller that guards the house wrongly.
import mimamori.boot  # noqa: E402


if __name__ == "__main__":
    mimamori.boot.main()
