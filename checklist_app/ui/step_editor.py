"""The step editor: the selected step's values entered inline, its hard stops, and what was recorded.

Every action calls one use case; the editor shows a step as done only after the service returned
the new state (the event is then on disk). A refusal or a failed write leaves the typed values in
place and says NOT SAVED.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..domain.present import duration
from ..domain.rules import GateClosed
from ..domain.state import NOT_APPLICABLE, PENDING, CaseState, StepInstance
from ..domain.template import Gate
from .field_inputs import FieldInput, make_input, show_dependents
from .names import field_name, name
from .step_parts import ClinicalTimePanel, GatePanel, history_html
from .widgets import MessageLabel, ReasonPanel, TextButton, attempt

Key = tuple[str, str | None, str | None]
BADGES = {"current": "NOW", PENDING: "TO DO", "done": "DONE", NOT_APPLICABLE: "NOT APPLICABLE"}


class StepEditor(QWidget):
    """The selected step: enter and record it, or see, correct or retract what was recorded."""

    saved = Signal(str)  # "done", "not_applicable", "corrected" or "retracted"
    batch_requested = Signal(str)  # the repeatable step to record first: "cement_mix" or "balloon_kit"
    current_requested = Signal()

    def __init__(self, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.case_id = ""
        self.key: Key | None = None
        self.mode = "empty"  # "pending", "recorded", "correcting", "locked"
        self.inputs: dict[str, FieldInput] = {}
        self._build()

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.badge = QLabel()
        name(self.badge, "step_badge", "Step status")
        self.title = QLabel()
        name(self.title, "step_title", "Step")
        self.title.setWordWrap(True)
        self.go_current = TextButton("Go to current step", "go_current")
        self.go_current.clicked.connect(self.current_requested)
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        layout.addLayout(head)
        under = QHBoxLayout()
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setProperty("role", "muted")
        under.addWidget(self.help, 1)
        under.addWidget(self.go_current, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(under)
        self.gate = GatePanel()
        self.gate.override_requested.connect(lambda: self._open_override([]))
        layout.addWidget(self.gate)
        self._panels()
        layout.addWidget(self._body(), 1)
        self.message = MessageLabel("step_message")
        layout.addWidget(self.message)
        layout.addLayout(self._actions())

    def _body(self) -> QScrollArea:
        """Fields, then any open panel, then the history: all scroll, so nothing is ever squeezed."""
        self.scroll = QScrollArea()
        self.scroll.setObjectName("step_scroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("step_body")
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 8, 0)
        outer.setSpacing(12)
        outer.addWidget(self.override)
        self.form = QVBoxLayout()
        self.form.setSpacing(14)
        outer.addLayout(self.form)
        for panel in (self.late, self.na_panel, self.correction_panel, self.retraction_panel):
            outer.addWidget(panel)
        self.history = QLabel()
        name(self.history, "step_history", "What was recorded for this step")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.history)
        outer.addStretch(1)
        self.scroll.setWidget(body)
        return self.scroll

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.primary = TextButton("✓ Done", "primary_action", primary=True)
        self.primary.clicked.connect(self.complete)
        self.na_button = TextButton("Not applicable…", "not_applicable")
        self.na_button.clicked.connect(lambda: self._open_panel(self.na_panel))
        self.correct_button = TextButton("Correct…", "correct")
        self.correct_button.clicked.connect(self._start_correction)
        self.retract_button = TextButton("Retract…", "retract")
        self.retract_button.clicked.connect(lambda: self._open_panel(self.retraction_panel))
        row.addWidget(self.primary, 3)
        for button in (self.late_toggle, self.na_button, self.correct_button, self.retract_button):
            row.addWidget(button, 1)
        return row

    def _panels(self) -> None:
        """The inline panels (never dialogs): override, late entry, not applicable, correct, retract."""
        self.override = ReasonPanel(
            "override",
            "Why override this hard stop? The reason is recorded and printed in the note.",
            "Override and record",
            suggestions=("Operator decision", "Emergency"),
        )
        self.override.confirmed.connect(lambda reason: self._record(override_reason=reason))
        self.late_toggle = TextButton("Late entry…", "late_entry")
        self.late_toggle.setCheckable(True)
        self.late_toggle.toggled.connect(self._toggle_late)
        self.late = ClinicalTimePanel()
        self.na_panel = ReasonPanel(
            "not_applicable",
            "Why is this step not applicable?",
            "Mark not applicable",
            suggestions=("Not indicated", "Operator decision"),
        )
        self.na_panel.confirmed.connect(self._not_applicable)
        self.correction_panel = ReasonPanel(
            "correction", "Change the values above, then give the reason for the correction:", "Save correction"
        )
        self.correction_panel.confirmed.connect(self._correct)
        self.correction_panel.cancelled.connect(self.rebuild)
        self.retraction_panel = ReasonPanel(
            "retraction",
            "Why withdraw this entry? The step returns to pending; the entry stays in the record, struck through.",
            "Retract entry",
        )
        self.retraction_panel.confirmed.connect(self._retract)

    # -- showing a step --------------------------------------------------------------------------
    def show_step(self, case_id: str, key: Key | None) -> None:
        if (case_id, key) != (self.case_id, self.key):
            self.mode = "empty"  # another step: nothing typed carries over
        self.case_id, self.key = case_id, key
        self.message.clear_message()
        self.rebuild()

    def rebuild(self) -> None:
        """Show the step afresh from the stored state (after a save, a selection or a cancel).

        Answers the nurse gave to a still-pending step survive; untouched fields are derived afresh
        from the case (the newest usable batch, a kit recorded meanwhile).
        """
        typed = self._answers() if self.mode == "pending" else {}
        self._clear_form()
        for panel in (self.override, self.na_panel, self.correction_panel, self.retraction_panel):
            panel.hide()
        self.late_toggle.setChecked(False)
        if not self.case_id or self.key is None:
            self.mode = "empty"
            self.title.setText("Choose a step")
            for widget in (self.badge, self.help, self.go_current, self.primary, self.na_button, self.late_toggle):
                widget.hide()
            self._show_buttons()
            return
        state = self.service.state(self.case_id)
        inst = state.instance(*self.key)
        self.mode = "locked" if state.locked else "pending" if inst.status == PENDING else "recorded"
        self._show_heading(state, inst)
        if self.mode == "pending":
            self._fill_form(state, inst, typed)
            for field_id in typed:
                self.inputs[field_id].touched = True
        self.history.setText(history_html(state, inst))
        self.history.setVisible(bool(inst.entries))
        self._show_buttons()
        self.refresh_gates()

    def _show_heading(self, state: CaseState, inst: StepInstance) -> None:
        current = state.current
        is_current = current is not None and inst is current
        badge = "current" if is_current and self.mode == "pending" else inst.status
        self.badge.setText(BADGES[badge])
        self.badge.setProperty("state", "current" if badge == "current" else inst.status)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.show()
        self.title.setText(inst.label)
        self.title.setAccessibleName(f"Step: {inst.label}")
        self.help.setText(inst.spec.help)
        self.help.setVisible(bool(inst.spec.help))
        self.go_current.setVisible(current is not None and not is_current)
        if current is not None:
            self.go_current.setAccessibleName(f"Go to the current step: {current.label}")
            self.go_current.setToolTip(f"Current step: {current.label}")
        if state.locked:
            self.message.show_message("The case is signed and locked: add an addendum on the Sign-off page.", "info")

    def _show_buttons(self) -> None:
        pending, recorded = self.mode == "pending", self.mode == "recorded"
        state = self.service.state(self.case_id) if self.key else None
        inst = state.instance(*self.key) if state and self.key else None
        self.primary.setVisible(pending)
        self.na_button.setVisible(pending)
        self.late_toggle.setVisible(pending or self.mode == "correcting")
        self.late_toggle.setText("Late entry…" if pending else "Change time…")
        self.correct_button.setVisible(recorded and inst is not None and inst.status != NOT_APPLICABLE)
        self.retract_button.setVisible(recorded)
        if inst is not None:
            verbs = {"Done": self.primary, "Not applicable": self.na_button, "Correct": self.correct_button}
            for verb, button in {**verbs, "Retract": self.retract_button}.items():
                button.setAccessibleName(f"{verb}: {inst.label}")

    def _fill_form(self, state: CaseState, inst: StepInstance, values: dict[str, Any]) -> None:
        self._clear_form()
        for spec in inst.spec.fields:
            object_name = field_name(inst.spec.id, inst.level, inst.side, spec.id)
            widget = make_input(spec, object_name, inst.label, state, self.service.clock.now())
            if spec.id in values:
                widget.set_value(values[spec.id])
            widget.changed.connect(lambda: show_dependents(self.inputs))
            widget.action_requested.connect(self.batch_requested)
            self.inputs[spec.id] = widget
            self.form.addWidget(widget)
            widget.show()  # at once, not on the next event-loop turn: the form is usable immediately
        show_dependents(self.inputs)

    def _clear_form(self) -> None:
        self.inputs = {}
        while self.form.count():
            widget = self.form.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)  # out of the tree at once, so names never resolve to stale inputs
                widget.deleteLater()

    def sync(self) -> None:
        """A pending step follows changes made elsewhere (a batch recorded on the implants page, a
        handover, the clock ending a working time) without losing what the nurse has answered."""
        if self.mode != "pending" or not self.case_id:
            return
        state, now = self.service.state(self.case_id), self.service.clock.now()
        for widget in self.inputs.values():
            widget.sync(state, now)
        show_dependents(self.inputs)

    def _answers(self) -> dict[str, Any]:
        """The values the nurse gave herself (not the ones the form proposed)."""
        return {f: v for f, v in self.values().items() if self.inputs[f].touched}

    def values(self) -> dict[str, Any]:
        """What the nurse entered, leaving out unanswered and irrelevant (hidden) fields."""
        answered = {f: w.value() for f, w in self.inputs.items() if not w.isHidden()}
        return {f: value for f, value in answered.items() if value is not None}

    # -- hard stops --------------------------------------------------------------------------------
    def refresh_gates(self) -> None:
        """Show the hard stops that would refuse the step now (called every second by the case screen)."""
        gates = self._closed_gates() if self.mode == "pending" else []
        self.gate.show_gates(gates, self._countdown(gates))
        self.primary.setEnabled(not gates)
        self.primary.setText("Locked" if gates else "✓ Done")
        if not gates and self.override.isVisible() and self.mode == "pending":
            self.override.hide()

    def _closed_gates(self) -> list[Gate]:
        step, level, side = self.key or ("", None, None)
        return list(self.service.blocking_gates(case_id=self.case_id, step=step, level=level, side=side))

    def _countdown(self, gates: list[Gate]) -> str:
        if not any(g.countdown == "hardening" for g in gates) or self.key is None:
            return ""
        timer = next((t for t in self.service.timers(self.case_id) if t.id == f"hardening:{self.key[1]}"), None)
        return f"Cement hardening {self.key[1]}: {duration(timer.remaining)} left" if timer else ""

    def _open_override(self, gates: list[Gate]) -> None:
        text = "; ".join(g.message for g in gates) or self.gate.message.text().removeprefix("HARD STOP — ")
        self.na_panel.hide()
        self.override.open_panel(f"Override the hard stop ({text})? Give the reason: it is recorded and printed.")
        self._reveal(self.override)

    # -- actions -----------------------------------------------------------------------------------
    def complete(self) -> bool:
        """The primary action: record the step with the values entered. True when saved."""
        if self.mode != "pending" or not self.primary.isEnabled():
            return False
        return self._record()

    def _record(self, override_reason: str | None = None) -> bool:
        step, level, side = self.key or ("", None, None)
        values = self.values()
        when, late = self._clinical_time()
        refused: list[Gate] = []

        def action():
            try:
                return self.service.record_step(
                    case_id=self.case_id,
                    step=step,
                    level=level,
                    side=side,
                    values=values or None,
                    clinical_time=when,
                    late_reason=late,
                    override_reason=override_reason,
                )
            except GateClosed as exc:
                refused.extend(exc.gates)
                raise

        if attempt(action, self.message) is None:
            if refused and not override_reason:
                self._open_override(refused)
            return False
        self.saved.emit("done")
        return True

    def _clinical_time(self):
        if not self.late_toggle.isChecked():
            return None, None
        return self.late.clinical_time(self.service.clock.now()), self.late.late_reason()

    def _not_applicable(self, reason: str) -> None:
        step, level, side = self.key or ("", None, None)
        done = attempt(
            lambda: self.service.mark_not_applicable(
                case_id=self.case_id, step=step, level=level, side=side, reason=reason
            ),
            self.message,
        )
        if done is not None:
            self.saved.emit("not_applicable")

    def _entry_seq(self) -> int | None:
        if self.key is None:
            return None
        entry = self.service.state(self.case_id).instance(*self.key).entry
        return entry.seq if entry else None

    def _start_correction(self) -> None:
        state = self.service.state(self.case_id)
        inst = state.instance(*(self.key or ("", None, None)))
        if inst.entry is None:
            return
        self.mode = "correcting"
        self._fill_form(state, inst, inst.entry.values)
        self._show_buttons()
        self.correct_button.hide()
        self.retract_button.hide()
        self.correction_panel.open_panel()
        self._reveal(self.correction_panel)

    def _correct(self, reason: str) -> None:
        seq = self._entry_seq()
        when = self.late.clinical_time(self.service.clock.now()) if self.late_toggle.isChecked() else None
        values = self.values()
        done = attempt(
            lambda: self.service.correct(
                case_id=self.case_id, seq=seq, reason=reason, values=values, clinical_time=when
            ),
            self.message,
        )
        if done is not None:
            self.saved.emit("corrected")

    def _retract(self, reason: str) -> None:
        seq = self._entry_seq()
        done = attempt(lambda: self.service.retract(case_id=self.case_id, seq=seq, reason=reason), self.message)
        if done is not None:
            self.saved.emit("retracted")

    # -- panels --------------------------------------------------------------------------------
    def _toggle_late(self, on: bool) -> None:
        if not on:
            self.late.hide()
            return
        self.na_panel.hide()  # not applicable has no clinical time
        self._reveal(self.late)
        state = self.service.state(self.case_id)
        if self.mode == "correcting" and self.key:
            entry = state.instance(*self.key).entry
            self.late.open_at(entry.clinical_time if entry else self.service.clock.now(), None)
        else:
            self.late.open_at(self.service.clock.now(), float(state.settings.get("late_entry_minutes")))

    def _open_panel(self, panel: ReasonPanel) -> None:
        for other in (self.na_panel, self.retraction_panel, self.override):
            if other is not panel:
                other.hide()
        if panel is self.na_panel:
            self.late_toggle.setChecked(False)
        panel.open_panel()
        self._reveal(panel)

    def _reveal(self, widget: QWidget) -> None:
        """Scroll an opened panel into view once the layout has made room for it."""

        def scroll() -> None:
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # lay out first, then scroll
            self.scroll.ensureWidgetVisible(widget, 0, 12)

        QTimer.singleShot(0, scroll)

    def cancel_panels(self) -> bool:
        """Close an open reason panel (Esc). True when there was one to close."""
        if self.mode == "correcting":
            self.rebuild()
            return True
        for panel in (self.override, self.na_panel, self.retraction_panel):
            if panel.isVisible():
                panel.hide()
                return True
        if self.late_toggle.isChecked():
            self.late_toggle.setChecked(False)
            return True
        return False

    def confirm(self) -> bool:
        """Ctrl+Enter: save whatever the editor is showing (the step, or the open correction)."""
        if self.mode == "correcting":
            self.correction_panel.confirm.click()
            return True
        return self.complete()
