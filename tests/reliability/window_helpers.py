"""The room window as the window tests drive it: built offscreen, one tap at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from checklist_app.domain.state import PENDING
from checklist_app.service import ChecklistService
from tests.conftest import STEP_VALUES

Key = tuple[str, str | None, str | None]


class Silent:
    """A sound player that plays nothing."""

    def play(self, priority: str) -> None:
        pass

    def stop(self) -> None:
        pass


def window_builder() -> Callable:
    """The room window's builder: `checklist_app.ui.window.build_window`."""
    from checklist_app.ui.window import build_window

    return build_window


@contextmanager
def window_on(service: ChecklistService, qtbot, folder: Path) -> Iterator[object]:
    settings = QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)
    window = window_builder()(service, settings, sound_player=Silent())
    qtbot.addWidget(window)
    window.show()
    try:
        yield window
    finally:
        window.close()


def tap_current_step(window, service: ChecklistService, case_id: str) -> tuple[Key, bool]:
    """Fill in the current step in the window and tap `primary_action`; (its key, shown as done?)."""
    from checklist_app.ui.checklist_model import STATUS_ROLE

    screen = window.case_screen
    current = service.state(case_id).current
    assert current is not None
    screen.refresh(follow_current=True)
    editor = screen.editor
    assert editor.key == current.key
    for field_id, value in (STEP_VALUES.get(current.spec.id) or {}).items():
        if field_id in editor.inputs:
            editor.inputs[field_id].set_value(value)
    button = window.findChild(type(editor.primary), "primary_action")
    assert button is editor.primary
    service.clock.advance(minutes=1)  # type: ignore[attr-defined]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    model = screen.checklist.model
    return current.key, model.data(model.index_of(current.key), STATUS_ROLE) != PENDING
