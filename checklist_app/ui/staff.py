"""Handover and the staff list, plus the small form pieces the set-up, batch and sign-off panels share.

Shared pieces: `FieldErrors` (a refusal shown next to the input it names), `ToggleGroup` (big
exclusive toggles), `StaffCombo` (an editable name list fed by the staff list) and `text_input`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..domain.present import ROLE_LABELS
from ..domain.units import UnitError, parse_quantity
from ..service import ROLES
from ..store import StoreError
from .names import name
from .widgets import MIN_TARGET, BigButton, MessageLabel

GAP = 8  # px between touch targets (SPEC §10)
HANDOVER_REASONS = ("handover", "break relief", "shift change", "other")


# -- shared form pieces ------------------------------------------------------------------------
def text_input(object_name: str, accessible: str, *, placeholder: str = "", numeric: bool = False) -> QLineEdit:
    """A 48 px line edit; `numeric` asks touch keyboards for digits (keypad-friendly)."""
    edit = QLineEdit()
    name(edit, object_name, accessible)
    edit.setMinimumHeight(MIN_TARGET)
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(not numeric)
    if numeric:
        edit.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
    return edit


def label(text: str, role: str = "field_label", buddy: QWidget | None = None) -> QLabel:
    """A static label; `role` (section, field_label, unit, muted) lets the room stylesheet style it."""
    widget = QLabel(text)
    widget.setProperty("role", role)
    widget.setWordWrap(role != "unit")
    if buddy is not None:
        widget.setBuddy(buddy)
    return widget


def number(text: str, field: str, unit: str) -> float | None:
    """The number typed (comma or point, unit optional); None when empty; refuses other units."""
    text = text.strip()
    if not text:
        return None
    try:
        value, given = parse_quantity(text, default_unit=unit)
    except UnitError as exc:
        raise Refusal(field, str(exc)) from None
    if given != unit:
        raise Refusal(field, f"must be in {unit}, not {given}")
    return value


def scrolling(content: QLayout, object_name: str, accessible: str) -> QScrollArea:
    """`content` in a vertical scroll area: on a small screen, or with messages shown, nothing is squeezed."""
    inner = QWidget()
    inner.setLayout(content)
    area = QScrollArea()
    name(area, object_name, accessible)
    area.setWidgetResizable(True)
    area.setWidget(inner)
    return area


def restyle(widget: QWidget) -> None:
    """Re-apply the stylesheet after a property changed. style().unpolish/polish recolours but keeps the
    old box (padding, border width) under a stylesheet; setting the style sheet again redoes both."""
    widget.setStyleSheet(widget.styleSheet())


def say(message: MessageLabel, text: str, kind: str = "error") -> None:
    """Show an inline message (error, warning or info) with the theme's full box for its kind."""
    message.show_message(text, kind)
    restyle(message)


def set_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    restyle(widget)


class FieldErrors:
    """Refusals shown under the input they name; anything unnamed goes to the general message."""

    def __init__(self, general: MessageLabel) -> None:
        self.general = general
        self._fields: dict[str, tuple[str, QWidget, MessageLabel]] = {}

    def add(self, field: str, caption: str, widget: QWidget, message: MessageLabel) -> MessageLabel:
        self._fields[field] = (caption, widget, message)
        return message

    def clear(self) -> None:
        self.general.clear_message()
        for _, widget, message in self._fields.values():
            message.clear_message()
            set_invalid(widget, False)

    def show(self, *refusals: Refusal) -> None:
        """Show each refusal by its input; the general message says how many inputs need attention."""
        named = []
        for exc in refusals:
            entry = self._fields.get(exc.field)
            if entry is None:
                say(self.general, f"Not saved: {exc.message} ({exc.field.replace('_', ' ')})")
                return
            caption, widget, message = entry
            joiner = " " if exc.message.startswith(("is ", "must ")) else ": "
            say(message, f"{caption}{joiner}{exc.message}")
            set_invalid(widget, True)
            named.append(caption)
        if len(named) == 1:
            say(self.general, f"Not saved: see {named[0]}.")
        elif named:
            say(self.general, f"Not saved: {len(named)} answers need attention, first: {named[0]}.")

    def first_invalid(self) -> QWidget | None:
        return next((w for _, w, _m in self._fields.values() if w.property("invalid")), None)

    def run(self, action: Callable[[], Any]) -> Any | None:
        """Call a use case; show a refusal by its field, a storage failure as NOT SAVED; None on failure."""
        self.clear()
        try:
            return action()
        except Refusal as exc:
            self.show(exc)
        except StoreError as exc:
            say(self.general, f"NOT SAVED: {exc}")
        return None


