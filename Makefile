# mimamori: the verbs. Every target works on a fresh clone: it creates .venv and node_modules itself.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.setup-done

.PHONY: setup test test-cpython test-micropython build sim bench soak deploy flash clean help

help:
	@echo "make setup   - create .venv, install Python and npm tools, the Debian packages the tests use"
	@echo "make test    - the whole host suite: CPython, real MicroPython (WebAssembly), mpy-cross"
	@echo "make build   - compile firmware/ to .mpy in build/ and print the size table"
	@echo "make sim     - the virtual house: interactive panel; SCENARIO=<name> runs one headless (SCENARIO=list)"
	@echo "make bench   - speed and memory figures, measured and printed as one table"
	@echo "make soak    - the long fault-injection and fuzz run (minutes): kill -9, damaged and full flash, hostile messages"
	@echo "make deploy  - copy the firmware to a board with mpremote (arrives with the installer issue)"
	@echo "make flash   - write a MicroPython image to a board (arrives with the installer issue)"

setup: $(STAMP)

$(STAMP): requirements-dev.txt package.json package-lock.json tools/setup.sh pyproject.toml
	bash tools/setup.sh
	@touch $@

test: $(STAMP)
	$(VPY) -m pytest host_tests $(PYTEST_ARGS)

build: $(STAMP)
	$(VPY) tools/build.py --march xtensawin --out build

bench: $(STAMP)
	$(VPY) tools/bench.py

# The long reliability soak (README "Reliability"). Counts can be changed, e.g.
#   make soak SOAK_ARGS="--only kill --controller-kills 100 --seed 7"
soak: $(STAMP)
	$(VPY) tools/soak.py $(SOAK_ARGS)

sim: $(STAMP)
	$(VPY) tools/sim.py $(if $(SCENARIO),--scenario $(SCENARIO))

deploy flash:
	@echo "make $@: not built yet - it arrives with the installer issue (mpremote scripts)."; exit 2

clean:
	rm -rf build .pytest_cache
