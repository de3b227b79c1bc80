"""The case screen's pages: the nav row and the stacked pages, each side panel built when first shown."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QButtonGroup, QHBoxLayout, QLabel, QStackedWidget, QWidget

from .lazy_page import BuiltPanels, LazyPage
from .names import name
from .widgets import TextButton


def placeholder(page: str, label: str, why: str) -> QLabel:
    """What a page shows when its panel failed to build (its nav button is disabled)."""
    widget = QLabel(f"The {label.replace('&&', '&').lower()} panel {why}.")
    name(widget, f"{page}_placeholder", widget.text())
    widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    widget.setProperty("role", "muted")
    return widget


class CasePages:
    """Nav buttons (`page.<id>`) over a stack of pages; `panels[page]` builds a hosted page's panel."""

    def __init__(self, parent: QWidget) -> None:
        self.nav = QHBoxLayout()
        self.nav.setSpacing(8)
        self.group = QButtonGroup(parent)
        self.stack = QStackedWidget()
        self.stack.setObjectName("case_pages")
        self.hosted: dict[str, LazyPage] = {}
        self.panels = BuiltPanels(self.hosted)

    def add(self, page: str, label: str, widget: QWidget) -> None:
        button = TextButton(label, f"page.{page}")
        button.setProperty("role", "nav")
        button.setCheckable(True)
        button.setChecked(not self.group.buttons())  # the first page is the one shown
        self.group.addButton(button)
        self.nav.addWidget(button)
        widget.setProperty("page", page)
        self.stack.addWidget(widget)

    def host(self, page: str, label: str, factory: Callable[[], QWidget]) -> QAbstractButton:
        """A page whose panel `factory` builds the first time it is shown; its nav button."""
        self.hosted[page] = LazyPage(lambda: self._built(page, label, factory))
        self.add(page, label, self.hosted[page])
        return self.button(page)

    def _built(self, page: str, label: str, factory: Callable[[], QWidget]) -> QWidget:
        """The page's panel; if building it fails, a placeholder (and the page disabled), never a crash."""
        try:
            return factory()
        except Exception as exc:  # noqa: BLE001 - a broken side panel must not stop the checklist
            traceback.print_exc(file=sys.stderr)
            del self.hosted[page]
            self.button(page).setEnabled(False)
            return placeholder(page, label, f"could not be loaded ({type(exc).__name__}); please report it")

    def button(self, page: str) -> QAbstractButton:
        return next(b for b in self.group.buttons() if b.objectName() == f"page.{page}")

    def set_case(self, case_id: str) -> None:
        for lazy in list(self.hosted.values()):
            lazy.set_case(case_id)  # a page not built yet keeps it for when it is

    def show(self, page: str, case_id: str) -> None:
        for index in range(self.stack.count()):
            widget = self.stack.widget(index)
            if widget.property("page") == page:
                if page in self.hosted and case_id:
                    self.hosted[page].set_case(case_id)
                self.stack.setCurrentIndex(index)  # builds the page's panel the first time
        for button in self.group.buttons():
            button.setChecked(button.objectName() == f"page.{page}")

    def current(self) -> str:
        return str(self.stack.currentWidget().property("page"))

    def built(self, page: str) -> QWidget | None:
        """The page's panel if it has been built (None otherwise, without building it)."""
        lazy = self.hosted.get(page)
        return lazy.widget() if lazy is not None and lazy.is_built else None
