"""The step editor: the selected step's values entered inline, its hard stops, and what was recorded.

What to show and what to call is decided by the Qt-free `StepEditorModel` (checklist_app/editing.py);
the fields are a `StepForm`, the inline reason panels a `ReasonPanels`; this widget lays them out,
draws the model's view and passes taps on. Every action runs one use case through the window's
change channel, so a step shows as done only after the service stored it. A refusal or a failed
write leaves the typed values in place and says NOT SAVED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..domain.findings import RoomStatus
from ..domain.gates import GateClosed
from ..domain.template import Gate
from ..editing import Action, Mode, StepEditorModel
from .case_events import CaseEvents
from .field_inputs import FieldInput
from .names import name
from .ports import RoomService
from .step_form import StepForm
from .step_parts import GatePanel, ReasonPanels, history_html
from .widgets import Inline, MessageLabel, TextButton, reveal_when_laid_out
from .wristband import WRISTBAND_STEPS, WristbandScan

Key = tuple[str, str | None, str | None]


class StepEditor(QWidget):
    """The selected step: enter and record it, or see, correct or retract what was recorded."""

    batch_requested = Signal(str)  # the repeatable step to record first: "cement_mix" or "balloon_kit"
    current_requested = Signal()

    def __init__(self, service: RoomService, events: CaseEvents, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.events = service, events
        self.model = StepEditorModel(service)
        self.status: RoomStatus | None = None  # the tick's room status: hard stops and countdowns
        self.form = StepForm()
        self.form.batch_requested.connect(self.batch_requested)
        self.panels = ReasonPanels(lambda widget: reveal_when_laid_out(self.scroll, widget))
        self._build()
        self.report = Inline(self.message)

    @property
    def key(self) -> Key | None:
        return self.model.key

    @property
    def mode(self) -> Mode:
        return self.model.mode

    @property
    def inputs(self) -> dict[str, FieldInput]:
        return self.form.inputs

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
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        layout.addLayout(head)
        under = QHBoxLayout()
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setProperty("role", "muted")
        self.go_current = TextButton("Go to current step", "go_current")
        self.go_current.clicked.connect(self.current_requested)
        self.plan_button = TextButton("Plan changed…", "change_plan")
        self.plan_button.clicked.connect(self._open_plan)
        self.withdraw_button = TextButton("Withdraw change of plan…", "withdraw_plan")
        self.withdraw_button.clicked.connect(lambda: self.panels.open(self.panels.withdraw_plan))
        layout.addWidget(self.help)  # the whole width: a squeezed help text is hard to read
        for button in (self.plan_button, self.withdraw_button, self.go_current):
            under.addWidget(button)
        under.addStretch(1)
        layout.addLayout(under)
        self.gate = GatePanel()
        self.gate.override_requested.connect(lambda: self.panels.open_override([], self.gate.message.text()))
        layout.addWidget(self.gate)
        layout.addWidget(self._body(), 1)
        self.message = MessageLabel("step_message")
        layout.addWidget(self.message)
        layout.addLayout(self._actions())
        p, model = self.panels, self.model
        p.override.confirmed.connect(lambda reason: self._record(override_reason=reason))
        p.not_applicable.confirmed.connect(lambda reason: self._run(lambda: model.not_applicable(reason)))
        p.retraction.confirmed.connect(lambda reason: self._run(lambda: model.retract(reason)))
        p.correction.confirmed.connect(self._correct)
        p.correction.cancelled.connect(self._cancel_correction)
        p.late_toggle.toggled.connect(self._toggle_late)
        p.plan.confirmed.connect(lambda outcome, why: self._run(lambda: model.change_plan(outcome, why)))
        p.withdraw_plan.confirmed.connect(lambda why: self._run(lambda: model.withdraw_plan_change(why)))

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
        p = self.panels
        self.wristband = WristbandScan("wristband")  # identity check, sign-in, time-out (issue 14)
        self._wristband_for: tuple[str, Key | None] | None = None
        for widget in (
            p.override,
            self.wristband,
            self.form,
            p.late,
            p.not_applicable,
            p.correction,
            p.retraction,
            p.plan,
            p.withdraw_plan,
        ):
            outer.addWidget(widget)
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
        self.na_button.clicked.connect(lambda: self.panels.open(self.panels.not_applicable))
        self.correct_button = TextButton("Correct…", "correct")
        self.correct_button.clicked.connect(self._start_correction)
        self.retract_button = TextButton("Retract…", "retract")
        self.retract_button.clicked.connect(lambda: self.panels.open(self.panels.retraction))
        self.late_toggle = self.panels.late_toggle
        row.addWidget(self.primary, 3)
        for button in (self.late_toggle, self.na_button, self.correct_button, self.retract_button):
            row.addWidget(button, 1)
        self.buttons = {
            Action.DONE: self.primary,
            Action.NOT_APPLICABLE: self.na_button,
            Action.LATE: self.late_toggle,
            Action.CORRECT: self.correct_button,
            Action.RETRACT: self.retract_button,
            Action.GO_CURRENT: self.go_current,
            Action.CHANGE_PLAN: self.plan_button,
            Action.WITHDRAW_PLAN: self.withdraw_button,
        }
        return row

    # -- showing a step --------------------------------------------------------------------------
    def show_step(self, case_id: str, key: Key | None) -> None:
        keep_answers = not self.model.open(case_id, key)
        self.message.clear_message()
        self.rebuild(keep_answers=keep_answers)

    def rebuild(self, *, keep_answers: bool = True) -> None:
        """Show the step afresh from the stored state (after a save, a selection or a cancel).

        Answers the nurse gave to a still-pending step survive; untouched fields are derived afresh
        from the case (the newest usable batch, a kit recorded meanwhile).
        """
        typed = self.form.answers() if keep_answers and self.mode is Mode.PENDING else {}
        self.form.clear()
        self.panels.hide_all()
        self.model.refresh_mode()
        self._show_view()
        if self.key is None or self.mode is Mode.EMPTY:
            self.history.hide()
            self.wristband.hide()
            return
        state = self.model.state()
        inst = state.instance(*self.key)
        self._offer_wristband(state, inst.spec.id)
        if self.mode is Mode.PENDING:
            self.form.fill(state, inst, typed, self.service.clock.now())
            self.form.mark_answered(list(typed))
            if inst.spec.gates:  # a step with hard stops opens on what holds it now, not a second ago
                self.status = self.service.room_status(self.model.case_id)
        self.history.setText(history_html(state, inst))
        self.history.setVisible(bool(inst.entries))
        self.refresh_gates()

    def _offer_wristband(self, state: Any, step: str) -> None:
        """The wristband scan is offered while the identity check, sign-in or time-out is pending."""
        offered = self.mode is Mode.PENDING and step in WRISTBAND_STEPS and state.setup is not None
        if offered and self._wristband_for != (state.case_id, self.key):  # a scan belongs to one step of one case
            self.wristband.set_patient(state.setup.patient.mrn, state.settings.wristband_pattern)
        elif not offered:
            self.wristband.reset()
        self._wristband_for = (state.case_id, self.key) if offered else None
        self.wristband.setVisible(offered)

    def _show_view(self) -> None:
        view = self.model.view()
        self.title.setText(view.title)
        self.title.setAccessibleName(f"Step: {view.title}")
        self.badge.setText(view.badge)
        self.badge.setVisible(bool(view.badge))
        self.badge.setProperty("state", view.badge_state)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.help.setText(view.help)
        self.help.setVisible(bool(view.help))
        for action, button in self.buttons.items():
            button.setVisible(action in view.actions)
        self.late_toggle.setText(view.late_label)
        if view.current_label:
            self.go_current.setAccessibleName(f"Go to the current step: {view.current_label}")
            self.go_current.setToolTip(f"Current step: {view.current_label}")
        verbs = {"Done": self.primary, "Not applicable": self.na_button, "Correct": self.correct_button}
        for verb, button in {**verbs, "Retract": self.retract_button}.items():
            button.setAccessibleName(f"{verb}: {view.title}")
        if view.level:
            self.plan_button.setText(f"Plan changed at {view.level}…")
            self.plan_button.setAccessibleName(f"Record a change of plan at {view.level}: converted or abandoned")
        if view.message:
            self.message.show_message(view.message, "info")

    def sync(self) -> None:
        """A pending step follows changes made elsewhere without losing what the nurse has answered."""
        if self.mode is Mode.PENDING and self.model.case_id:
            self.form.sync(self.model.state(), self.service.clock.now())

    # -- hard stops --------------------------------------------------------------------------------
    def show_status(self, status: RoomStatus | None) -> None:
        """The tick's room status: the hard stops holding this step and their countdown."""
        self.status = status
        self.refresh_gates()

    def refresh_gates(self) -> None:
        gates = self.model.gates(self.status)
        self.gate.show_gates(gates, self.model.countdown(gates, self.status))
        self.primary.setEnabled(not gates)
        self.primary.setText("Locked" if gates else "✓ Done")
        if not gates and self.panels.override.isVisible() and self.mode is Mode.PENDING:
            self.panels.override.hide()

    # -- actions -----------------------------------------------------------------------------------
    def complete(self) -> bool:
        """The primary action: record the step with the values entered. True when saved."""
        if self.mode is not Mode.PENDING or not self.primary.isEnabled():
            return False
        return self._record()

    def _record(self, override_reason: str | None = None) -> bool:
        values = self.form.values()
        when, late = self.panels.clinical_time(self.service.clock.now())
        refused: list[Gate] = []

        def action() -> Any:
            try:
                return self.model.record(
                    values,
                    clinical_time=when,
                    late_reason=late,
                    override_reason=override_reason,
                    wristband=None if self.wristband.isHidden() else self.wristband.scan(),
                )
            except GateClosed as exc:
                refused.extend(exc.gates)
                raise

        if self._run(action) is None:
            if refused and not override_reason:
                self.panels.open_override(refused, self.gate.message.text())
            return False
        return True

    def _run(self, action: Callable[[], Any]) -> Any | None:
        return self.events.run_use_case(action, self.report, initiator=self)

    def _start_correction(self) -> None:
        values = self.model.start_correction()
        if values is None:
            return
        state = self.model.state()
        self.form.fill(state, state.instance(*(self.key or ("", None, None))), dict(values), self.service.clock.now())
        self._show_view()
        self.panels.open(self.panels.correction)

    def _cancel_correction(self) -> None:
        if self.model.cancel_correction():
            self.rebuild()

    def _correct(self, reason: str) -> None:
        when, _late = self.panels.clinical_time(self.service.clock.now())
        values = self.form.values()
        self._run(lambda: self.model.correct(values, reason, when))

    def _open_plan(self) -> None:
        level = self.model.key[1] if self.model.key else None
        if level is not None:
            self.panels.plan.open_for(level, self.model.plan_choices())
            reveal_when_laid_out(self.scroll, self.panels.plan)

    def _toggle_late(self, on: bool) -> None:
        if not on:
            self.panels.late.hide()
        elif self.mode is Mode.CORRECTING:
            self.panels.show_late(self.model.entry_time() or self.service.clock.now(), None)
        else:
            limit = float(self.model.state().settings.get("late_entry_minutes"))
            self.panels.show_late(self.service.clock.now(), limit)

    def cancel_panels(self) -> bool:
        """Close an open reason panel (Esc). True when there was one to close."""
        if self.mode is Mode.CORRECTING:
            self._cancel_correction()
            return True
        return self.panels.close_one()

    def confirm(self) -> bool:
        """Ctrl+Enter: save whatever the editor is showing (the step, or the open correction)."""
        if self.mode is Mode.CORRECTING:
            self.panels.correction.confirm.click()
            return True
        return self.complete()
