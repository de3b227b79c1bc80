"""Inline value entry, one control per template field type, sized for gloved fingers.

Each input returns what `ChecklistService.record_step` accepts (None when not answered), so the
service stays the only judge of validity; units are always shown next to numbers.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..domain import choices
from ..domain.present import batch_label
from ..domain.state import CaseState
from ..domain.template import FieldSpec, StepSpec
from ..domain.values import asked_fields
from .names import name
from .widgets import MIN_TARGET, FlowLayout, TextButton

NUMBER_RE = QRegularExpression(r"^\d{0,6}([.,]\d{0,3})?$")
INTEGER_RE = QRegularExpression(r"^\d{0,6}$")
DATE_RE = QRegularExpression(r"^\d{0,4}(-\d{0,2}(-\d{0,2})?)?$")


class FieldInput(QWidget):
    """One field of a step: its label and control. `value()` is None until answered."""

    changed = Signal()
    action_requested = Signal(str)  # a repeatable step ("cement_mix", "balloon_kit") to record first

    def __init__(self, spec: FieldSpec, object_name: str, context: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.object_name = object_name
        self.context = context  # the step's label, for accessible names
        # True once the nurse has answered this field herself: her answer is kept when the form is
        # shown again; an untouched field follows the case (the newest batch, a new team member).
        self.touched = False
        required = spec.required or spec.controls or spec.required_with
        self.label = QLabel(spec.label + ("" if required else "  (optional)"))
        self.label.setWordWrap(True)
        self.label.setProperty("role", "field_label")
        if spec.help:
            self.label.setToolTip(spec.help)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def sync(self, state: CaseState, now: datetime) -> None:
        """Follow a change made elsewhere (another page, the clock); an answer given here stays."""

    def _touch(self, *_: object) -> None:
        self.touched = True

    def accessible(self, what: str = "") -> str:
        return f"{what or self.spec.label}: {self.context}"

    def _row(self, *controls: QWidget) -> None:
        """Label on the left, controls on the right."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.label, 1)
        for control in controls:
            layout.addWidget(control)

    def _stacked(self, body: QLayout) -> None:
        """Label above, controls below (button lists)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addLayout(body)


class ButtonsInput(FieldInput):
    """Yes/No, one-of choices or several-of choices as big toggle buttons."""

    def __init__(
        self, spec: FieldSpec, object_name: str, context: str, level: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, object_name, context, parent)
        name(self, object_name, self.accessible())
        self.group = QButtonGroup(self)
        self.group.setExclusive(spec.type != "multi")
        self.buttons: dict[Any, QPushButton] = {}
        offered = spec.choices_at(level)  # only the answers that make sense at this level
        options = [(True, "Yes"), (False, "No")] if spec.type == "bool" else [(c.value, c.label) for c in offered]
        for value, text in options:
            suffix = ("yes" if value else "no") if spec.type == "bool" else str(value)
            button = TextButton(text, f"{object_name}.{suffix}")
            button.setAccessibleName(self.accessible(f"{text} — {spec.label}"))
            button.setCheckable(True)
            button.setProperty("role", "choice")
            if spec.type == "bool":
                button.setMinimumWidth(96)
            self.group.addButton(button)
            self.buttons[value] = button
            button.toggled.connect(lambda on, v=value: self._toggled(v, on))
            button.clicked.connect(self._touch)
        if spec.type == "bool":
            self._row(*self.buttons.values())
        else:
            flow = FlowLayout()
            for button in self.buttons.values():
                flow.addWidget(button)
            self._stacked(flow)

    def _toggled(self, value: Any, on: bool) -> None:
        if self.spec.type == "multi" and on:
            # A choice that stands alone (no known allergy) excludes every other, and the other way round.
            alone = self.spec.exclusive
            for other, button in self.buttons.items():
                if other != value and (value in alone or other in alone):
                    button.setChecked(False)
        self.changed.emit()

    def value(self) -> Any:
        picked = [v for v, b in self.buttons.items() if b.isChecked()]
        if self.spec.type == "multi":
            return picked or None
        return picked[0] if picked else None

    def set_value(self, value: Any) -> None:
        chosen = set(value or []) if self.spec.type == "multi" else {value}
        self.group.setExclusive(False)
        for v, button in self.buttons.items():
            button.setChecked(v in chosen and value is not None)
        self.group.setExclusive(self.spec.type != "multi")
        self.changed.emit()


class NumberInput(FieldInput):
    """A number typed on a keypad, with its unit shown (and chosen, when several are accepted)."""

    def __init__(self, spec: FieldSpec, object_name: str, context: str, parent: QWidget | None = None) -> None:
        super().__init__(spec, object_name, context, parent)
        unit = spec.unit or ""
        self.edit = QLineEdit()
        name(self.edit, object_name, self.accessible(f"{spec.label} in {unit}"))
        # Parented to the line edit, so it goes with it (an unparented validator outlives every form).
        pattern = INTEGER_RE if spec.type == "integer" else NUMBER_RE
        self.edit.setValidator(QRegularExpressionValidator(pattern, self.edit))
        self.edit.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.setFixedWidth(130)
        if spec.min is not None and spec.max is not None:
            self.edit.setPlaceholderText(f"{spec.min:g}–{spec.max:g}")
        self.edit.textChanged.connect(self.changed)
        self.edit.textEdited.connect(self._touch)
        self.units = QButtonGroup(self)
        self.unit_combo: QComboBox | None = None
        controls: list[QWidget] = [self.edit, *self._unit_controls(object_name)]
        self._row(*controls)

    def _unit_controls(self, object_name: str) -> list[QWidget]:
        """The unit: a label; two accepted units as toggles; more as a list (KAP has four)."""
        spec, unit = self.spec, self.spec.unit or ""
        if len(spec.accept_units) > 2:
            combo = QComboBox()
            name(combo, f"{object_name}.unit", self.accessible(f"{spec.label} unit"))
            combo.setMinimumHeight(MIN_TARGET)
            for accepted in spec.accept_units:
                combo.addItem(accepted, accepted)
            combo.setCurrentIndex(combo.findData(unit))
            self.unit_combo = combo
            return [combo]
        buttons: list[QWidget] = []
        for accepted in spec.accept_units if len(spec.accept_units) == 2 else ():
            button = TextButton(accepted, f"{object_name}.unit.{accepted}")
            button.setAccessibleName(self.accessible(f"{spec.label} unit {accepted}"))
            button.setCheckable(True)
            button.setChecked(accepted == unit)
            self.units.addButton(button)
            buttons.append(button)
        if not buttons:
            label = QLabel(unit)
            label.setProperty("role", "unit")
            label.setMinimumWidth(64)
            buttons.append(label)
        return buttons

    def unit(self) -> str:
        if self.unit_combo is not None:
            return str(self.unit_combo.currentData())
        checked = self.units.checkedButton()
        return checked.text() if checked else (self.spec.unit or "")

    def value(self) -> Any:
        text = self.edit.text().strip().replace(",", ".")
        if not text or text == ".":
            return None
        number: float | int = int(text) if self.spec.type == "integer" else float(text)
        unit = self.unit()
        return number if unit == (self.spec.unit or "") else (number, unit)

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else f"{value:g}" if isinstance(value, float) else str(value))
        for button in self.units.buttons():
            button.setChecked(button.text() == self.spec.unit)
        if self.unit_combo is not None:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(self.spec.unit))


class TextInput(FieldInput):
    """Free text, a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM, the room's local time)."""

    def __init__(self, spec: FieldSpec, object_name: str, context: str, parent: QWidget | None = None) -> None:
        super().__init__(spec, object_name, context, parent)
        self.edit = QLineEdit()
        name(self.edit, object_name, self.accessible())
        self.edit.setMaxLength(spec.max_length)
        if spec.type == "date":
            self.edit.setValidator(QRegularExpressionValidator(DATE_RE, self.edit))
            self.edit.setPlaceholderText("YYYY-MM-DD")
            self.edit.setFixedWidth(200)
        elif spec.type == "datetime":
            self.edit.setPlaceholderText("YYYY-MM-DD HH:MM")
            self.edit.setFixedWidth(260)
        else:
            self.edit.setMinimumWidth(240)
            self.edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.edit.textChanged.connect(self.changed)
        self.edit.textEdited.connect(self._touch)
        self._row(self.edit)

    def value(self) -> Any:
        text = self.edit.text().strip() or None
        if text is None or self.spec.type != "datetime":
            return text
        try:  # typed in the room's local time; stored with its offset (a wrong one is refused by name)
            return datetime.strptime(text, "%Y-%m-%d %H:%M").astimezone().isoformat()
        except ValueError:
            return text

    def set_value(self, value: Any) -> None:
        if self.spec.type == "datetime" and isinstance(value, str):
            with contextlib.suppress(ValueError):  # not a moment: shown as it is, refused by name on save
                value = datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")
        self.edit.setText("" if value is None else str(value))


