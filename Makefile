# mimamori: the verbs. Every target works on a fresh clone: it creates .venv and node_modules itself.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done

.PHONY: setup test test-cpython test-micropython build sim bench soak deploy flash vboard clean help

help:
	@echo "make setup   - create .venv, install Python and npm tools, the Debian packages the tests use"
	@echo "make test    - the whole host suite: CPython, real MicroPython (WebAssembly), mpy-cross"
	@echo "make build   - compile firmware/ to .mpy in build/, print the size table, pack build/romfs.img"
	@echo "make sim     - the virtual house: interactive panel; SCENARIO=<name> runs one headless (SCENARIO=list); PANEL=1 the house with keypad and OLED"
	@echo "make bench   - speed and memory figures, measured and printed as one table"
	@echo "make soak    - the long fault-injection and fuzz run (minutes): kill -9, damaged and full flash, hostile messages"
	@echo "make deploy  - put the firmware on a board (ROMFS image, else .mpy): PORT=/dev/ttyUSB0"
	@echo "make flash   - erase, write, verify a MicroPython image: IMAGE=firmware.bin [CHIP=esp32s3] PORT=..."
	@echo "make vboard  - a virtual board on a pseudo-terminal for mpremote and the installer; prints its port"

setup: $(STAMP)

$(STAMP): requirements-dev.txt package.json package-lock.json tools/setup.sh pyproject.toml
	bash tools/setup.sh
	@touch $@

test: $(STAMP)
	$(VPY) -m pytest host_tests $(PYTEST_ARGS)

build: $(STAMP)
	$(VPY) tools/build.py --march xtensawin --out build
	$(VPY) tools/build.py --romfs --march xtensawin --out build

bench: $(STAMP)
	$(VPY) tools/bench.py

# The long reliability soak (README "Reliability"). Counts can be changed, e.g.
#   make soak SOAK_ARGS="--only kill --controller-kills 100 --seed 7"
soak: $(STAMP)
	$(VPY) tools/soak.py $(SOAK_ARGS)

sim: $(STAMP)
	$(VPY) tools/sim.py$(if $(SCENARIO), --scenario $(SCENARIO))$(if $(PANEL), --panel)

# The installer CLI (README "Installing a controller"); PORT defaults to $$MIMAMORI_PORT or the
# first USB serial port.
INSTALLER := $(VPY) tools/installer.py $(if $(PORT),--port $(PORT))

deploy: $(STAMP)
	$(INSTALLER) deploy

flash: $(STAMP)
	@test -n "$(IMAGE)" || { echo "make flash IMAGE=<MicroPython image .bin> [CHIP=esp32|esp32s3] [PORT=...]"; exit 2; }
	$(INSTALLER) flash $(IMAGE) $(if $(CHIP),--chip $(CHIP))

vboard: $(STAMP)
	$(VPY) tools/serialboard.py $(VBOARD_ARGS)

clean:
	rm -rf build .pytest_cache
