"""Driving the room window the way a nurse does: tap rows and buttons, type values (pytest-qt)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QWidget

from checklist_app.domain import events as ev
from checklist_app.ui.names import field_name

LEFT = Qt.MouseButton.LeftButton


def find(root: QWidget, object_name: str, kind: type = QWidget) -> Any:
    found = root.findChild(kind, object_name)
    assert found is not None, f"no {kind.__name__} named {object_name!r}"
    return found


def click(qtbot, root: QWidget, object_name: str) -> QAbstractButton:
    button = find(root, object_name, QAbstractButton)
    assert button.isVisible(), f"{object_name} is not visible"
    assert button.isEnabled(), f"{object_name} is disabled"
    qtbot.mouseClick(button, LEFT)
    return button


def type_text(qtbot, root: QWidget, object_name: str, text: str) -> QLineEdit:
    edit = find(root, object_name, QLineEdit)
    assert edit.isVisible(), f"{object_name} is not visible"
    edit.clear()
    qtbot.keyClicks(edit, text)
    return edit


def select_row(qtbot, window, step: str, level: str | None = None, side: str | None = None) -> None:
    """Tap the step's row in the checklist; its editor opens."""
    view = window.case_screen.checklist
    index = view.model.index_of((step, level, side))
    assert index.isValid(), (step, level, side)
    view.tree.scrollTo(index)
    qtbot.mouseClick(view.tree.viewport(), LEFT, pos=view.tree.visualRect(index).center())
    assert window.case_screen.editor.key == (step, level, side)


def fill(qtbot, window, values: dict[str, Any]) -> None:
    """Enter values in the open step editor, control by control, as a nurse would."""
    editor = window.case_screen.editor
    step, level, side = editor.key
    for field_id, value in values.items():
        kind = editor.inputs[field_id].spec.type
        base = field_name(step, level, side, field_id)
        if kind == "bool":
            click(qtbot, editor, f"{base}.{'yes' if value else 'no'}")
        elif kind == "choice":
            click(qtbot, editor, f"{base}.{value}")
        elif kind == "multi":
            for choice in value:
                click(qtbot, editor, f"{base}.{choice}")
        elif kind in ("number", "integer"):
            number, unit = value if isinstance(value, tuple) else (value, None)
            if unit and editor.findChild(QComboBox, f"{base}.unit"):
                units = find(editor, f"{base}.unit", QComboBox)
                units.setCurrentIndex(units.findData(unit))
            elif unit:
                click(qtbot, editor, f"{base}.unit.{unit}")
            type_text(qtbot, editor, base, f"{number:g}")
        elif kind in ("product", "batch"):
            combo = find(editor, base, QComboBox)
            combo.setCurrentIndex(combo.findData(value))
            assert combo.currentData() == value
        elif kind == "staff":
            _choose_people(qtbot, editor, base, list(value))
        else:
            type_text(qtbot, editor, base, str(value))


def _choose_people(qtbot, editor, base: str, people: list[str]) -> None:
    staff = editor.inputs[base.rsplit(".", 1)[1]]
    for person in people:
        if not any(b.text() == person for b in staff.buttons):
            type_text(qtbot, editor, f"{base}.add_name", person)
            click(qtbot, editor, f"{base}.add")
    for button in staff.buttons:
        if button.isChecked() != (button.text() in people):
            qtbot.mouseClick(button, LEFT)


def complete(qtbot, window, step: str, level=None, side=None, values: dict | None = None) -> None:
    """Open the step, enter its values and tap the primary action."""
    select_row(qtbot, window, step, level, side)
    fill(qtbot, window, values or {})
    click(qtbot, window, "primary_action")


def stored(service, case_id: str):
    """The case's events as they are on disk."""
    return service.store.events(case_id)


def last_step_event(service, case_id: str):
    return next(e for e in reversed(stored(service, case_id)) if e.kind == ev.STEP_DONE)
