"""Levels and sides for the new-case form: a spine map to tap, and the typed form ("T12, L1 left")."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from ..domain.errors import Refusal
from ..domain.setup import ALL_LEVELS, SIDES, canonical_level
from .forms import GAP, label
from .names import name
from .widgets import MIN_TARGET, BigButton

SIDE_WORDS = {"l": ("left",), "left": ("left",), "r": ("right",), "right": ("right",), "b": SIDES, "both": SIDES}
# Spine columns, head to tail: cervical | thoracic | lumbar and sacral (the treated levels cluster T5–L5).
SPINE_COLUMNS = (("Cervical", "C"), ("Thoracic", "T"), ("Lumbar · sacral", "LS"))


def parse_levels(text: str) -> dict[str, tuple[str, ...]]:
    """'T12, L1 left, L2 r' -> {'T12': both, 'L1': ('left',), 'L2': ('right',)}; a level alone is both sides."""
    plan: dict[str, tuple[str, ...]] = {}
    last = None
    for word in (w for w in re.split(r"[\s,;]+", text.strip()) if w):
        side = SIDE_WORDS.get(word.lower())
        if side is not None:
            if last is None:
                raise Refusal("levels", f"'{word}' must follow a level (e.g. T12 left)")
            plan[last] = side
            continue
        last = canonical_level(word)
        if last in plan:
            raise Refusal("levels", f"{last} is listed twice")
        plan[last] = SIDES
    if not plan:
        raise Refusal("levels", "type at least one level, e.g. T12, L1 left")
    return plan


class SpineMap(QWidget):
    """C1–S5 as three columns read top to bottom; each level toggles and has its own L and R toggles."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        name(self, "newcase.spine", "Spine: planned levels and sides")
        self.levels: dict[str, BigButton] = {}
        self.sides: dict[tuple[str, str], BigButton] = {}
        # Narrow padding only (colours and the rest stay the room stylesheet's), so 29 rows of three
        # 48 px targets fit beside the screen on a 1280 px display.
        self.setStyleSheet("QPushButton { padding: 2px 4px; }")
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(GAP // 2)
        for column, (title, regions) in enumerate(SPINE_COLUMNS):
            grid.addWidget(label(title, "section"), 0, column * 4, 1, 3)
            if column < len(SPINE_COLUMNS) - 1:
                grid.setColumnMinimumWidth(column * 4 + 3, 3 * GAP)
            for row, level in enumerate((lv for lv in ALL_LEVELS if lv[0] in regions), start=1):
                self._add_row(grid, row, column * 4, level)

    def _add_row(self, grid: QGridLayout, row: int, col: int, level: str) -> None:
        button = BigButton(level, f"newcase.level.{level}")
        button.setAccessibleName(f"Level {level}")
        button.setCheckable(True)
        button.setProperty("role", "choice")
        button.setFixedWidth(72)
        button.toggled.connect(lambda on, lv=level: self._level_toggled(lv, on))
        self.levels[level] = button
        grid.addWidget(button, row, col)
        for offset, side in enumerate(SIDES, start=1):
            toggle = BigButton(side[0].upper(), f"newcase.level.{level}.{side}")
            toggle.setAccessibleName(f"{level} {side} side")
            toggle.setCheckable(True)
            toggle.setEnabled(False)
            toggle.setFixedWidth(MIN_TARGET + 8)
            toggle.toggled.connect(lambda _on: self.changed.emit())
            self.sides[(level, side)] = toggle
            grid.addWidget(toggle, row, col + offset)

    def _level_toggled(self, level: str, on: bool) -> None:
        for side in SIDES:
            toggle = self.sides[(level, side)]
            toggle.blockSignals(True)
            toggle.setChecked(on)  # a new level starts bipedicular; one tap on L or R makes it unipedicular
            toggle.setEnabled(on)
            toggle.blockSignals(False)
        self.changed.emit()

    def plan(self) -> list[dict]:
        return [
            {"level": lv, "sides": [s for s in SIDES if self.sides[(lv, s)].isChecked()]}
            for lv, button in self.levels.items()
            if button.isChecked()
        ]

    def set_plan(self, plan: dict[str, tuple[str, ...]]) -> None:
        self.blockSignals(True)
        for level, button in self.levels.items():
            button.setChecked(level in plan)
            for side in SIDES:
                self.sides[(level, side)].setChecked(side in plan.get(level, ()))
        self.blockSignals(False)
        self.changed.emit()

    def summary(self) -> str:
        words = {("left", "right"): "both sides", ("left",): "left", ("right",): "right", (): "no side!"}
        return ", ".join(f"{p['level']} {words[tuple(p['sides'])]}" for p in self.plan()) or "No level chosen."
