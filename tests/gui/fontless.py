"""Names shown by Qt on a machine with no fonts of its own: run as a script under an empty fontconfig set-up.

`python -m tests.gui.fontless OUT.json NAME...` (with FONTCONFIG_FILE naming a configuration that
lists no font folders) registers the program's fonts as the window does, lays each name out in a
QLabel under the room stylesheet and writes, per name, the families used and the glyphs missing.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtGui import QFontDatabase, QTextLayout
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

EMPTY_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""


def glyph_runs(label: QLabel) -> list[tuple[str, list[int]]]:
    """(font family, glyph indexes) of each run Qt shapes for the label's text in the label's font."""
    label.ensurePolished()
    layout = QTextLayout(label.text(), label.font())
    layout.beginLayout()
    layout.createLine().setLineWidth(10_000)
    layout.endLayout()
    return [(run.rawFont().familyName(), list(run.glyphIndexes())) for run in layout.glyphRuns()]


def main(out: str, names: list[str]) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication([])  # noqa: F841 - kept alive while the labels exist
    from checklist_app.ui.theme import apply_theme, load_fonts

    system = QFontDatabase.families()
    load_fonts()
    page = QWidget()
    layout = QVBoxLayout(page)
    labels = [QLabel(name) for name in names]
    for label in labels:
        layout.addWidget(label)
    apply_theme(page, "light")
    result = {"system_families": system, "names": {}}
    for label in labels:
        runs = glyph_runs(label)
        result["names"][label.text()] = {
            "families": sorted({family for family, _ in runs}),
            "missing": sum(glyphs.count(0) for _, glyphs in runs),
        }
    page.grab().save(out.replace(".json", ".png"))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
