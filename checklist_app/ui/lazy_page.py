"""Pages built the first time they are shown, so the window opens without building what nobody looked at.

A `LazyPage` stands in a QStackedWidget for the real widget (a side panel, the help page). It
builds the widget when the page is first shown, or when code asks for it (`widget()`), and
holds the case the window gave it meanwhile, so `set_case` works before and after building.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

_NO_CASE = object()  # set_case has not been called yet (None is a case id's "no case selected")


class LazyPage(QWidget):
    """A page whose real widget (made by `factory`) is built the first time it is shown or asked for.

    The factory connects the widget's signals; a widget without `set_case` ignores the case.
    """

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._widget: QWidget | None = None
        self._case: object = _NO_CASE
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

    @property
    def is_built(self) -> bool:
        return self._widget is not None

    def widget(self) -> QWidget:
        """The real widget, built now if it was not yet; exceptions from the factory propagate."""
        if self._widget is None:
            widget = self._factory()
            self._widget = widget
            self.layout().addWidget(widget)
            if self._case is not _NO_CASE and hasattr(widget, "set_case"):
                widget.set_case(self._case)
            if self.isVisible():
                widget.show()  # now, not on the next event-loop turn (the layout would queue it)
        return self._widget

    def set_case(self, case_id: str | None) -> None:
        """Pass the case on, or keep it for when the widget is built."""
        self._case = case_id
        if self._widget is not None and hasattr(self._widget, "set_case"):
            self._widget.set_case(case_id)

    def showEvent(self, event: QShowEvent) -> None:
        self.widget()
        super().showEvent(event)


class BuiltPanels(Mapping[str, QWidget]):
    """The hosted panels by page id: looking one up builds it; `in` only asks whether the page has one."""

    def __init__(self, pages: Mapping[str, LazyPage]) -> None:
        self._pages = pages

    def __getitem__(self, page: str) -> QWidget:
        widget = self._pages[page].widget()
        if page not in self._pages:  # it failed to build and the owner dropped it: a placeholder stands in
            raise KeyError(page)
        return widget

    def __contains__(self, page: object) -> bool:
        return page in self._pages

    def __iter__(self) -> Iterator[str]:
        return iter(self._pages)

    def __len__(self) -> int:
        return len(self._pages)
