"""Pieces of the step editor: the hard-stop panel, the late-entry time panel and the entry history."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from ..domain.chronology import LATE_REASONS
from ..domain.events import Event
from ..domain.present import local_time, summarize_values
from ..domain.state import CaseState, Entry, StepInstance
from ..domain.template import Gate
from .names import name
from .widgets import MIN_TARGET, FlowLayout, ReasonPanel, TextButton


class GatePanel(QFrame):
    """A hard stop shown before the tap: what blocks the step, any countdown, and the override button."""

    override_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "gate_panel", "Hard stop")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 10, 10)
        self.message = QLabel()
        name(self.message, "gate_message", "Hard stop")
        self.message.setWordWrap(True)
        self.override = TextButton("Override…", "gate_override")
        self.override.setProperty("role", "danger")
        self.override.clicked.connect(self.override_requested)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.override)
        self.hide()

    def show_gates(self, gates: list[Gate], countdown: str = "") -> None:
        if not gates:
            self.hide()
            return
        text = "HARD STOP — " + "; ".join(g.message for g in gates)
        if countdown:
            text += f"\n{countdown}"
        self.message.setText(text)
        self.message.setAccessibleDescription(text)
        self.override.setAccessibleName(f"Override hard stop with a reason: {'; '.join(g.message for g in gates)}")
        self.show()


class PlanPanel(QFrame):
    """A level's change of plan (SPEC §3): what changed (converted to vertebroplasty, abandoned) and why.

    Inline, never modal; `confirmed(outcome, reason)` once both are given.
    """

    confirmed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "plan_panel", "Change of plan at this level")
        self.setProperty("panel", "inline")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setProperty("role", "field_label")
        layout.addWidget(self.prompt)
        self.choices = QVBoxLayout()  # one choice per line: their words are long
        layout.addLayout(self.choices)
        self.group = QButtonGroup(self)
        self.reason = QLineEdit()
        name(self.reason, "plan_reason", "Why the plan changed")
        self.reason.setPlaceholderText("Why (e.g. balloon did not hold pressure; pedicle too narrow)")
        self.reason.setMaxLength(1000)
        layout.addWidget(self.reason)
        row = QHBoxLayout()
        self.confirm = TextButton("Record the change of plan", "plan_confirm")
        self.confirm.setProperty("role", "danger")
        cancel = TextButton("Cancel", "plan_cancel")
        cancel.clicked.connect(self.hide)
        row.addWidget(self.confirm, 2)
        row.addWidget(cancel, 1)
        layout.addLayout(row)
        self.reason.textChanged.connect(self._update)
        self.confirm.clicked.connect(self._confirm)
        self.hide()

    def open_for(self, level: str, choices: list[tuple[str, str]]) -> None:
        while self.choices.count():
            widget = self.choices.takeAt(0).widget()
            if widget is not None:
                self.group.removeButton(widget)  # type: ignore[arg-type]
                widget.deleteLater()
        self.prompt.setText(
            f"What changed at {level}? The steps it makes unnecessary stop being pending; the note and the "
            "codes follow."
        )
        for value, text in choices:
            button = TextButton(text, f"plan_choice.{value}")
            button.setCheckable(True)
            button.setProperty("value", value)
            button.toggled.connect(self._update)
            self.group.addButton(button)
            self.choices.addWidget(button)
        self.group.setExclusive(True)
        if len(choices) == 1:
            self.group.buttons()[0].setChecked(True)
        self.reason.clear()
        self._update()
        self.show()

    def _chosen(self) -> str | None:
        button = self.group.checkedButton()
        return str(button.property("value")) if button is not None else None

    def _update(self, *_args: object) -> None:
        self.confirm.setEnabled(self._chosen() is not None and bool(self.reason.text().strip()))

    def _confirm(self) -> None:
        chosen = self._chosen()
        if chosen is not None and self.reason.text().strip():
            self.confirmed.emit(chosen, self.reason.text().strip())


class ClinicalTimePanel(QFrame):
    """When a step happened earlier than now: the clinical time and, for late entries, the reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "late_panel", "Time the step happened")
        self.setProperty("panel", "inline")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(8)
        row = FlowLayout()  # wraps on narrow editors instead of squeezing the buttons
        caption = QLabel("It happened at")
        caption.setProperty("role", "field_label")
        caption.setMinimumHeight(MIN_TARGET)
        self.time = QTimeEdit()
        name(self.time, "clinical_time", "Clinical time: when the step happened (24-hour)")
        self.time.setDisplayFormat("HH:mm")
        self.time.setMinimumHeight(MIN_TARGET)
        self.time.setMinimumWidth(130)
        row.addWidget(caption)
        row.addWidget(self.time)
        for minutes in (-10, -5, -1, 1):
            step = TextButton(f"{minutes:+d} min", f"clinical_time.{minutes:+d}")
            step.setAccessibleName(f"Clinical time {minutes:+d} minutes")
            step.clicked.connect(lambda _=False, m=minutes: self.time.setTime(self.time.time().addSecs(60 * m)))
            row.addWidget(step)
        layout.addLayout(row)
        self.reason_caption = QLabel("More than 5 min ago? Choose why it is entered late:")
        self.reason_caption.setProperty("role", "field_label")
        layout.addWidget(self.reason_caption)
        layout.addLayout(self._reason_buttons())
        self.hide()

    def _reason_buttons(self) -> FlowLayout:
        row = FlowLayout()
        self.reasons = QButtonGroup(self)
        for key, label in LATE_REASONS.items():
            button = TextButton(label, f"late_reason.{key}")
            button.setAccessibleName(f"Late entry reason: {label}")
            button.setCheckable(True)
            button.setProperty("role", "choice")
            button.setProperty("reason", key)
            self.reasons.addButton(button)
            row.addWidget(button)
        return row

    def open_at(self, now: datetime, late_minutes: float | None) -> None:
        """Start at `now`; `late_minutes` None hides the late reasons (a correction has none)."""
        with_reason = late_minutes is not None
        if with_reason:
            self.reason_caption.setText(f"More than {late_minutes:g} min ago? Choose why it is entered late:")
        local = now.astimezone()
        self.time.setTime(QTime(local.hour, local.minute))
        self.reasons.setExclusive(False)
        for button in self.reasons.buttons():
            button.setChecked(False)
        self.reasons.setExclusive(True)
        self.reason_caption.setVisible(with_reason)
        for button in self.reasons.buttons():
            button.setVisible(with_reason)
        self.show()

    def clinical_time(self, now: datetime) -> datetime:
        """The chosen time today (yesterday if that would be in the future: a case past midnight)."""
        local = now.astimezone()
        chosen = self.time.time()
        when = local.replace(hour=chosen.hour(), minute=chosen.minute(), second=0, microsecond=0)
        if when > local + timedelta(minutes=1):
            when -= timedelta(days=1)
        return when

    def late_reason(self) -> str | None:
        checked = self.reasons.checkedButton()
        return str(checked.property("reason")) if checked else None


