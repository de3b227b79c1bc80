"""The item model adapting a case's state for the checklist tree (the case list: case_list_model.py).

The models copy what they show into plain rows on every `show_state`, so a view never reads a
half-updated state, and changes reach the view as `dataChanged` (same case) or a reset (new case).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ..domain.chronology import LATE_REASONS
from ..domain.present import local_time
from ..domain.state import NOT_APPLICABLE, PENDING, CaseState, StepInstance

Key = tuple[str, str | None, str | None]
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invalid index: "no parent"

KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # (step id, level, side) of a step row; None for a group
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2  # "pending", "done", "not_applicable", or "group"
CURRENT_ROLE = Qt.ItemDataRole.UserRole + 3  # True on the current step (the first pending one)
LOCKED_ROLE = Qt.ItemDataRole.UserRole + 4  # True when a hard stop would refuse the step now

# Selecting a row asks for its status tip; answering with text rather than None keeps the per-tap path
# free of None crossing the binding (tests/gui/test_dependency_defects.py).
HINT_ROLES = (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.StatusTipRole)

PHASE_TITLES = {"before": "Before the first needle", "after": "After the last level"}
SIDE_WORDS = {"left": "left", "right": "right"}


@dataclass(frozen=True)
class StepRow:
    """One step instance as the checklist shows it."""

    key: Key
    title: str
    status: str
    when: str
    current: bool
    locked: bool
    detail: str
    corrected: bool = False

    def column_text(self, column: int) -> str:
        if column == 0:
            return ("▶ " if self.current else "") + self.title
        if self.status == NOT_APPLICABLE:
            return "N/A"
        if self.status == PENDING:
            return "LOCKED" if self.locked else ""
        return f"✓ {self.when}" + (" ✎" if self.corrected else "")


@dataclass(frozen=True)
class Group:
    """A phase of the checklist: before, one level, or after."""

    title: str
    rows: tuple[StepRow, ...]

    @property
    def progress(self) -> str:
        done = sum(1 for r in self.rows if r.status != PENDING)
        return f"{done}/{len(self.rows)}"


def group_title(state: CaseState, phase: str, level: str | None) -> str:
    if level is None:
        return PHASE_TITLES[phase]
    sides = state.setup.sides_of(level) if state.setup else ()
    kind = "bipedicular" if len(sides) == 2 else f"{' '.join(sides)}, unipedicular"
    return f"Level {level} ({kind})"


def step_title(instance: StepInstance, in_level_group: bool) -> str:
    """Within a level's group the level is implied; elsewhere it is named."""
    parts = [instance.side] if in_level_group else [instance.level, instance.side]
    words = " ".join(p for p in parts if p)
    return f"{instance.spec.title} — {words}" if words else instance.spec.title


def build_groups(state: CaseState, locked: Collection[Key] = ()) -> list[Group]:
    """The checklist's groups and rows, in template order, from the case state."""
    current = state.current
    buckets: dict[tuple[str, str | None], list[StepRow]] = {}
    for inst in state.instances:
        in_level = inst.spec.phase == "level"
        bucket = ("level", inst.level) if in_level else (inst.spec.phase, None)
        entry = inst.entry
        detail = inst.label
        if entry is not None and entry.event.late_reason:
            detail += f" (late entry: {LATE_REASONS.get(entry.event.late_reason, entry.event.late_reason)})"
        if entry is not None and entry.corrections:
            detail += f" (corrected {len(entry.corrections)}×)"
        if entry is None and inst.waived:
            detail += f" (not needed: {inst.waived})"
        row = StepRow(
            key=inst.key,
            title=step_title(inst, in_level),
            status=inst.status,
            when=local_time(entry.clinical_time) if entry else "",
            current=inst is current,
            locked=inst.status == PENDING and inst.key in locked,
            detail=detail,
            corrected=bool(entry and entry.corrections),
        )
        buckets.setdefault(bucket, []).append(row)
    order = [("before", None)] + [("level", lv) for lv in (state.setup.level_names if state.setup else ())]
    order.append(("after", None))
    return [
        Group(group_title(state, phase, lv), tuple(buckets[(phase, lv)]))
        for phase, lv in order
        if (phase, lv) in buckets
    ]


class ChecklistModel(QAbstractItemModel):
    """Two-level tree: phases (before, each level, after) holding their step instances; two columns."""

    COLUMNS = ("Step", "Done")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: list[Group] = []
        self._case_id = ""

    # -- updating ------------------------------------------------------------------------------
    def show_state(self, state: CaseState, locked: Collection[Key] = ()) -> None:
        groups = build_groups(state, locked)
        same_shape = state.case_id == self._case_id and [len(g.rows) for g in groups] == [
            len(g.rows) for g in self._groups
        ]
        if not same_shape:
            self.beginResetModel()
            self._groups, self._case_id = groups, state.case_id
            self.endResetModel()
            return
        old, self._groups = self._groups, groups
        for g, (before, after) in enumerate(zip(old, groups, strict=True)):
            if before.title != after.title or before.progress != after.progress:
                self.dataChanged.emit(self.index(g, 0), self.index(g, 1))
            changed = [r for r, (a, b) in enumerate(zip(before.rows, after.rows, strict=True)) if a != b]
            if changed:
                parent = self.index(g, 0)
                self.dataChanged.emit(self.index(min(changed), 0, parent), self.index(max(changed), 1, parent))

    def clear(self) -> None:
        self.beginResetModel()
        self._groups, self._case_id = [], ""
        self.endResetModel()

    # -- lookup --------------------------------------------------------------------------------
    def index_of(self, key: Key) -> QModelIndex:
        for g, group in enumerate(self._groups):
            for r, row in enumerate(group.rows):
                if row.key == key:
                    return self.index(r, 0, self.index(g, 0))
        return QModelIndex()

    def row_at(self, index: Index) -> StepRow | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._groups[index.internalId() - 1].rows[index.row()]

    def group_count(self) -> int:
        return len(self._groups)

    # -- Qt model interface ----------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: Index | None = None):  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = ROOT) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        return len(self._groups[parent.row()].rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return len(self.COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == 0:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 2:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._group_data(self._groups[index.row()], index.column(), role)
        return self._row_data(self._groups[index.internalId() - 1].rows[index.row()], index.column(), role)

    @staticmethod
    def _group_data(group: Group, column: int, role: int):
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return group.title if column == 0 else group.progress
        if role in HINT_ROLES:
            return group.title
        if role == STATUS_ROLE:
            return "group"
        if role in (CURRENT_ROLE, LOCKED_ROLE):
            return False
        return None

    @staticmethod
    def _row_data(row: StepRow, column: int, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return row.column_text(column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = {PENDING: "pending", NOT_APPLICABLE: "not applicable"}.get(row.status, f"done at {row.when}")
            extra = ", current step" if row.current else ""
            extra += ", locked by a hard stop" if row.locked else ""
            return f"{row.detail}: {state}{extra}"
        if role in HINT_ROLES:
            return row.detail
        if role == KEY_ROLE:
            return row.key
        if role == STATUS_ROLE:
            return row.status
        if role == CURRENT_ROLE:
            return row.current
        if role == LOCKED_ROLE:
            return row.locked
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
