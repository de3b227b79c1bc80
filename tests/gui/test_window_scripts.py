"""The window shows names in every script with the fonts the program ships: no missing glyph, no system font needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QRawFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from checklist_app import paths
from checklist_app.ui.theme import apply_theme, load_fonts
from tests.conftest import setup_kwargs
from tests.gui.fontless import EMPTY_FONTCONFIG, glyph_runs
from tests.gui.window_helpers import find
from tests.note.test_note_scripts import NAMES


def bundled_fonts() -> list[QRawFont]:
    folder = paths.resources_dir() / "fonts"
    return [QRawFont(str(path), 12) for path in sorted(folder.glob("*.ttf"))]


@pytest.mark.parametrize("script", sorted(NAMES))
def test_a_name_in_any_script_shows_with_the_bundled_fonts_and_no_missing_glyph(qtbot, script):
    families = set(load_fonts())
    # Every character is in a font the program ships (so no system font is needed)...
    shipped = bundled_fonts()
    for ch in NAMES[script].replace(" ", ""):
        assert any(font.supportsCharacter(ord(ch)) for font in shipped), f"U+{ord(ch):04X}"
    # ...and a label under the room stylesheet draws it with those families, every glyph found.
    page = QWidget()
    qtbot.addWidget(page)
    label = QLabel(NAMES[script])
    QVBoxLayout(page).addWidget(label)
    apply_theme(page, "light")
    runs = glyph_runs(label)
    assert runs
    for family, glyphs in runs:
        assert family in families, family
        assert 0 not in glyphs, f"missing glyph in {family}"


def test_case_header_shows_the_patient_name_in_its_script(qtbot, make_window, service):
    team = {"operator": NAMES["devanagari"], "nurse": NAMES["thai"], "anaesthesia": NAMES["korean"]}
    patient = {"name": NAMES["arabic"], "weight_kg": 70.0, "mrn": "MRN12345", "date_of_birth": "1950-04-01"}
    case_id = service.start_case(**setup_kwargs(patient=patient, team=team)).case_id
    window = make_window()
    window.open_case(case_id)
    header = find(window, "header_patient", QLabel)
    assert header.text() == NAMES["arabic"]
    assert all(0 not in glyphs for _, glyphs in glyph_runs(header))
    assert not header.parentWidget().grab().isNull()


def test_on_a_machine_without_fonts_the_bundled_fonts_alone_show_every_name(tmp_path):
    config = tmp_path / "fonts.conf"
    config.write_text(EMPTY_FONTCONFIG.format(cache=tmp_path / "cache"), encoding="utf-8")
    out = tmp_path / "names.json"
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "QT_QPA_PLATFORM": "offscreen"}
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "tests.gui.fontless", str(out), *NAMES.values()], env=env, cwd=root, check=True
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    bundled = {"DejaVu Sans", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Thai"}
    bundled |= {"Droid Sans Fallback", "Noto Sans CJK KR"}
    assert not bundled & set(result["system_families"]), "the system's fonts are hidden from this process"
    for name in NAMES.values():
        shown = result["names"][name]
        assert shown["missing"] == 0, name
        assert set(shown["families"]) <= bundled, (name, shown["families"])
