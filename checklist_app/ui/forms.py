"""Small form pieces the set-up, batch, sign-off and handover panels share.

`FieldErrors` (a refusal shown next to the input it names), `ToggleGroup` (big exclusive
toggles), `LineList` (a scrolling list of lines), `StaffCombo` (an editable name list fed by the
staff list), `text_input`, `label`, `number` and a few helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..domain.units import UnitError, parse_quantity
from ..service import StoreError
from .names import name
from .ports import RoomService
from .widgets import MIN_TARGET, BigButton, MessageLabel

GAP = 8  # px between touch targets (SPEC §10)


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

    def __init__(self, service: RoomService, role: str | None, object_name: str, accessible: str) -> None:
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
