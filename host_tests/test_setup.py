# tools/setup.sh as a non-root newcomer without the Debian packages (issue 16): a warning with the
# exact apt-get line, and set-up goes on (make sim has the amqtt fallback); a test that needs a
# missing peer is then skipped naming the package, and a failure with the peer installed stays a
# failure.
import os
import subprocess
import sys

import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _debs_block():
    """The Debian-packages part of tools/setup.sh, as it runs there."""
    text = open(os.path.join(ROOT, "tools", "setup.sh"), encoding="utf-8").read()
    start = text.index("debs=(")
    end = text.index("\nfi\n", start) + 4
    return "set -euo pipefail\n" + text[start:end] + 'echo "setup: after the Debian packages"\n'


def test_a_non_root_user_without_the_debian_packages_is_warned_and_setup_goes_on(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("dpkg-query", "exit 1"), ("id", "echo 1000")):   # nothing installed
        (fake / name).write_text("#!/bin/sh\n%s\n" % body)
        (fake / name).chmod(0o755)
    script = tmp_path / "debs.sh"
    script.write_text(_debs_block())
    p = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                       env=dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"])))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "setup:     as root: apt-get install mosquitto mosquitto-clients multimon-ng sox " \
           "openssl libspandsp2" in p.stdout
    assert "make sim uses the amqtt broker" in p.stdout
    assert p.stdout.rstrip().endswith("setup: after the Debian packages")


def test_a_test_whose_peer_is_missing_is_skipped_naming_the_package(tmp_path):
    # PATH without sox and multimon-ng: the landline judges' test cannot hear the audio
    bare = tmp_path / "bin"
    bare.mkdir()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                        "host_tests/test_landline_judges.py::"
                        "test_spandsp_kisses_off_every_report_kind_and_multimon_reads_the_same_"
                        "digits"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PATH=str(bare)))
    assert "SKIPPED [1]" in p.stdout and p.returncode == 0, p.stdout[-2000:]
    assert "needs the Debian package sox, not installed" in p.stdout


def test_an_installed_peer_never_turns_a_failure_into_a_skip():
    assert conftest.missing_peer(FileNotFoundError(2, "No such file", "sh")) is None
    e = FileNotFoundError(2, "No such file", "sox")
    assert conftest.missing_peer(e) == ("sox" if not _on_path("sox") else None)
    assert conftest.missing_peer(RuntimeError("libspandsp2 is missing: ...")) == "libspandsp2"
    assert conftest.missing_peer(ValueError("mosquitto")) is None


def _on_path(name):
    import shutil
    return shutil.which(name) is not None