class ToggleGroup(QWidget):
    """Exclusive big toggles (one tap per answer); `value` is None until someone taps one."""

    changed = Signal(str)

    def __init__(self, prefix: str, accessible: str, choices: Sequence[tuple[str, str]], *, columns: int = 0) -> None:
        super().__init__()
        name(self, prefix, accessible)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, BigButton] = {}
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(GAP)
        for index, (value, text) in enumerate(choices):
            button = BigButton(text, f"{prefix}.{value}")
            button.setAccessibleName(f"{accessible}: {text}")
            button.setCheckable(True)
            button.setProperty("role", "choice")
            self._group.addButton(button)
            self.buttons[value] = button
            row, col = divmod(index, columns) if columns else (0, index)
            layout.addWidget(button, row, col)
            button.clicked.connect(lambda _=False, v=value: self.changed.emit(v))

    def value(self) -> str | None:
        return next((v for v, b in self.buttons.items() if b.isChecked()), None)

    def set_value(self, value: str | None) -> None:
        if value is None:
            self._group.setExclusive(False)  # an exclusive group cannot uncheck its last button
            for button in self.buttons.values():
                button.setChecked(False)
            self._group.setExclusive(True)
        else:
            self.buttons[value].setChecked(True)


class LineList(QScrollArea):
    """A read-only, word-wrapped list of lines (one card each): recorded implants, addenda, staff."""

    def __init__(self, object_name: str, accessible: str, empty: str = "Nothing yet.") -> None:
        super().__init__()
        name(self, object_name, accessible)
        self.empty = empty
        self._prefix = object_name
        rows = QWidget()
        self._rows = QVBoxLayout(rows)
        self._rows.setSpacing(GAP)
        self._rows.addStretch(1)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(rows)
        self.set_lines([])

    def set_lines(self, lines: Sequence[str]) -> None:
        while self._rows.count() > 1:  # keep the closing stretch
            old = self._rows.takeAt(0).widget()
            old.hide()  # at once: deleteLater waits for the event loop
            old.deleteLater()
        for n, text in enumerate(lines or [self.empty]):
            line = label(text)
            line.setObjectName(f"{self._prefix}.{n}")
            line.setProperty("panel", "card")
            line.setMargin(GAP)
            line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._rows.insertWidget(n, line)
        self._lines = list(lines)

    def lines(self) -> list[str]:
        return list(self._lines)


class StaffCombo(QComboBox):
    """An editable name box listing the staff list's people of `role`; free entry always allowed."""

    def __init__(self, service, role: str | None, object_name: str, accessible: str) -> None:
        super().__init__()
        self.service, self.role = service, role
        name(self, object_name, accessible)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumHeight(MIN_TARGET)
        line = self.lineEdit()
        name(line, f"{object_name}.edit", accessible)
        line.setPlaceholderText("Choose or type a name")
        self.refresh()

    def refresh(self) -> None:
        """Reload the names from the staff list, keeping what is typed."""
        typed = self.currentText()
        names = dict.fromkeys(p["name"] for p in self.service.staff(self.role))
        self.blockSignals(True)
        self.clear()
        self.addItems(list(names))
        self.setCurrentIndex(-1)
        self.setEditText(typed)
        self.blockSignals(False)

    def text(self) -> str:
        return self.currentText().strip()

    def set_text(self, text: str) -> None:
        self.setEditText(text)


