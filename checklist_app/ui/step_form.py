"""The fields of the open step: one input per template field, answers kept, defaults following the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..domain.state import CaseState, StepInstance
from ..domain.template import StepSpec
from .field_inputs import FieldInput, make_input, show_dependents
from .names import field_name


class StepForm(QWidget):
    """The inputs of one step; `values()` is what the nurse entered, `answers()` what she chose herself."""

    batch_requested = Signal(str)  # a repeatable step to record first: "cement_mix" or "balloon_kit"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs: dict[str, FieldInput] = {}
        self._state: CaseState | None = None
        self._spec: StepSpec | None = None
        self.rows = QVBoxLayout(self)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(14)

    def fill(self, state: CaseState, inst: StepInstance, values: dict[str, Any], now: datetime) -> None:
        """One input per field of the step, `values` put in (and marked as the nurse's own answers)."""
        self.clear()
        self._state, self._spec = state, inst.spec
        for spec in inst.spec.fields:
            widget = make_input(
                spec, field_name(inst.spec.id, inst.level, inst.side, spec.id), inst.label, state, now, inst.level
            )
            if spec.id in values:
                widget.set_value(values[spec.id])
            widget.changed.connect(self._show_asked)
            widget.action_requested.connect(self.batch_requested)
            self.inputs[spec.id] = widget
            self.rows.addWidget(widget)
            widget.show()  # at once, not on the next event-loop turn: the form is usable immediately
        self._show_asked()

    def _show_asked(self) -> None:
        if self._state is not None and self._spec is not None:
            show_dependents(self.inputs, self._state, self._spec)

    def mark_answered(self, field_ids: list[str]) -> None:
        for field_id in field_ids:
            self.inputs[field_id].touched = True

    def clear(self) -> None:
        self.inputs = {}
        while self.rows.count():
            widget = self.rows.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)  # out of the tree at once, so names never resolve to stale inputs
                widget.deleteLater()

    def sync(self, state: CaseState, now: datetime) -> None:
        """Follow changes made elsewhere (a batch recorded on the implants page, a handover, the clock
        ending a working time) without losing what the nurse has answered."""
        for widget in self.inputs.values():
            widget.sync(state, now)
        self._state = state
        self._show_asked()

    def answers(self) -> dict[str, Any]:
        """The values the nurse gave herself (not the ones the form proposed)."""
        return {f: v for f, v in self.values().items() if self.inputs[f].touched}

    def values(self) -> dict[str, Any]:
        """What the nurse entered, leaving out unanswered and irrelevant (hidden) fields."""
        answered = {f: w.value() for f, w in self.inputs.items() if not w.isHidden()}
        return {f: value for f, value in answered.items() if value is not None}
