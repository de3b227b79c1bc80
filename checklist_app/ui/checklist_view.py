"""The checklist: phases, levels and sides as a tree, the current step unmistakable, overall progress."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QScroller,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..domain.state import DONE, NOT_APPLICABLE, CaseState
from .checklist_model import CURRENT_ROLE, KEY_ROLE, LOCKED_ROLE, STATUS_ROLE, ChecklistModel, Key
from .names import name
from .theme import LIGHT, Theme

ROW_HEIGHT, CURRENT_HEIGHT, GROUP_HEIGHT = 50, 64, 44  # px: touch targets
CURRENT_FONT_PX, PAD_X = 19, 10
AnyIndex = QModelIndex | QPersistentModelIndex


class StepDelegate(QStyledItemDelegate):
    """Paints rows by status: the current step large on the accent colour, done ones in green.

    Painting is done here rather than by the style so that the stylesheet cannot hide the colours,
    and titles wrap onto two lines instead of being cut off.
    """

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self.view = view
        self.theme: Theme = LIGHT

    def _look(self, index: QModelIndex | QPersistentModelIndex, selected: bool) -> tuple[str | None, str, QFont]:
        """(background, text colour, font) for a row."""
        theme, status = self.theme, index.data(STATUS_ROLE)
        font = QFont(self.view.font())
        if status == "group":
            font.setBold(True)
            return theme.surface2, theme.text, font
        if index.data(CURRENT_ROLE):
            font.setBold(True)
            font.setPixelSize(CURRENT_FONT_PX)
            return theme.current_bg, theme.current_text, font
        colour = {DONE: theme.done, NOT_APPLICABLE: theme.muted}.get(status, theme.text)
        if index.data(LOCKED_ROLE):
            colour = theme.error
        return (theme.info_bg if selected else None), colour, font

    @staticmethod
    def _flags(index: QModelIndex | QPersistentModelIndex) -> int:
        side = Qt.AlignmentFlag.AlignRight if index.column() == 1 else Qt.AlignmentFlag.AlignLeft
        return int(side | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        background, colour, font = self._look(index, selected)
        rect = option.rect
        painter.save()
        if background:
            painter.fillRect(rect, QColor(background))
        painter.setFont(font)
        painter.setPen(QColor(colour))
        painter.drawText(rect.adjusted(PAD_X, 2, -PAD_X, -2), self._flags(index), str(index.data() or ""))
        if selected and index.data(STATUS_ROLE) != "group":
            pen = QPen(QColor(self.theme.focus), 3)
            painter.setPen(pen)
            painter.drawLine(rect.left(), rect.top() + 1, rect.right(), rect.top() + 1)
            painter.drawLine(rect.left(), rect.bottom() - 1, rect.right(), rect.bottom() - 1)
            edge = rect.left() + 1 if index.column() == 0 else rect.right() - 1
            painter.drawLine(edge, rect.top(), edge, rect.bottom())
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        _background, _colour, font = self._look(index, False)
        metrics = QFontMetrics(font)
        text = str(index.data() or "")
        if index.column() == 1:
            return QSize(metrics.horizontalAdvance(text) + 2 * PAD_X, ROW_HEIGHT)
        width = max(self.view.columnWidth(0) - 2 * PAD_X - self.view.indentation(), 120)
        needed = metrics.boundingRect(QRect(0, 0, width, 10_000), self._flags(index), text).height() + 12
        status = index.data(STATUS_ROLE)
        floor = GROUP_HEIGHT if status == "group" else CURRENT_HEIGHT if index.data(CURRENT_ROLE) else ROW_HEIGHT
        return QSize(width, max(floor, needed))


class ChecklistView(QWidget):
    """The tree of step instances with overall progress; selecting a row asks for its editor."""

    step_selected = Signal(object)  # (step id, level, side)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ChecklistModel(self)
        self.locked: frozenset[Key] = frozenset()  # the steps shown LOCKED (a hard stop would refuse them)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.progress_text = QLabel()
        name(self.progress_text, "checklist_progress_text", "Progress")
        self.progress = QProgressBar()
        name(self.progress, "checklist_progress", "Overall progress")
        self.progress.setTextVisible(False)
        top.addWidget(self.progress_text)
        top.addWidget(self.progress, 1)
        layout.addLayout(top)
        self.tree = self._tree()
        layout.addWidget(self.tree, 1)

    def _tree(self) -> QTreeView:
        tree = QTreeView()
        self.tree = tree
        name(self.tree, "checklist_tree", "Checklist steps: select a step to open it")
        self.tree.setModel(self.model)
        self.delegate = StepDelegate(self.tree)
        self.tree.setItemDelegate(self.delegate)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setItemsExpandable(False)
        self.tree.setIndentation(10)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)  # row heights are measured again when the column width changes
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        QScroller.grabGesture(self.tree.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.model.modelReset.connect(self.tree.expandAll)
        # Wrapped titles change height with the column width: measure rows again after a resize.
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self._measure_rows)
        self.tree.header().sectionResized.connect(lambda *_: self._relayout.start())
        return tree

    def _measure_rows(self) -> None:
        """Lay the rows out again, then keep the selected row in sight (its height may have changed)."""
        self.tree.doItemsLayout()
        if self.tree.currentIndex().isValid():
            self.tree.scrollTo(self.tree.currentIndex(), QAbstractItemView.ScrollHint.EnsureVisible)

    def set_theme(self, theme: Theme) -> None:
        self.delegate.theme = theme
        self._size_status_column()
        self.tree.viewport().update()

    def _size_status_column(self) -> None:
        """Wide enough for the longest status ("✓ 00:00 ✎", "LOCKED") in the stylesheet's font."""
        self.tree.ensurePolished()
        metrics = QFontMetrics(self.tree.font())
        widest = max(metrics.horizontalAdvance(t) for t in ("✓ 00:00 ✎", "LOCKED", "88/88"))
        self.tree.header().resizeSection(1, widest + 2 * PAD_X + 4)

    def show_state(self, state: CaseState, locked: Collection[Key] = ()) -> None:
        self.locked = frozenset(locked)
        self.model.show_state(state, locked)
        done, total = state.progress
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress_text.setText(f"{done} of {total} steps")
        self.progress.setAccessibleDescription(f"{done} of {total} steps answered")
        # Row heights depend on which row is current: ask the view to measure again.
        self._relayout.start()

    def select(self, key: Key | None) -> None:
        index = self.model.index_of(key) if key else QModelIndex()
        if not index.isValid():
            return
        if self.tree.currentIndex() != index:
            self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def selected_key(self) -> Key | None:
        return self.tree.currentIndex().data(KEY_ROLE)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = current.data(KEY_ROLE)
        if key is not None:
            self.step_selected.emit(key)