class ReasonPanels:
    """The editor's inline panels (never dialogs): override, late entry, not applicable, correct, retract.

    One open at a time; each is scrolled into view once the layout has made room for it.
    """

    def __init__(self, scroll_to: Callable[[QWidget], None]) -> None:
        self._scroll_to = scroll_to
        self.override = ReasonPanel(
            "override",
            "Why override this hard stop? The reason is recorded and printed in the note.",
            "Override and record",
            suggestions=("Operator decision", "Emergency"),
        )
        self.late_toggle = TextButton("Late entry…", "late_entry")
        self.late_toggle.setCheckable(True)
        self.late = ClinicalTimePanel()
        self.not_applicable = ReasonPanel(
            "not_applicable",
            "Why is this step not applicable?",
            "Mark not applicable",
            suggestions=("Not indicated", "Operator decision"),
        )
        self.correction = ReasonPanel(
            "correction", "Change the values above, then give the reason for the correction:", "Save correction"
        )
        self.plan = PlanPanel()
        self.withdraw_plan = ReasonPanel(
            "withdraw_plan",
            "Why withdraw the change of plan? The level's steps become pending again; the change stays in the record.",
            "Withdraw the change of plan",
        )
        self.retraction = ReasonPanel(
            "retraction",
            "Why withdraw this entry? The step returns to pending; the entry stays in the record, struck through.",
            "Retract entry",
        )

    @property
    def reasons(self) -> tuple[ReasonPanel, ...]:
        return (self.override, self.not_applicable, self.correction, self.retraction)

    def hide_all(self) -> None:
        for panel in (*self.reasons, self.plan, self.withdraw_plan):
            panel.hide()
        self.late_toggle.setChecked(False)

    def open(self, panel: ReasonPanel, prompt: str | None = None) -> None:
        """Open one reason panel, closing the others (not applicable has no clinical time)."""
        for other in (self.not_applicable, self.retraction, self.override):
            if other is not panel:
                other.hide()
        if panel is self.not_applicable:
            self.late_toggle.setChecked(False)
        panel.open_panel(prompt)
        self._scroll_to(panel)

    def open_override(self, gates: list[Gate], shown: str) -> None:
        """Ask for the reason to override the hard stops `gates` (or, none given, the one `shown`)."""
        text = "; ".join(g.message for g in gates) or shown.removeprefix("HARD STOP — ")
        self.open(self.override, f"Override the hard stop ({text})? Give the reason: it is recorded and printed.")

    def show_late(self, start: datetime, late_minutes: float | None) -> None:
        self.not_applicable.hide()
        self._scroll_to(self.late)
        self.late.open_at(start, late_minutes)

    def clinical_time(self, now: datetime) -> tuple[datetime | None, str | None]:
        """(clinical time, late-entry reason) when the late-entry panel is open; (None, None) otherwise."""
        if not self.late_toggle.isChecked():
            return None, None
        return self.late.clinical_time(now), self.late.late_reason()

    def close_one(self) -> bool:
        """Esc: close the open reason panel or the late-entry panel. True when there was one."""
        for panel in (self.override, self.not_applicable, self.retraction):
            if panel.isVisible():
                panel.hide()
                return True
        if self.late_toggle.isChecked():
            self.late_toggle.setChecked(False)
            return True
        return False


