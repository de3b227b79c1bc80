"""Handover and the staff list (the form pieces it shares with other panels are in forms.py)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..domain.changes import Changes, Facet
from ..domain.errors import Refusal
from ..domain.present import ROLE_LABELS
from ..service import ROLES
from .case_events import CaseEvents
from .forms import GAP, FieldErrors, LineList, StaffCombo, ToggleGroup, label, say, scrolling, text_input
from .names import name
from .ports import RoomService
from .widgets import MIN_TARGET, BigButton, MessageLabel

HANDOVER_REASONS = ("handover", "break relief", "shift change", "other")


# -- the panel ---------------------------------------------------------------------------------
class HandoverPanel(QWidget):
    """Hand a role over to someone else (a logged staff change) and keep the site staff list.

    A handover goes out on the window's change channel; `staff_list_changed()` follows every addition
    to the site staff list (not a change of any case).
    """

    staff_list_changed = Signal()

    def __init__(self, service: RoomService, events: CaseEvents | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.events = events or CaseEvents(self)
        self.events.case_changed.connect(self._case_changed)
        self.case_id: str | None = None
        name(self, "handover", "Handover and staff list")
        columns = QHBoxLayout()
        columns.setSpacing(3 * GAP)
        columns.addLayout(self._build_handover(), 1)
        columns.addLayout(self._build_staff_editor(), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scrolling(columns, "handover.scroll", "Handover and staff list"))
        self._refresh()

    def _build_handover(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(GAP)
        box.addWidget(label("Handover", "section"))
        self.current = label("No case open.", "muted")
        name(self.current, "handover.current", "People in the room")
        box.addWidget(self.current)
        self.role = ToggleGroup("handover.role", "Role", [(r, ROLE_LABELS[r]) for r in ROLES], columns=2)
        self.role.set_value("nurse")
        self.new_name = StaffCombo(self.service, "nurse", "handover.name", "New person in this role")
        self.role.changed.connect(self._role_chosen)
        self.reason = QComboBox()
        name(self.reason, "handover.reason", "Reason for the handover")
        self.reason.setEditable(True)
        self.reason.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reason.addItems(HANDOVER_REASONS)
        self.reason.setMinimumHeight(MIN_TARGET)
        name(self.reason.lineEdit(), "handover.reason.edit", "Reason for the handover")
        self.handover_message = MessageLabel("handover.message")
        self.errors = FieldErrors(self.handover_message)
        for field, caption, widget in (
            ("role", "Role", self.role),
            ("name", "New person", self.new_name),
            ("reason", "Reason", self.reason),
        ):
            box.addWidget(label(caption, buddy=widget))
            box.addWidget(widget)
            box.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"handover.{field}.error")))
        self.hand_over = BigButton("Hand over", "handover.confirm", primary=True)
        self.hand_over.clicked.connect(self._hand_over)
        box.addWidget(self.hand_over)
        box.addWidget(self.handover_message)
        box.addStretch(1)
        return box

    def _build_staff_editor(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(GAP)
        box.addWidget(label("Staff list", "section"))
        self.staff_list = LineList("staff.list", "Staff list", "Nobody on the staff list yet.")
        box.addWidget(self.staff_list, 1)
        self.staff_name = text_input("staff.name", "Name of the new staff member", placeholder="Full name")
        self.staff_role = ToggleGroup(
            "staff.role", "Role of the new staff member", [(r, ROLE_LABELS[r]) for r in ROLES], columns=2
        )
        self.staff_pin = text_input("staff.pin", "Signature PIN (optional)", placeholder="4 to 12 digits", numeric=True)
        self.staff_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.staff_message = MessageLabel("staff.message")
        self.staff_errors = FieldErrors(self.staff_message)
        for field, caption, widget in (
            ("name", "Name", self.staff_name),
            ("role", "Role", self.staff_role),
            ("pin", "Signature PIN (optional, stored only as a salted hash)", self.staff_pin),
        ):
            box.addWidget(label(caption, buddy=widget))
            box.addWidget(widget)
            box.addWidget(
                self.staff_errors.add(field, caption.split(" (")[0], widget, MessageLabel(f"staff.{field}.error"))
            )
        add = BigButton("Add to staff list", "staff.add", primary=True)
        add.clicked.connect(self._add_staff)
        box.addWidget(add)
        box.addWidget(self.staff_message)
        return box

    # -- behaviour -----------------------------------------------------------------------------
    def set_case(self, case_id: str | None) -> None:
        self.case_id = case_id
        self.errors.clear()
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh()

    def _role_chosen(self, role: str) -> None:
        self.new_name.role = role
        self.new_name.refresh()

    def _hand_over(self) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        role = self.role.value() or ""
        state = self.events.run_use_case(
            lambda: self.service.change_staff(
                case_id=case_id, role=role, name=self.new_name.text(), reason=self.reason.currentText().strip()
            ),
            self.errors,
            self,
        )
        if state is None:
            return
        self.new_name.set_text("")
        self._refresh()
        say(
            self.handover_message,
            f"Handover saved: {ROLE_LABELS[role]} is now {state.staff_changes[-1].values['name']}.",
            "info",
        )

    def _case_changed(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and changes.case_id == self.case_id and changes.touches(Facet.STAFF):
            self._refresh()

    def _add_staff(self) -> None:
        pin = self.staff_pin.text()
        self.staff_pin.clear()  # the PIN never stays in the widget, stored or not
        role = self.staff_role.value()
        if role is None:
            self.staff_errors.clear()
            self.staff_errors.show(Refusal("role", "choose the role"))
            return
        added = self.staff_errors.run(
            lambda: self.service.add_staff(name=self.staff_name.text(), role=role, pin=pin or None)
        )
        if added is None:
            return
        say(self.staff_message, f"{self.staff_name.text().strip()} added to the staff list.", "info")
        self.staff_name.clear()
        self._refresh()
        self.staff_list_changed.emit()

    def _refresh(self) -> None:
        """Re-read the case and the staff list (widgets hold no truth)."""
        self.staff_list.set_lines(
            [
                f"{p['name']} — {ROLE_LABELS.get(p['role'], p['role'])}{', PIN set' if p['has_pin'] else ''}"
                for p in self.service.staff()
            ]
        )
        self.new_name.refresh()
        if self.case_id is None:
            self.current.setText("No case open: handover needs a case.")
            self.hand_over.setEnabled(False)
            return
        state = self.service.state(self.case_id)
        self.current.setText("\n".join(f"{ROLE_LABELS[r]}: {n or '—'}" for r, n in current_team(state).items()))
        self.hand_over.setEnabled(not state.facts.locked)
        if state.facts.locked:
            say(self.handover_message, "The case is signed and locked: no handover.", "info")


def current_team(state) -> dict[str, str]:
    """Who holds each role now: the set-up team updated by the recorded staff changes."""
    team = state.setup.team if state.setup else None
    now = {
        "nurse": state.current_nurse,
        "operator": team.operator if team else "",
        "anaesthesia": team.anaesthesia if team else "",
        "assistant": ", ".join(team.assistants) if team else "",
    }
    for change in state.staff_changes:
        role = str(change.values.get("role"))
        if role in now and role != "nurse":
            now[role] = str(change.values.get("name", ""))
    return now
