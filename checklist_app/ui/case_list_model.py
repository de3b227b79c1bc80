"""The item model of the start screen's case list (kept apart from the checklist's model, so the
start screen loads without the modules a case needs)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ..domain.facts import STATUS_LABELS
from ..service import CaseRow

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invalid index: "no parent"
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 5  # case id of a row of the case list


class CaseListModel(QAbstractTableModel):
    """Rows of the case list (today's cases on the start screen)."""

    COLUMNS = ("Case", "Patient", "MRN", "Procedure", "Levels", "Status")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[CaseRow] = []

    def set_rows(self, rows: list[CaseRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def case_id_at(self, row: int) -> str | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == CASE_ID_ROLE:
            return row.id
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        values = (
            row.id,
            row.patient_name or "",
            row.mrn or "",
            (row.procedure or "").capitalize(),
            row.levels or "",
            STATUS_LABELS.get(row.status, row.status),
        )
        return values[index.column()] if 0 <= index.column() < len(values) else None
