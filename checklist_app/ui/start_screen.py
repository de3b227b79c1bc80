"""The start screen: the case in progress (one tap to resume), today's cases, and New case."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..domain.setup import PROCEDURE_LABELS
from ..service import StoreError
from .case_list_model import CaseListModel
from .names import name
from .ports import RoomService
from .widgets import MessageLabel, TextButton, section_label


class StartScreen(QWidget):
    """Where the nurse lands when no case is open: resume, open one of today's cases, or start one."""

    case_chosen = Signal(str)
    new_case_requested = Signal()

    def __init__(self, service: RoomService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.model = CaseListModel(self)
        self._resume_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(self._resume_card())
        self.new_case = TextButton("+  New case", "new_case", primary=True)
        self.new_case.clicked.connect(self.new_case_requested)
        row = QHBoxLayout()
        row.addWidget(self.new_case)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(section_label("Today's cases"))
        self.table = QTableView()
        name(self.table, "case_table", "Today's cases: tap a case to open it")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(52)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._clicked)
        layout.addWidget(self.table, 1)
        self.empty = QLabel("No cases yet today.")
        self.empty.setProperty("role", "muted")
        layout.addWidget(self.empty)
        self.message = MessageLabel("start_message")
        layout.addWidget(self.message)

    def _resume_card(self) -> QFrame:
        card = QFrame()
        card.setProperty("panel", "card")
        row = QHBoxLayout(card)
        row.setContentsMargins(16, 12, 16, 12)
        self.resume_text = QLabel()
        name(self.resume_text, "resume_text", "Case in progress")
        self.resume_text.setProperty("role", "resume")
        self.resume_text.setWordWrap(True)
        self.resume_text.setTextFormat(Qt.TextFormat.PlainText)
        self.resume = TextButton("Resume case", "resume_case", primary=True)
        self.resume.clicked.connect(self._resume)
        row.addWidget(self.resume_text, 1)
        row.addWidget(self.resume)
        self.resume_card = card
        return card

    def refresh(self) -> None:
        """Read the case list again (it changes whenever a case starts or changes status)."""
        try:
            self._resume_id = self.service.case_in_progress()
            today = self.service.clock.now().astimezone().date().isoformat()
            rows = [r for r in self.service.list_cases(limit=200) if r.service_date == today]
        except StoreError as exc:
            self.message.show_message(f"Could not read the case list: {exc}", "error")
            return
        self.message.clear_message()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        self._show_resume()

    def _show_resume(self) -> None:
        if self._resume_id is None:
            self.resume_card.hide()
            return
        try:
            state = self.service.state(self._resume_id)
        except (StoreError, Refusal) as exc:
            self.message.show_message(f"Could not read the case in progress: {exc}", "error")
            self.resume_card.hide()
            return
        setup = state.setup
        current = state.current
        nxt = f"Next: {current.label}" if current else "All steps answered: ready to sign"
        who = f"{setup.patient.name} · MRN {setup.patient.mrn}" if setup else state.case_id
        what = PROCEDURE_LABELS.get(setup.procedure, setup.procedure) if setup else ""
        levels = " ".join(setup.level_names) if setup else ""
        done, total = state.progress
        self.resume_text.setText(f"Case in progress: {who}\n{what} {levels} · {done}/{total} steps · {nxt}")
        self.resume.setAccessibleName(f"Resume case in progress: {who}")
        self.resume_card.show()

    def _resume(self) -> None:
        if self._resume_id:
            self.case_chosen.emit(self._resume_id)

    def _clicked(self, index: QModelIndex) -> None:
        case_id = self.model.case_id_at(index.row())
        if case_id:
            self.case_chosen.emit(case_id)
