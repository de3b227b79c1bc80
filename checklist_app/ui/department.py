"""The department in the room window: a calm status line, and a read-only list of every room's cases.

The push worker's latest status is read on the GUI thread once a second (`StatusPoller`) and goes
out on the window's one change channel (`CaseEvents.sync_status_changed`). The department list
reads the hub on a Qt pool thread, never on the GUI thread; another room's case can be viewed (its
note as text) and its note saved as PDF, never edited: nothing here calls a use case.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain.state import CaseState
from .case_events import CaseEvents
from .names import name
from .widgets import MessageLabel, TextButton, section_label

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


class DepartmentViews(Protocol):
    """What the window may ask of the department hub: read-only views (department.DepartmentCases)."""

    def cases(self, **filters: Any) -> list[Any]: ...

    def case(self, hub_id: str) -> CaseState: ...


class StatusPoller(QObject):
    """Reads the push worker's latest status on the GUI thread, once a second, and sends a new one out
    on the window's change channel. No Qt object is touched from the worker's thread: the worker only
    replaces its (frozen) status, and this timer notices."""

    def __init__(self, case_events: CaseEvents, status: Callable[[], object], interval_ms: int = 1000) -> None:
        super().__init__(case_events)
        self._status, self._last = status, None
        self._case_events = case_events
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        current = self._status()
        if current is not self._last:
            self._last = current
            self._case_events.sync_status_changed.emit(current)


class DepartmentStatusLabel(QLabel):
    """'department: 12 events waiting since 10:42', quiet unless a person must act."""

    def __init__(self, case_events: CaseEvents, parent: QWidget | None = None) -> None:
        super().__init__("department: connecting", parent)
        name(self, "department_status", "Department hub status")
        self.setProperty("role", "muted")
        case_events.sync_status_changed.connect(self.show_status)

    def show_status(self, status: Any) -> None:
        text = status.text()
        self.setText(text)
        self.setAccessibleDescription(text)
        details = [status.message, *status.parked.values()] if status.message or status.parked else []
        self.setToolTip("\n".join(d for d in details if d))
        self.setProperty("role", "warning" if status.problem else "muted")
        self.setStyleSheet(self.styleSheet())


class DepartmentCaseModel(QAbstractTableModel):
    """Rows of the department list (sync.department.HubCase), read-only."""

    COLUMNS = ("Case", "Room", "Date", "Patient", "Procedure", "Levels", "Status")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def case_id_at(self, row: int) -> str | None:
        return self._rows[row].case_id if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable  # never editable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        row = self._rows[index.row()]
        values = (
            row.case_id,
            row.room,
            row.service_date.isoformat() if row.service_date else "",
            row.patient_name or "",
            (row.procedure or "").capitalize(),
            row.levels or "",
            row.status,
        )
        return values[index.column()] if 0 <= index.column() < len(values) else None


class DepartmentPage(QWidget):
    """Every room's cases from the hub; one can be viewed (its note as text) and its note saved as PDF."""

    closed = Signal()

    def __init__(
        self,
        views: DepartmentViews,
        *,
        ask_pdf_path: Callable[[str], Path | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        name(self, "department_page", "Department cases (read-only)")
        self.views = views
        self.ask_pdf_path = ask_pdf_path or _ask_pdf_path
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.state: CaseState | None = None
        self.model = DepartmentCaseModel(self)
        self.table = QTableView()
        name(self.table, "department_table", "Department cases: select one to view it")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(lambda index: self.view_case(self.model.case_id_at(index.row()) or ""))
        self.viewer = QPlainTextEdit()
        name(self.viewer, "department_case_view", "The selected case's note (read-only)")
        self.viewer.setReadOnly(True)
        self.refresh_button = TextButton("Refresh", "department_refresh")
        self.save_button = TextButton("Save note as PDF", "department_save_note")
        self.save_button.setEnabled(False)
        self.close_button = TextButton("Close", "department_close")
        self.message = MessageLabel("department_message")
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button.clicked.connect(self._save_clicked)
        self.close_button.clicked.connect(self.closed)
        self._layout()

    def _layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        row = QHBoxLayout()
        row.addWidget(section_label("Department cases (read-only: other rooms' cases cannot be changed here)"), 1)
        for button in (self.refresh_button, self.save_button, self.close_button):
            row.addWidget(button)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.viewer, 3)

    # -- work on the pool thread, results back by signal -------------------------------------------
    def _run(self, what: str, job: Callable[[], Any]) -> None:
        task = _Task(what, job)
        task.signals.done.connect(self._on_loaded)
        self._pool.start(task)

    def refresh(self) -> None:
        self.message.show_message("Reading the department's cases...", "info")
        self._run("cases", lambda: self.views.cases(limit=500))

    def view_case(self, hub_id: str) -> None:
        if hub_id:
            self.save_button.setEnabled(False)
            self._run("case", lambda: self.views.case(hub_id))

    def save_note(self, path: Path) -> None:
        """Render and write the viewed case's note (from the hub's verified copy) to `path`."""
        state = self.state
        if state is None:
            return

        def write() -> Path:
            from ..note import render_note, write_private

            write_private(path, render_note(state))
            return path

        self._run("saved", write)

    def _save_clicked(self) -> None:
        if self.state is not None:
            path = self.ask_pdf_path(self.state.case_id)
            if path is not None:
                self.save_note(path)

    def _on_loaded(self, outcome: tuple[str, Any]) -> None:
        what, result = outcome
        if isinstance(result, Exception):
            self.message.show_message(f"The department hub could not be read: {result}", "error")
            return
        self.message.clear_message()
        if what == "cases":
            self.model.set_rows(result)
            if not result:
                self.message.show_message("No cases on the department hub yet.", "info")
        elif what == "case":
            from ..note import note_content

            self.state = result
            self.viewer.setPlainText(note_content(result).plain_text())
            self.save_button.setEnabled(True)
        elif what == "saved":
            self.message.show_message(f"Note saved to {result}", "info")

    def shutdown(self) -> None:
        self._pool.clear()


class _TaskSignals(QObject):
    """What a hub read reports back to the GUI thread (queued across threads)."""

    done = Signal(object)  # (what, result or the exception)


class _Task(QRunnable):
    """One read of the hub (or one note written) on a Qt pool thread."""

    def __init__(self, what: str, job: Callable[[], Any]) -> None:
        super().__init__()
        self.what, self.job = what, job
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result: Any = self.job()
        except Exception as exc:  # noqa: BLE001 - shown to the person, never raised on the GUI thread
            result = exc
        self.signals.done.emit((self.what, result))


def _ask_pdf_path(case_id: str) -> Path | None:
    from PySide6.QtWidgets import QFileDialog

    chosen, _ = QFileDialog.getSaveFileName(None, "Save note as PDF", f"{case_id.replace('/', '_')}.pdf", "PDF (*.pdf)")
    return Path(chosen) if chosen else None
