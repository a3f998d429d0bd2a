# Every firmware module compiles with mpy-cross for the ESP32 (xtensawin): a CPython-only
# construct (match, a walrus in a comprehension scope MicroPython lacks, ...) fails here.
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build  # noqa: E402


@pytest.mark.parametrize("rel", sorted(build.sources()))
def test_module_compiles_for_esp32(rel, tmp_path):
    proc = subprocess.run([build.mpy_cross(), "-march=xtensawin", "-o", str(tmp_path / "m.mpy"),
                           os.path.join(build.FIRMWARE, rel)], capture_output=True, text=True)
    assert proc.returncode == 0, "mpy-cross rejects %s: %s" % (rel, proc.stderr)


def test_make_build_prints_size_table(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, check=True)
    assert "total (" in proc.stdout and "mimamori/compat.py" in proc.stdout
    assert (tmp_path / "mimamori" / "compat.mpy").exists()
