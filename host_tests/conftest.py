# Host test set-up: the firmware package, the hardware fakes and shared helpers are importable,
# and the MicroPython plugin collects the dual-runtime tests a second and third time.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), os.path.join(HERE, "fakes"), os.path.join(HERE, "support")):
    if p not in sys.path:
        sys.path.insert(0, p)

pytest_plugins = ["mpy.plugin"]


# ---- a Debian peer that is not installed: the test is skipped, naming the package -------------
# tools/setup.sh installs the peers when run as root; a non-root user without them gets a warning
# and goes on (issue 16). A test that then needs a missing peer is reported as skipped with the
# package to install, never as a failure; a peer that IS installed never turns a failure into a
# skip (the program is looked up on PATH again before skipping).
PEER_PROGRAMS = {"mosquitto": "mosquitto", "mosquitto_passwd": "mosquitto",
                 "mosquitto_pub": "mosquitto-clients", "mosquitto_sub": "mosquitto-clients",
                 "multimon-ng": "multimon-ng", "sox": "sox", "openssl": "openssl"}


def missing_peer(exc):
    """The Debian package whose absence raised exc (or anything in its chain), else None."""
    import shutil
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = getattr(exc, "filename", None)
        if isinstance(exc, FileNotFoundError) and name in PEER_PROGRAMS and \
                shutil.which(name) is None:
            return PEER_PROGRAMS[name]
        if isinstance(exc, RuntimeError) and str(exc).startswith("libspandsp2 is missing"):
            return "libspandsp2"
        exc = exc.__cause__ or exc.__context__
    return None


import pytest  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.excinfo is not None:
        pkg = missing_peer(call.excinfo.value)
        if pkg:
            rep.outcome = "skipped"
            rep.longrepr = (str(item.fspath), item.location[1] or 0,
                            "Skipped: needs the Debian package %s, not installed (as root: "
                            "apt-get install %s; or make setup as root)" % (pkg, pkg))