# -- history ---------------------------------------------------------------------------------
def history_html(state: CaseState, instance: StepInstance) -> str:
    """Every answer to this step, newest last; superseded and retracted ones struck through."""
    blocks = [_entry_html(state, instance, entry) for entry in instance.entries]
    return "<br>".join(blocks)


def _entry_html(state: CaseState, instance: StepInstance, entry: Entry) -> str:
    versions = [entry.event, *entry.corrections]
    lines = []
    for n, event in enumerate(versions):
        superseded = entry.retracted or n < len(versions) - 1
        text = _event_line(state, instance, event)
        lines.append(f"<s>{text}</s>" if superseded else f"<b>{text}</b>" if n == len(versions) - 1 else text)
        if event.reason and event.kind == "correction":
            lines.append(f"&nbsp;&nbsp;↳ correction reason: {_esc(event.reason)}")
    if entry.retraction is not None:
        r = entry.retraction
        lines.append(f"Retracted {local_time(r.recorded_time)} by {_esc(r.actor)} — reason: {_esc(r.reason or '')}")
    return "<br>".join(lines)


def _event_line(state: CaseState, instance: StepInstance, event: Event) -> str:
    when = local_time(event.clinical_time)
    if event.kind == "correction":
        line = f"#{event.seq} Correction of #{event.ref}, recorded {local_time(event.recorded_time)}"
        line += f" by {_esc(event.actor)} (step time {when})"
    else:
        what = "Not applicable" if event.kind == "not_applicable" else "Done"
        line = f"#{event.seq} {what} {when} by {_esc(event.actor)}"
    if event.late_reason:
        reason = LATE_REASONS.get(event.late_reason, event.late_reason)
        line += f" (late entry, recorded {local_time(event.recorded_time)}: {_esc(reason)})"
    if event.kind == "not_applicable" and event.reason:
        line += f" — reason: {_esc(event.reason)}"
    values = summarize_values(state, instance.spec, event.values)
    return line + (f" — {_esc(values)}" if values else "")


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)
