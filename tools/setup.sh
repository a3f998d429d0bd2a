#!/usr/bin/env bash
# make setup: everything the host tests need, installed from the project's own files.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python tools/fetch_lib.py   # device-side libs (lib/requirements.txt): umqtt.simple

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

# Debian packages the tests use as real peers: the MQTT broker and its clients, openssl (the
# throwaway CA of the TLS tests), the DTMF decoder, sox for audio, and spandsp (libspandsp2: the
# Contact ID receiver that judges the landline), fonts-misaki (the display font's source,
# tools/font.py). Installed when we are root and they are missing; otherwise a warning with the
# exact apt-get line, and set-up goes on: `make sim` then uses the pure-Python amqtt broker (the
# house without the line when libspandsp2 is missing), and each test that needs a missing peer is
# skipped naming the package (host_tests/conftest.py).
debs=(mosquitto mosquitto-clients multimon-ng sox openssl libspandsp2 fonts-misaki)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: these Debian packages are missing: ${missing[*]}"
    echo "setup:     as root: apt-get install ${missing[*]}"
    echo "setup: continuing without them: make sim uses the amqtt broker (pure Python); the tests that need them are skipped, each naming the package"
  fi
fi

# The host tools as a package (pyproject.toml): the console scripts mimamori-centre, -sim,
# -bench, -installer. Editable (the checkout is the code); offline (wheel: requirements-dev.txt).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -e .
echo "setup: done"
