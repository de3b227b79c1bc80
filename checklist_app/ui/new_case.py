"""The new-case form: patient (with weight), procedure, levels and sides on a spine map, indication,
team, contraindication screen and coverage evidence. Labs are not asked here: INR and platelets are
recorded once, with their draw time, in the pre-procedure checks (SPEC §5).

Warnings (decision): once `start_case` has stored the case, the form's second page lists the
case's pending warnings (contraindication screen, level count and range). Each needs its own tap,
logged through `acknowledge_warning` with the nurse's name, and the form emits `case_started` when
none is left (at once if there were none). "Acknowledge later" emits straight away: the warnings
stay pending in the case, the window shows them, and the nurse cannot sign until each is
acknowledged. After `case_started` the form resets itself; after `cancelled` it keeps what was
typed (an accidental tap loses nothing) and the host calls `reset()` for a fresh form.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..domain.present import local_time
from ..domain.setup import (
    COVERAGE,
    COVERAGE_LABELS,
    INDICATION_LABELS,
    INDICATIONS,
    PROCEDURE_LABELS,
    PROCEDURES,
    REMISSION,
    REMISSION_LABELS,
    SCREEN_FLAGS,
    SEXES,
)
from .case_events import CaseEvents
from .forms import GAP, FieldErrors, StaffCombo, ToggleGroup, label, number, text_input
from .names import name
from .patient_identity import PatientIdentity
from .patient_picker import PatientFinder
from .ports import RoomService
from .spine_map import SpineMap, parse_levels
from .widgets import BigButton, MessageLabel

_COVERAGE_UNITS = {"score": "/10", "percent": "%"}
TEAM = (
    ("operator", "operator", "Operator"),
    ("nurse", "nurse", "Circulating nurse"),
    ("anaesthesia", "anaesthesia", "Anaesthesia provider"),
    ("assistants", "assistant", "Assistants"),
)


class NewCaseForm(QWidget):
    """Set up a case; emits `case_started(case_id)` once it is stored and its warnings are acknowledged."""

    case_started = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        service: RoomService,
        events: CaseEvents | None = None,
        parent: QWidget | None = None,
        *,
        patients: PatientFinder | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.patients = patients  # the hospital's patient list, when the site has interfaces
        self.events = events or CaseEvents(self)
        self.case_id: str | None = None
        self._icd_edited = False
        name(self, "newcase", "New case")
        self.message = MessageLabel("newcase.message")
        self.errors = FieldErrors(self.message)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form_page())
        self.pages.addWidget(self._build_warnings_page())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)

    # -- building ------------------------------------------------------------------------------
    def _field(self, box: QVBoxLayout, field: str, caption: str, widget: QWidget, unit: str = "") -> None:
        """Caption, input (with its unit) and the message line that names this field on refusal."""
        box.addWidget(label(caption, buddy=widget))
        if unit:
            row = QHBoxLayout()
            row.addWidget(widget, 1)
            row.addWidget(label(unit, "unit"))
            box.addLayout(row)
        else:
            box.addWidget(widget)
        box.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"newcase.{field}.error")))

    def _card(self, title: str) -> tuple[QFrame, QVBoxLayout]:
        card = QFrame()
        card.setProperty("panel", "card")
        box = QVBoxLayout(card)
        box.setSpacing(GAP // 2)
        box.addWidget(label(title, "section"))
        return card, box

    def _build_form_page(self) -> QWidget:
        # Read in order: patient, procedure, team across the top; levels and the screen below.
        top, bottom = QHBoxLayout(), QHBoxLayout()
        for row, cards in ((top, self._build_patient() + self._build_team()), (bottom, self._build_levels())):
            row.setSpacing(2 * GAP)
            for card in cards:
                row.addWidget(card, 1, Qt.AlignmentFlag.AlignTop)
        bottom.setStretch(0, 0)  # the spine keeps its natural width; the screen takes the rest
        content = QWidget()
        box = QVBoxLayout(content)
        box.setSpacing(2 * GAP)
        box.addLayout(top)
        box.addLayout(bottom)
        box.addStretch(1)
        self.scroll = QScrollArea()
        name(self.scroll, "newcase.scroll", "New case form")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        cancel = BigButton("Cancel", "newcase.cancel")
        cancel.clicked.connect(self.cancelled.emit)
        self.start = BigButton("Start case", "newcase.start", primary=True)
        self.start.clicked.connect(self._start)
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addWidget(cancel)
        bar.addWidget(self.start)
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addWidget(self.scroll, 1)
        outer.addLayout(bar)
        return page

    def _build_patient(self) -> list[QFrame]:
        patient, box = self._card("Patient")
        self.identity = PatientIdentity(self, box)  # hospital list, wristband, provenance (issue 14)
        self.patient_name = text_input("newcase.patient_name", "Patient name", placeholder="Name (any script)")
        self.mrn = text_input("newcase.mrn", "Medical record number")
        self.dob = text_input("newcase.date_of_birth", "Date of birth", placeholder="YYYY-MM-DD", numeric=True)
        self.sex = ToggleGroup("newcase.sex", "Sex", [(s, s.capitalize()) for s in SEXES], columns=2)
        self.weight = text_input("newcase.weight_kg", "Weight", placeholder="e.g. 68", numeric=True)
        for field, caption, widget in (
            ("patient_name", "Patient name", self.patient_name),
            ("mrn", "MRN", self.mrn),
            ("date_of_birth", "Date of birth", self.dob),
            ("sex", "Sex", self.sex),
        ):
            self._field(box, field, caption, widget)
        self._field(box, "weight_kg", "Weight (drug maxima and doses use it)", self.weight, "kg")
        self.identity.watch(self.patient_name, self.mrn, self.dob)
        procedure, box = self._card("Procedure and indication")
        self.procedure = ToggleGroup("newcase.procedure", "Procedure", [(p, p.capitalize()) for p in PROCEDURES])
        for value, button in self.procedure.buttons.items():
            button.setAccessibleName(f"Procedure: {PROCEDURE_LABELS[value]}")
        self._field(box, "procedure", "Procedure", self.procedure)
        short = [(i, i.capitalize()) for i in INDICATIONS]
        self.indication = ToggleGroup("newcase.indication", "Indication", short, columns=2)
        self.indication.changed.connect(self._suggest)
        self.indication.changed.connect(self._show_indication_details)
        self._field(box, "indication", "Indication", self.indication)
        self.remission = ToggleGroup(
            "newcase.myeloma_remission", "Myeloma status", [(r, REMISSION_LABELS[r].capitalize()) for r in REMISSION]
        )
        self.remission.changed.connect(self._suggest)
        self.remission_box = QWidget()
        remission_box = QVBoxLayout(self.remission_box)
        remission_box.setContentsMargins(0, 0, 0, 0)
        self._field(remission_box, "myeloma_remission", "Myeloma: remission status", self.remission)
        box.addWidget(self.remission_box)
        self.primary = text_input("newcase.primary_neoplasm", "Primary neoplasm code", placeholder="e.g. C50.911")
        self.primary.textEdited.connect(lambda _t: self._suggest())
        self.primary_box = QWidget()
        primary_box = QVBoxLayout(self.primary_box)
        primary_box.setContentsMargins(0, 0, 0, 0)
        self._field(primary_box, "primary_neoplasm", "Metastatic: primary neoplasm (ICD-10-CM, if known)", self.primary)
        box.addWidget(self.primary_box)
        self._show_indication_details()
        self.detail = text_input("newcase.indication_detail", "Indication details", placeholder="Optional")
        self._field(box, "indication_detail", "Indication details", self.detail)
        self.icd10 = text_input("newcase.icd10", "ICD-10 codes", placeholder="e.g. M80.08XA")
        self.icd10.textEdited.connect(lambda _t: setattr(self, "_icd_edited", True))
        self._field(box, "icd10", "ICD-10 codes (suggested, editable)", self.icd10)
        self.icd_hint = label("Choose the indication and levels for a suggestion.", "muted")
        name(self.icd_hint, "newcase.icd10_hint", "ICD-10 suggestion")
        box.addWidget(self.icd_hint)
        use = BigButton("Use the suggestion", "newcase.icd10_suggest")
        use.clicked.connect(lambda: self._suggest(force=True))
        box.addWidget(use)
        return [patient, procedure]

    def _build_levels(self) -> list[QFrame]:
        card, box = self._card("Levels and sides")
        self.spine = SpineMap()
        self.spine.changed.connect(self._levels_changed)
        self.levels_text = text_input("newcase.levels_text", "Type levels", placeholder="or type: T12, L1 left")
        self.levels_text.returnPressed.connect(self._apply_typed_levels)
        apply = BigButton("Apply", "newcase.levels_apply")
        apply.clicked.connect(self._apply_typed_levels)
        row = QHBoxLayout()
        row.addWidget(self.levels_text, 1)
        row.addWidget(apply)
        box.addLayout(row)
        box.addWidget(self.spine)
        self.levels_summary = label("No level chosen.", "muted")
        name(self.levels_summary, "newcase.levels_summary", "Planned levels")
        box.addWidget(self.levels_summary)
        box.addWidget(self.errors.add("levels", "Levels", self.spine, MessageLabel("newcase.levels.error")))
        return [card, self._build_screen()]

    def _build_team(self) -> list[QFrame]:
        team, box = self._card("Team")
        self.team: dict[str, StaffCombo] = {}
        for field, role, caption in TEAM:
            self.team[field] = StaffCombo(self.service, role, f"newcase.team.{field}", caption)
            self._field(box, field, caption, self.team[field])
        return [team]

    def _build_screen(self) -> QFrame:
        screen, box = self._card("Contraindication screen")
        self.screen: dict[str, ToggleGroup] = {}
        for flag, text in SCREEN_FLAGS.items():
            group = ToggleGroup(f"newcase.screen.{flag}", text, [("yes", "Yes"), ("no", "No")])
            row = QHBoxLayout()
            row.addWidget(label(text, buddy=group), 1)
            row.addWidget(group)
            box.addLayout(row)
            box.addWidget(self.errors.add(flag, text, group, MessageLabel(f"newcase.screen.{flag}.error")))
            self.screen[flag] = group
        all_no = BigButton("All unanswered: No", "newcase.screen.all_no")
        all_no.clicked.connect(self._all_no)
        box.addWidget(all_no)
        box.addWidget(label("INR and platelets are recorded in the pre-procedure checks, with the draw time.", "muted"))
        box.addWidget(label("Coverage evidence", "section"))
        self.coverage_choices: dict[str, ToggleGroup] = {}
        self.coverage_numbers: dict[str, QLineEdit] = {}
        for key, (caption, kind) in COVERAGE.items():
            if isinstance(kind, tuple):
                choices = [(v, COVERAGE_LABELS[v].capitalize()) for v in kind]
                group = ToggleGroup(f"newcase.coverage.{key}", caption, choices, columns=2)
                self._field(box, key, caption, group)
                self.coverage_choices[key] = group
            else:
                edit = text_input(f"newcase.coverage.{key}", caption, placeholder="0–10" if kind == "score" else "%")
                self._field(box, key, caption, edit, _COVERAGE_UNITS[kind])
                self.coverage_numbers[key] = edit
        return screen

    def _build_warnings_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setSpacing(GAP)
        self.warnings_title = QLabel()
        self.warnings_title.setProperty("role", "header_name")
        self.warnings_title.setWordWrap(True)
        name(self.warnings_title, "newcase.warnings.title", "Warnings to acknowledge")
        box.addWidget(self.warnings_title)
        self.warning_rows = QVBoxLayout()
        self.warning_rows.setSpacing(GAP)
        box.addLayout(self.warning_rows)
        self.warnings_message = MessageLabel("newcase.warnings.message")
        self.warning_errors = FieldErrors(self.warnings_message)
        box.addWidget(self.warnings_message)
        later = BigButton("Acknowledge later (signing stays blocked)", "newcase.warnings.later")
        later.clicked.connect(self._finish)
        box.addWidget(later, 0, Qt.AlignmentFlag.AlignLeft)
        box.addStretch(1)
        return page

    # -- behaviour -----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        for combo in self.team.values():  # someone may have joined the staff list meanwhile
            combo.refresh()

    def reset(self) -> None:
        """A fresh, empty form with the staff lists re-read."""
        self.case_id = None
        self._icd_edited = False
        for edit in (
            self.patient_name,
            self.mrn,
            self.dob,
            self.detail,
            self.icd10,
            self.levels_text,
            self.weight,
            self.primary,
        ):
            edit.clear()
        for edit in self.coverage_numbers.values():
            edit.clear()
        for group in (
            self.sex,
            self.procedure,
            self.indication,
            self.remission,
            *self.screen.values(),
            *self.coverage_choices.values(),
        ):
            group.set_value(None)
        self._show_indication_details()
        for combo in self.team.values():
            combo.set_text("")
            combo.refresh()
        self.spine.set_plan({})
        self.identity.reset()
        self.errors.clear()
        self.pages.setCurrentIndex(0)

    def _all_no(self) -> None:
        for group in self.screen.values():
            if group.value() is None:
                group.set_value("no")

    def _apply_typed_levels(self) -> None:
        self.errors.clear()
        try:
            plan = parse_levels(self.levels_text.text())
        except Refusal as exc:
            self.errors.show(exc)
            return
        self.spine.set_plan(plan)
        self.levels_text.clear()

    def _levels_changed(self) -> None:
        self.levels_summary.setText(f"Planned: {self.spine.summary()}")
        self._suggest()

    def _show_indication_details(self, *_args: object) -> None:
        """The myeloma status and the metastasis' primary are asked only for those indications."""
        indication = self.indication.value()
        self.remission_box.setVisible(indication == "myeloma")
        self.primary_box.setVisible(indication == "metastatic")

    def _suggest(self, *_args, force: bool = False) -> None:
        """Fill the ICD-10 codes from the indication and levels, unless the codes were typed by hand."""
        indication, levels = self.indication.value(), [p["level"] for p in self.spine.plan()]
        if not indication or not levels:
            self.icd_hint.setText("Choose the indication and levels for a suggestion.")
            return
        try:
            codes = self.service.site.coding.diagnosis_codes(
                indication,
                levels,
                remission=self.remission.value() if indication == "myeloma" else None,
                primary_neoplasm=(self.primary.text().strip() or None) if indication == "metastatic" else None,
            )
        except Refusal as exc:
            self.icd_hint.setText(f"{INDICATION_LABELS[indication]}: {exc.message}")
            return
        self.icd_hint.setText(
            f"{INDICATION_LABELS[indication]}. Suggested: " + "; ".join(f"{c.code} {c.description}" for c in codes)
        )
        if force or not self._icd_edited:
            self.icd10.setText(", ".join(c.code for c in codes))
            self._icd_edited = False

    def _collect(self) -> dict:
        """The start_case arguments; refuses every unanswered required input at once."""
        missing = [
            Refusal(field, "is required")
            for field, value in (
                ("patient_name", self.patient_name.text().strip()),
                ("mrn", self.mrn.text().strip()),
                ("procedure", self.procedure.value()),
                ("levels", self.spine.plan()),
                ("indication", self.indication.value()),
                ("operator", self.team["operator"].text()),
                ("nurse", self.team["nurse"].text()),
                ("weight_kg", self.weight.text().strip()),
            )
            if not value
        ]
        missing += [Refusal(flag, "answer Yes or No") for flag, g in self.screen.items() if g.value() is None]
        if missing:
            raise ExceptionGroup("missing answers", missing)
        screen: dict = {flag: group.value() == "yes" for flag, group in self.screen.items()}
        coverage: dict = {key: group.value() for key, group in self.coverage_choices.items()}
        for key, edit in self.coverage_numbers.items():
            coverage[key] = number(edit.text(), key, _COVERAGE_UNITS[str(COVERAGE[key][1])])
        indication = self.indication.value()
        assistants = [a.strip() for a in self.team["assistants"].text().split(",") if a.strip()]
        return {
            "patient": {
                "name": self.patient_name.text(),
                "mrn": self.mrn.text(),
                "date_of_birth": self.dob.text().strip() or None,
                "sex": self.sex.value() or "unknown",
                "weight_kg": number(self.weight.text(), "weight_kg", "kg"),
            },
            "procedure": self.procedure.value(),
            "levels": self.spine.plan(),
            "indication": self.indication.value(),
            "indication_detail": self.detail.text(),
            "icd10": [c for c in re.split(r"[\s,;]+", self.icd10.text().strip()) if c],
            "team": {
                "operator": self.team["operator"].text(),
                "nurse": self.team["nurse"].text(),
                "anaesthesia": self.team["anaesthesia"].text(),
                "assistants": assistants,
            },
            "screen": screen,
            "coverage": coverage,
            "myeloma_remission": (self.remission.value() or "") if indication == "myeloma" else "",
            "primary_neoplasm": self.primary.text().strip() if indication == "metastatic" else "",
            "identity": self.identity.provenance(),
        }

    def _start(self) -> None:
        self.errors.clear()
        try:
            kwargs = self._collect()
        except ExceptionGroup as group:
            self._refused(*group.exceptions)
            return
        except Refusal as exc:
            self._refused(exc)
            return
        state = self.events.run_use_case(lambda: self.service.start_case(**kwargs), self.errors, self)
        if state is None:
            self._refused()
            return
        self.case_id = state.case_id
        if self.service.warnings(self.case_id, pending_only=True):
            self.pages.setCurrentIndex(1)
            self._render_warnings()
        else:
            self._finish()

    def _refused(self, *refusals: Refusal) -> None:
        """Show the refusals by their inputs and scroll the first one into view."""
        if refusals:
            self.errors.show(*refusals)
        first = self.errors.first_invalid()
        if first is not None:
            self.scroll.ensureWidgetVisible(first)

    def _render_warnings(self) -> None:
        """One row per warning of the case: acknowledged (who, when) or an Acknowledge button."""
        assert self.case_id is not None
        while self.warning_rows.count():
            item = self.warning_rows.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        state = self.service.state(self.case_id)
        pending = self.service.warnings(self.case_id, pending_only=True)
        self.warnings_title.setText(
            f"Case {self.case_id} saved. Acknowledge each warning ({len(pending)} left) to open the checklist."
        )
        for warning in self.service.warnings(self.case_id):
            row = QFrame()
            row.setObjectName("warning_row")
            line = QHBoxLayout(row)
            line.addWidget(label(f"{warning.source}: {warning.message}"), 1)
            done = state.acknowledged_warnings.get(warning.id)
            if done is not None:
                line.addWidget(label(f"Acknowledged by {done.actor} at {local_time(done.recorded_time)}"))
            else:
                ack = BigButton("Acknowledge", f"newcase.warning.{warning.id}.acknowledge")
                ack.setAccessibleName(f"Acknowledge: {warning.message}")
                ack.clicked.connect(lambda _=False, wid=warning.id: self._acknowledge(wid))
                line.addWidget(ack)
            self.warning_rows.addWidget(row)

    def _acknowledge(self, warning_id: str) -> None:
        case_id = self.case_id
        assert case_id is not None
        state = self.events.run_use_case(
            lambda: self.service.acknowledge_warning(case_id=case_id, warning_id=warning_id), self.warning_errors, self
        )
        if state is None:
            return
        if self.service.warnings(case_id, pending_only=True):
            self._render_warnings()
        else:
            self._finish()

    def _finish(self) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        self.reset()
        self.case_started.emit(case_id)
