# The README's generated tables match the firmware's own definitions: keep the README true.
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("table", ["events"])
def test_generated_table_is_current(table):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "doc_tables.py"), table],
                         capture_output=True, text=True, check=True).stdout.strip()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert out in readme, ("README's %s table is out of date: paste the output of "
                           "`python tools/doc_tables.py %s`" % (table, table))


def test_readme_shows_the_two_quick_start_commands():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert "make sim" in readme and "make test" in readme
