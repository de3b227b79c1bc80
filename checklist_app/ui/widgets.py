"""Small shared widgets: glove-friendly buttons and the one way use cases are called from the UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

from ..domain.errors import Refusal
from ..store import StoreError
from .names import name

MIN_TARGET = 48  # px: SPEC §10, gloved hands


class BigButton(QPushButton):
    """A push button at least 48 px high with a visible pressed state (from the stylesheet)."""

    def __init__(self, text: str, object_name: str, *, primary: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        name(self, object_name, text.replace("&", ""))
        self.setMinimumHeight(MIN_TARGET)
        self.setMinimumWidth(MIN_TARGET)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setProperty("role", "primary" if primary else "secondary")
        self.setCursor(Qt.CursorShape.PointingHandCursor)


class MessageLabel(QLabel):
    """An inline message under a form or step: error (not saved), warning or plain information."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, object_name, "Message")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setText(text)
        self.setAccessibleDescription(text)
        self.show()

    def clear_message(self) -> None:
        self.clear()
        self.hide()


def attempt(action: Callable[[], Any], message: MessageLabel) -> Any | None:
    """Run a use case; on refusal or storage failure show why (NOT SAVED) and return None.

    A tick is shown as done only when this returns a state: the event is then already on disk.
    """
    try:
        result = action()
    except Refusal as exc:
        message.show_message(f"Not saved: {exc.message} ({exc.field.replace('_', ' ')})", "error")
        return None
    except StoreError as exc:
        message.show_message(f"NOT SAVED: {exc}", "error")
        return None
    message.clear_message()
    return result