# -- the panel ---------------------------------------------------------------------------------
class HandoverPanel(QWidget):
    """Hand a role over to someone else (a logged staff change) and keep the site staff list.

    `changed(case_id)` follows every stored handover; `staff_list_changed()` every addition.
    """

    changed = Signal(str)
    staff_list_changed = Signal()

    def __init__(self, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.case_id: str | None = None
        name(self, "handover", "Handover and staff list")
        columns = QHBoxLayout()
        columns.setSpacing(3 * GAP)
        columns.addLayout(self._build_handover(), 1)
        columns.addLayout(self._build_staff_editor(), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scrolling(columns, "handover.scroll", "Handover and staff list"))
        self._refresh()

    def _build_handover(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(GAP)
        box.addWidget(label("Handover", "section"))
        self.current = label("No case open.", "muted")
        name(self.current, "handover.current", "People in the room")
        box.addWidget(self.current)
        self.role = ToggleGroup("handover.role", "Role", [(r, ROLE_LABELS[r]) for r in ROLES], columns=2)
        self.role.set_value("nurse")
        self.new_name = StaffCombo(self.service, "nurse", "handover.name", "New person in this role")
        self.role.changed.connect(self._role_chosen)
        self.reason = QComboBox()
        name(self.reason, "handover.reason", "Reason for the handover")
        self.reason.setEditable(True)
        self.reason.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reason.addItems(HANDOVER_REASONS)
        self.reason.setMinimumHeight(MIN_TARGET)
        name(self.reason.lineEdit(), "handover.reason.edit", "Reason for the handover")
        self.handover_message = MessageLabel("handover.message")
        self.errors = FieldErrors(self.handover_message)
        for field, caption, widget in (
            ("role", "Role", self.role),
            ("name", "New person", self.new_name),
            ("reason", "Reason", self.reason),
        ):
            box.addWidget(label(caption, buddy=widget))
            box.addWidget(widget)
            box.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"handover.{field}.error")))
        self.hand_over = BigButton("Hand over", "handover.confirm", primary=True)
        self.hand_over.clicked.connect(self._hand_over)
        box.addWidget(self.hand_over)
        box.addWidget(self.handover_message)
        box.addStretch(1)
        return box

    def _build_staff_editor(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(GAP)
        box.addWidget(label("Staff list", "section"))
        self.staff_list = LineList("staff.list", "Staff list", "Nobody on the staff list yet.")
        box.addWidget(self.staff_list, 1)
        self.staff_name = text_input("staff.name", "Name of the new staff member", placeholder="Full name")
        self.staff_role = ToggleGroup(
            "staff.role", "Role of the new staff member", [(r, ROLE_LABELS[r]) for r in ROLES], columns=2
        )
        self.staff_pin = text_input("staff.pin", "Signature PIN (optional)", placeholder="4 to 12 digits", numeric=True)
        self.staff_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.staff_message = MessageLabel("staff.message")
        self.staff_errors = FieldErrors(self.staff_message)
        for field, caption, widget in (
            ("name", "Name", self.staff_name),
            ("role", "Role", self.staff_role),
            ("pin", "Signature PIN (optional, stored only as a salted hash)", self.staff_pin),
        ):
            box.addWidget(label(caption, buddy=widget))
            box.addWidget(widget)
            box.addWidget(
                self.staff_errors.add(field, caption.split(" (")[0], widget, MessageLabel(f"staff.{field}.error"))
            )
        add = BigButton("Add to staff list", "staff.add", primary=True)
        add.clicked.connect(self._add_staff)
        box.addWidget(add)
        box.addWidget(self.staff_message)
        return box

    # -- behaviour -----------------------------------------------------------------------------
    def set_case(self, case_id: str | None) -> None:
        self.case_id = case_id
        self.errors.clear()
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh()

    def _role_chosen(self, role: str) -> None:
        self.new_name.role = role
        self.new_name.refresh()

    def _hand_over(self) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        role = self.role.value() or ""
        state = self.errors.run(
            lambda: self.service.change_staff(
                case_id=case_id, role=role, name=self.new_name.text(), reason=self.reason.currentText().strip()
            )
        )
        if state is None:
            return
        self.new_name.set_text("")
        self._refresh()
        say(
            self.handover_message,
            f"Handover saved: {ROLE_LABELS[role]} is now {state.staff_changes[-1].values['name']}.",
            "info",
        )
        self.changed.emit(case_id)

    def _add_staff(self) -> None:
        pin = self.staff_pin.text()
        self.staff_pin.clear()  # the PIN never stays in the widget, stored or not
        role = self.staff_role.value()
        if role is None:
            self.staff_errors.clear()
            self.staff_errors.show(Refusal("role", "choose the role"))
            return
        added = self.staff_errors.run(
            lambda: self.service.add_staff(name=self.staff_name.text(), role=role, pin=pin or None)
        )
        if added is None:
            return
        say(self.staff_message, f"{self.staff_name.text().strip()} added to the staff list.", "info")
        self.staff_name.clear()
        self._refresh()
        self.staff_list_changed.emit()

    def _refresh(self) -> None:
        """Re-read the case and the staff list (widgets hold no truth)."""
        self.staff_list.set_lines(
            [
                f"{p['name']} — {ROLE_LABELS.get(p['role'], p['role'])}{', PIN set' if p['has_pin'] else ''}"
                for p in self.service.staff()
            ]
        )
        self.new_name.refresh()
        if self.case_id is None:
            self.current.setText("No case open: handover needs a case.")
            self.hand_over.setEnabled(False)
            return
        state = self.service.state(self.case_id)
        self.current.setText("\n".join(f"{ROLE_LABELS[r]}: {n or '—'}" for r, n in current_team(state).items()))
        self.hand_over.setEnabled(not state.locked)
        if state.locked:
            say(self.handover_message, "The case is signed and locked: no handover.", "info")


def current_team(state) -> dict[str, str]:
    """Who holds each role now: the set-up team updated by the recorded staff changes."""
    team = state.setup.team if state.setup else None
    now = {
        "nurse": state.current_nurse,
        "operator": team.operator if team else "",
        "anaesthesia": team.anaesthesia if team else "",
        "assistant": ", ".join(team.assistants) if team else "",
    }
    for change in state.staff_changes:
        role = str(change.values.get("role"))
        if role in now and role != "nurse":
            now[role] = str(change.values.get("name", ""))
    return now
