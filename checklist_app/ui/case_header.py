"""The case header in the top bar: patient, MRN, procedure, levels, and the signed-in nurse."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..domain.setup import PROCEDURE_LABELS
from ..domain.state import CaseState
from .names import name
from .widgets import TextButton


def levels_text(state: CaseState) -> str:
    if state.setup is None:
        return ""
    words = {("left",): "left", ("right",): "right", ("left", "right"): "both sides"}
    return ", ".join(f"{p.level} ({words.get(tuple(p.sides), '/'.join(p.sides))})" for p in state.setup.levels)


class CaseHeader(QWidget):
    """Who and what: patient, MRN, procedure, levels, and the signed-in nurse (always visible)."""

    handover_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        text = QVBoxLayout()
        text.setSpacing(0)
        self.patient = QLabel()
        name(self.patient, "header_patient", "Patient")
        self.patient.setProperty("role", "header_name")
        self.details = QLabel()
        name(self.details, "header_details", "Case details")
        self.details.setProperty("role", "header_detail")
        for label in (self.patient, self.details):
            label.setWordWrap(True)  # long names and many levels wrap instead of pushing buttons away
            # A right-to-left name (Arabic, Hebrew) stays at the left edge above its details line;
            # without AlignAbsolute Qt aligns a right-to-left paragraph to the right.
            label.setAlignment(
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter
            )
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        text.addWidget(self.patient)
        text.addWidget(self.details)
        layout.addLayout(text, 1)
        self.nurse = QLabel()
        name(self.nurse, "header_nurse", "Signed-in nurse")
        self.handover = TextButton("Handover", "header_handover")
        self.handover.clicked.connect(self.handover_requested)
        layout.addWidget(self.nurse)
        layout.addWidget(self.handover)

    def sizeHint(self) -> QSize:
        """The patient's line and two lines of details: what the top bar is sized for.

        The labels wrap (Ignored width), so Qt's own hint measures them at a sliver of their width
        and comes out hundreds of pixels tall; the bar lays them out at its real width anyway.
        """
        lines = self.patient.fontMetrics().lineSpacing() + 2 * self.details.fontMetrics().lineSpacing()
        buttons = max(self.nurse.sizeHint().height(), self.handover.sizeHint().height())
        width = self.nurse.sizeHint().width() + self.handover.sizeHint().width() + 360
        return QSize(width, max(lines, buttons))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def show_state(self, state: CaseState) -> None:
        setup = state.setup
        if setup is None:
            return
        self.patient.setText(setup.patient.name)
        self.patient.setAccessibleName(f"Patient: {setup.patient.name}")
        dob = setup.patient.date_of_birth.isoformat() if setup.patient.date_of_birth else "—"
        procedure = PROCEDURE_LABELS.get(setup.procedure, setup.procedure)
        details = f"MRN {setup.patient.mrn} · DOB {dob} · {procedure} {levels_text(state)}"
        self.details.setText(details)
        self.details.setAccessibleName(details)
        self.nurse.setText(f"Signed in: {state.current_nurse}")
        self.nurse.setAccessibleName(f"Signed-in nurse: {state.current_nurse}")
