# Issue 11.5: each vocabulary has one home. The modes, zone types and roles are declared in
# core/vocab.py, the Contact ID codes in core/events.py, the resident-facing Japanese texts in
# core/texts.py; everything else imports them. These checks read the firmware's source, so a
# second declaration (a Japanese literal in another module, a mode constant defined twice, a
# per-type table that forgets a type) fails here rather than drifting apart in the field.
import ast
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import font  # noqa: E402  (tools/font.py: the scan the display font is built from)
from mimamori.comms import discovery  # noqa: E402
from mimamori.core import events as ev  # noqa: E402
from mimamori.core import texts, vocab, zones  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")


def _modules():
    for top, _dirs, files in os.walk(FIRMWARE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(top, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, FIRMWARE), ast.parse(f.read())


def test_japanese_texts_live_only_in_texts_py():
    # the same scan the display font is built from (tools/font.py): every Japanese string
    # constant in the firmware, docstrings left out
    found = [w + " " + repr(t) for w, t in font.firmware_texts()
             if not w.startswith(os.path.join("firmware", "mimamori", "core", "texts.py"))
             and not w.startswith(os.path.join("firmware", "mimamori", "io", "font_ja.py"))]
    assert found == [], "Japanese text outside core/texts.py:\n" + "\n".join(found)


def test_vocabulary_constants_are_assigned_once():
    """MODE_*, ARM_MODES, MODES, ZONE_TYPES, ROLES, CID_*: one assignment in the whole firmware."""
    seen = {}
    pattern = re.compile(r"^(MODE_[A-Z]+|ARM_MODES|MODES|ZONE_TYPES|ROLES|CID_\w+|MODE_LABELS|"
                         r"EVENT_LABELS|TROUBLE_TEXT|SERVICES)$")
    for rel, tree in _modules():
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name) and pattern.match(t.id):
                        seen.setdefault(t.id, []).append(rel)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert twice == {}
    assert seen["MODES"] == ["mimamori/core/vocab.py"]
    assert seen["MODE_LABELS"] == ["mimamori/core/texts.py"]


def test_every_mode_has_a_label():
    assert sorted(texts.MODE_LABELS) == sorted(vocab.MODES)


def test_every_event_code_has_a_label_and_the_labels_no_stray_code():
    assert sorted(texts.EVENT_LABELS) == sorted(ev.CATALOGUE)
    assert set(texts.TROUBLE_TEXT) <= set(ev.CATALOGUE)
    for cid in ev.CATALOGUE:
        assert ev.CATALOGUE[cid][0] in texts.SERVICE_LABELS


def test_every_zone_type_is_in_each_per_type_table():
    """Adding a zone type to core/vocab.py without its Contact ID code, its Home Assistant
    class or its Japanese name fails here (README "Architecture": where to add a zone type)."""
    types = set(vocab.ZONE_TYPES)
    assert set(texts.ZONE_TYPE_LABELS) == types
    assert set(discovery.DEVICE_CLASS) == types
    # fire reports by detector (smoke / heat / generic); cancel is a key, never an alarm
    assert set(zones._TYPE_CID) | {"fire", "cancel"} == types
