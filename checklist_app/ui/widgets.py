"""Small shared widgets: glove-friendly buttons and the one way use cases are called from the UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..service import StoreError
from .names import name

MIN_TARGET = 48  # px: SPEC §10, gloved hands


class BigButton(QPushButton):
    """A push button at least 48 px high with a visible pressed state (from the stylesheet)."""

    def __init__(self, text: str, object_name: str, *, primary: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        name(self, object_name, text.replace("&", ""))
        self.setMinimumHeight(MIN_TARGET)  # the width follows the label, so text is never clipped
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
        self.setStyleSheet(self.styleSheet())  # re-applies the theme's rules for the new kind, padding included
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


class Inline:
    """A Reporter that shows a refusal or a storage failure in one message label."""

    def __init__(self, message: MessageLabel) -> None:
        self.message = message

    def run(self, action: Callable[[], Any]) -> Any | None:
        return attempt(action, self.message)


class ReasonPanel(QFrame):
    """An inline (never modal) panel that asks for a reason before an override, N/A or correction.

    Controls are named `<prefix>_reason`, `<prefix>_confirm` and `<prefix>_cancel`; quick picks
    `<prefix>_pick.<n>` fill the reason with a common answer. Confirm stays disabled until a reason
    is typed, and Return in the reason field confirms.
    """

    confirmed = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        prefix: str,
        prompt: str,
        confirm_text: str,
        *,
        suggestions: tuple[str, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        name(self, f"{prefix}_panel", prompt)
        self.setProperty("panel", "inline")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)
        self.prompt = QLabel(prompt)
        self.prompt.setWordWrap(True)
        self.prompt.setProperty("role", "field_label")
        layout.addWidget(self.prompt)
        if suggestions:
            layout.addLayout(self._picks(prefix, suggestions))
        self.reason = QLineEdit()
        name(self.reason, f"{prefix}_reason", f"Reason: {prompt}")
        self.reason.setPlaceholderText("Type the reason")
        self.reason.setMaxLength(500)
        layout.addWidget(self.reason)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.confirm = TextButton(confirm_text, f"{prefix}_confirm")
        self.confirm.setProperty("role", "danger")
        self.cancel = TextButton("Cancel", f"{prefix}_cancel")
        buttons.addWidget(self.confirm, 2)
        buttons.addWidget(self.cancel, 1)
        layout.addLayout(buttons)
        self.reason.textChanged.connect(self._update)
        self.reason.returnPressed.connect(self._confirm)
        self.confirm.clicked.connect(self._confirm)
        self.cancel.clicked.connect(self.close_panel)
        self._update()
        self.hide()

    def _picks(self, prefix: str, suggestions: tuple[str, ...]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        for n, text in enumerate(suggestions):
            pick = TextButton(text, f"{prefix}_pick.{n}")
            pick.clicked.connect(lambda _=False, t=text: self._pick(t))
            row.addWidget(pick)
        row.addStretch(1)
        return row

    def open_panel(self, prompt: str | None = None) -> None:
        if prompt:
            self.prompt.setText(prompt)
        self.reason.clear()
        self.show()
        self.reason.setFocus()

    def close_panel(self) -> None:
        if self.isVisible():
            self.hide()
            self.cancelled.emit()

    def _pick(self, text: str) -> None:
        self.reason.setText(text)
        self.reason.setFocus()

    def _update(self) -> None:
        self.confirm.setEnabled(bool(self.reason.text().strip()))

    def _confirm(self) -> None:
        text = self.reason.text().strip()
        if text:
            self.confirmed.emit(text)


class OneOf(QWidget):
    """Shows one of its widgets at a time, sized by that one alone.

    A QStackedWidget is as tall as its tallest page, so a wrapped two-line case header would keep
    the top bar tall above the start screen; hidden widgets here take no room.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._widgets: list[QWidget] = []

    def addWidget(self, widget: QWidget) -> None:
        self._widgets.append(widget)
        self._layout.addWidget(widget, 1)
        widget.setVisible(len(self._widgets) == 1)

    def setCurrentWidget(self, widget: QWidget) -> None:
        for other in self._widgets:
            other.setVisible(other is widget)
        # The bar around it must lay out again for the new widget's size: its parent's layout caches
        # the bar's size hint and is not always told when only a grandchild's visibility changed.
        self.updateGeometry()
        if self.parentWidget() is not None:
            self.parentWidget().updateGeometry()
        # A layout that was invalidated while its widget was hidden is left inactive and posts no
        # further layout request by itself: activate the window's layouts now (a no-op when active).
        host = self.window()
        for layout in (host.layout(), getattr(host, "centralWidget", lambda: None)()):
            if layout is not None and not isinstance(layout, QLayout):
                layout = layout.layout()
            if layout is not None:
                layout.activate()

    def sizeHint(self) -> QSize:
        current = self.currentWidget()
        return current.sizeHint() if current is not None else QSize(0, 0)

    def minimumSizeHint(self) -> QSize:
        current = self.currentWidget()
        return current.minimumSizeHint() if current is not None else QSize(0, 0)

    def currentWidget(self) -> QWidget | None:
        return next((w for w in self._widgets if not w.isHidden()), None)


def reveal_when_laid_out(scroll: QScrollArea, widget: QWidget) -> None:
    """Scroll a just-opened `widget` into view once the layout has made room for it."""

    def reveal() -> None:
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # lay out first, then scroll
        scroll.ensureWidgetVisible(widget, 0, 12)

    QTimer.singleShot(0, reveal)


def section_label(text: str) -> QLabel:
    """A small heading above a group of controls."""
    label = QLabel(text)
    label.setProperty("role", "section")
    return label


class TextButton(BigButton):
    """A BigButton that layouts never squeeze below its text (a clipped label is unreadable)."""

    def __init__(self, text: str, object_name: str, *, primary: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(text, object_name, primary=primary, parent=parent)
        self.setMinimumWidth(0)  # the stylesheet keeps 48 px; the layout now honours the text width


class FlowLayout(QLayout):
    """Lays buttons out left to right, wrapping to new lines (choice lists of any label length)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            width = min(hint.width(), rect.width())
            if x + width > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), QSize(width, hint.height())))
            x += width + self._gap
            line = max(line, hint.height())
        return y + line - rect.y()