RECORD_WORDS = {  # repeatable step -> (what is missing, the button that records one)
    "cement_mix": ("No cement batch within its working time: record a new batch", "Record cement batch"),
    "balloon_kit": ("No balloon kit recorded yet", "Record balloon kit"),
}


class ComboInput(FieldInput):
    """A product from the site catalogue, or the cement batch or balloon kit a step used.

    Batches and kits are listed newest first and preselected by the domain's rule
    (`domain.choices`): never a batch whose working time is over. A batch or kit recorded while the
    step is open (on the implants page) is offered first as soon as the nurse comes back.
    """

    def __init__(
        self,
        spec: FieldSpec,
        object_name: str,
        context: str,
        state: CaseState,
        now: datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(spec, object_name, context, parent)
        self.combo = QComboBox()
        name(self.combo, object_name, self.accessible())
        self.combo.setMinimumHeight(MIN_TARGET)
        self.combo.setMinimumWidth(300)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setPlaceholderText("Choose…")
        self.combo.activated.connect(self._touch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        layout.addLayout(row)
        self._offered: list[tuple[int, str]] = []
        if spec.type == "batch":
            missing, verb = RECORD_WORDS.get(spec.record or "", ("Nothing recorded yet", "Record it"))
            self.missing = QLabel(missing)
            self.missing.setProperty("kind", "warning")
            self.missing.setWordWrap(True)
            self.record = TextButton(verb, f"{object_name}.record_batch")
            self.record.setAccessibleName(self.accessible(f"{verb} first"))
            self.record.clicked.connect(lambda: self.action_requested.emit(spec.record or ""))
            # Under the list, full width: what is missing and the way to record it, never squeezed.
            below = QHBoxLayout()
            below.addWidget(self.missing, 1)
            below.addWidget(self.record)
            layout.addLayout(below)
            self.sync(state, now)
        else:
            for product in state.catalogue.entries(spec.catalogue or ""):
                self.combo.addItem(product.name, product.id)
            self.combo.setCurrentIndex(-1)
        self.combo.currentIndexChanged.connect(self.changed)

    def sync(self, state: CaseState, now: datetime) -> None:
        """List the batches or kits as they are now; keep the nurse's own choice while it stands."""
        if self.spec.type != "batch":
            return
        offered = [(e.seq, batch_label(state, e.seq)) for e in choices.offered(state, self.spec)]
        chosen = self.value()
        keep = self.touched and choices.still_valid(state, self.spec, chosen, now)
        wanted = chosen if keep else choices.preselected(state, self.spec, now)
        if offered != self._offered:
            self._offered = offered
            self.combo.blockSignals(True)
            self.combo.clear()
            for seq, text in offered:
                self.combo.addItem(text, seq)
            self.combo.blockSignals(False)
        if self.value() != wanted:
            self.combo.setCurrentIndex(self.combo.findData(wanted) if wanted is not None else -1)
            self.touched = keep
        usable = choices.preselected(state, self.spec, now) is not None
        self.combo.setVisible(bool(offered))
        self.missing.setVisible(not usable)
        self.record.setVisible(not usable)

    def value(self) -> Any:
        return self.combo.currentData() if self.combo.currentIndex() >= 0 else None

    def set_value(self, value: Any) -> None:
        self.combo.setCurrentIndex(self.combo.findData(value))


class StaffInput(FieldInput):
    """The team present: everyone on the case pre-ticked, untick who is absent, add anyone else."""

    def __init__(
        self, spec: FieldSpec, object_name: str, context: str, people: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, object_name, context, parent)
        name(self, object_name, self.accessible())
        self.flow = FlowLayout()
        self.buttons: list[QPushButton] = []
        for person in people:
            self._add_person(person)
        self.extra = QLineEdit()
        name(self.extra, f"{object_name}.add_name", self.accessible("Add a person to the team"))
        self.extra.setPlaceholderText("Add a name")
        self.extra.setMaxLength(200)
        add = TextButton("Add", f"{object_name}.add")
        add.clicked.connect(self._add_typed)
        self.extra.returnPressed.connect(self._add_typed)
        body = QVBoxLayout()
        body.setSpacing(6)
        body.addLayout(self.flow)
        row = QHBoxLayout()
        row.addWidget(self.extra, 1)
        row.addWidget(add)
        body.addLayout(row)
        self._stacked(body)

    def _add_person(self, person: str, checked: bool = True) -> None:
        if any(b.text() == person for b in self.buttons):
            return
        button = TextButton(person, f"{self.object_name}.{len(self.buttons)}")
        button.setAccessibleName(self.accessible(f"Present: {person}"))
        button.setCheckable(True)
        button.setChecked(checked)
        button.setProperty("role", "choice")
        button.toggled.connect(self.changed)
        button.clicked.connect(self._touch)
        self.buttons.append(button)
        self.flow.addWidget(button)
        button.show()

    def sync(self, state: CaseState, now: datetime) -> None:
        """Someone who joined the case meanwhile (a handover) is listed, present."""
        for person in state.facts.team():
            self._add_person(person)

    def _add_typed(self) -> None:
        text = self.extra.text().strip()
        if text:
            self._touch()
            self._add_person(text)
            self.extra.clear()
            self.changed.emit()

    def value(self) -> Any:
        return [b.text() for b in self.buttons if b.isChecked()] or None

    def set_value(self, value: Any) -> None:
        chosen = list(value or [])
        for person in chosen:
            self._add_person(person)
        for button in self.buttons:
            button.setChecked(button.text() in chosen)


def show_dependents(inputs: dict[str, FieldInput], state: CaseState, spec: StepSpec) -> None:
    """Show exactly the fields the domain asks for these answers (`values.asked_fields`): biopsy taken
    shows side and container, a tip not confirmed on either view asks why, the dose fields follow the
    imaging chosen."""
    answers = {field_id: widget.value() for field_id, widget in inputs.items()}
    asked = asked_fields(state, spec, answers)
    for field_id, widget in inputs.items():
        widget.setHidden(field_id not in asked)


def make_input(
    spec: FieldSpec, object_name: str, context: str, state: CaseState, now: datetime, level: str | None = None
) -> FieldInput:
    """The control for a field of this type (`level`: the step's level, for answers offered per region)."""
    if spec.type in ("bool", "choice", "multi"):
        return ButtonsInput(spec, object_name, context, level)
    if spec.type in ("number", "integer"):
        return NumberInput(spec, object_name, context)
    if spec.type in ("product", "batch"):
        return ComboInput(spec, object_name, context, state, now)
    if spec.type == "staff":
        return StaffInput(spec, object_name, context, state.facts.team())
    return TextInput(spec, object_name, context)
