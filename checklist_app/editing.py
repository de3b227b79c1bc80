"""The step editor's model, without Qt: which step is open, in which mode, what it offers and what it calls.

The widget (ui/step_editor.py) draws what `view()` says and passes the nurse's taps to the methods
here, which call exactly one use case each. Everything the editor decides (the badge, which actions
show, the hard stops and their countdown, the meaning of Ctrl+Enter) is testable here without a
window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Protocol

from .domain.facts import LevelOutcome
from .domain.findings import RoomStatus
from .domain.present import duration
from .domain.state import NOT_APPLICABLE, PENDING, CaseState
from .domain.template import Gate

Key = tuple[str, str | None, str | None]
BADGES = {"current": "NOW", PENDING: "TO DO", "done": "DONE", NOT_APPLICABLE: "NOT APPLICABLE"}
PLAN_STEP = "level_outcome"
LOCKED_MESSAGE = "The case is signed and locked: add an addendum on the Sign-off page."


class Mode(StrEnum):
    """What the editor is doing with its step."""

    EMPTY = "empty"  # no step chosen
    PENDING = "pending"  # the step can be recorded
    RECORDED = "recorded"  # the step was answered: it can be corrected or retracted
    CORRECTING = "correcting"  # the form holds a correction being made
    LOCKED = "locked"  # the case is signed: nothing can be recorded


class Action(Enum):
    """The buttons the editor can offer."""

    DONE = "done"
    NOT_APPLICABLE = "not_applicable"
    LATE = "late"
    CORRECT = "correct"
    RETRACT = "retract"
    GO_CURRENT = "go_current"
    CHANGE_PLAN = "change_plan"  # the level is converted or abandoned (SPEC §3 level_outcome)
    WITHDRAW_PLAN = "withdraw_plan"  # that change of plan is retracted


@dataclass(frozen=True)
class EditorView:
    """What the editor shows for its step now."""

    mode: Mode
    title: str = "Choose a step"
    badge: str = ""
    badge_state: str = ""
    help: str = ""
    actions: frozenset[Action] = frozenset()
    current_label: str = ""  # the current step, for "Go to current step"
    late_label: str = "Late entry…"
    message: str = ""
    level: str | None = None  # the open step's level, for "Plan changed at T12…"


class UseCases(Protocol):
    """The part of the service the editor calls."""

    def state(self, case_id: str) -> CaseState: ...

    def record_step(self, **step: Any) -> CaseState: ...

    def mark_not_applicable(self, **step: Any) -> CaseState: ...

    def correct(self, **correction: Any) -> CaseState: ...

    def retract(self, **retraction: Any) -> CaseState: ...


class StepEditorModel:
    """The open step of one case and everything the editor may do with it."""

    def __init__(self, service: UseCases) -> None:
        self.service = service
        self.case_id = ""
        self.key: Key | None = None
        self.mode = Mode.EMPTY

    # -- which step, which mode ----------------------------------------------------------------------
    def open(self, case_id: str, key: Key | None) -> bool:
        """Open a step; True when it is another step than before (nothing typed carries over)."""
        other = (case_id, key) != (self.case_id, self.key)
        self.case_id, self.key = case_id, key
        self.refresh_mode()
        return other

    def refresh_mode(self) -> None:
        """The mode the stored state gives the step (a correction being typed ends here)."""
        if not self.case_id or self.key is None:
            self.mode = Mode.EMPTY
            return
        state = self.state()
        if state.facts.locked:
            self.mode = Mode.LOCKED
        else:
            self.mode = Mode.PENDING if state.instance(*self.key).status == PENDING else Mode.RECORDED

    def state(self) -> CaseState:
        return self.service.state(self.case_id)

    def view(self) -> EditorView:
        if self.mode is Mode.EMPTY or self.key is None:
            return EditorView(Mode.EMPTY)
        state = self.state()
        inst = state.instance(*self.key)
        current = state.current
        is_current = current is not None and inst is current
        badge = "current" if is_current and self.mode is Mode.PENDING else inst.status
        actions: set[Action] = set()
        message = LOCKED_MESSAGE if self.mode is Mode.LOCKED else ""
        if self.mode is Mode.PENDING:
            actions |= {Action.DONE, Action.NOT_APPLICABLE, Action.LATE}
        elif self.mode is Mode.CORRECTING:
            actions.add(Action.LATE)
        elif self.mode is Mode.RECORDED and inst.entry is None and inst.waived:
            message = f"Not needed at {inst.level}: {inst.waived}."
        elif self.mode is Mode.RECORDED:
            actions |= {Action.RETRACT} | ({Action.CORRECT} if inst.status != NOT_APPLICABLE else set())
        if current is not None and not is_current:
            actions.add(Action.GO_CURRENT)
        change = self.plan_change()
        if self.mode in (Mode.PENDING, Mode.RECORDED) and self._plans_can_change(state, inst.level):
            actions.add(Action.WITHDRAW_PLAN if change is not None else Action.CHANGE_PLAN)
        if change is not None and not message:
            message = f"Plan changed at {change.level}: {change.label} ({change.reason})."
        return EditorView(
            mode=self.mode,
            title=inst.label,
            badge=BADGES[badge],
            badge_state="current" if badge == "current" else inst.status,
            help=inst.spec.help,
            actions=frozenset(actions),
            current_label=current.label if current is not None else "",
            late_label="Late entry…" if self.mode is Mode.PENDING else "Change time…",
            message=message,
            level=inst.level if inst.spec.phase == "level" else None,
        )

    # -- a level's change of plan (converted to vertebroplasty, abandoned) --------------------------
    def plan_change(self) -> LevelOutcome | None:
        """The change of plan in force at the open step's level, if any."""
        if self.key is None or self.key[1] is None or not self.case_id:
            return None
        return self.state().facts.level_outcomes.get(self.key[1])

    def plan_choices(self) -> list[tuple[str, str]]:
        """(value, label) of the outcomes the template offers ("converted" only for kyphoplasty)."""
        template = self.state().template
        if not template.has_step(PLAN_STEP):
            return []
        return [(c.value, c.label) for c in template.step(PLAN_STEP).field("outcome").choices]

    def change_plan(self, outcome: str, reason: str) -> CaseState:
        level = self._key()[1]
        values = {"outcome": outcome, "reason": reason}
        return self.service.record_step(case_id=self.case_id, step=PLAN_STEP, level=level, values=values)

    def withdraw_plan_change(self, reason: str) -> CaseState:
        change = self.plan_change()
        return self.service.retract(case_id=self.case_id, seq=change.seq if change else None, reason=reason)

    @staticmethod
    def _plans_can_change(state: CaseState, level: str | None) -> bool:
        """Only a level's steps, only on a template (and case) that has the change-of-plan step."""
        if level is None or not state.template.has_step(PLAN_STEP):
            return False
        return state.template.step(PLAN_STEP).since <= state.template_version

    # -- hard stops ---------------------------------------------------------------------------------
    def gates(self, status: RoomStatus | None) -> list[Gate]:
        """The hard stops that would refuse the open step now (from the tick's room status)."""
        if self.mode is not Mode.PENDING or self.key is None or status is None:
            return []
        return list(status.gates.get(self.key, ()))

    def countdown(self, gates: list[Gate], status: RoomStatus | None) -> str:
        """'Cement hardening T12: 4:10 left' while a hardening stop holds the step."""
        if not any(g.countdown == "hardening" for g in gates) or self.key is None or status is None:
            return ""
        timer = next((t for t in status.timers if t.id == f"hardening:{self.key[1]}"), None)
        return f"Cement hardening {self.key[1]}: {duration(timer.remaining)} left" if timer else ""

    # -- the use cases ------------------------------------------------------------------------------
    def record(
        self,
        values: Mapping[str, Any],
        *,
        clinical_time: datetime | None = None,
        late_reason: str | None = None,
        override_reason: str | None = None,
        wristband: str | None = None,
    ) -> CaseState:
        step, level, side = self._key()
        scanned = {} if wristband is None else {"wristband": wristband}  # checked by the use case: a hard stop
        return self.service.record_step(
            case_id=self.case_id,
            step=step,
            level=level,
            side=side,
            values=dict(values) or None,
            clinical_time=clinical_time,
            late_reason=late_reason,
            override_reason=override_reason,
            **scanned,
        )

    def not_applicable(self, reason: str) -> CaseState:
        step, level, side = self._key()
        return self.service.mark_not_applicable(case_id=self.case_id, step=step, level=level, side=side, reason=reason)

    def start_correction(self) -> Mapping[str, Any] | None:
        """Enter correcting mode; the values to put back in the form (None: nothing to correct)."""
        entry = self.state().instance(*self._key()).entry
        if entry is None or self.mode is not Mode.RECORDED:
            return None
        self.mode = Mode.CORRECTING
        return entry.values

    def correct(self, values: Mapping[str, Any], reason: str, clinical_time: datetime | None = None) -> CaseState:
        return self.service.correct(
            case_id=self.case_id, seq=self._entry_seq(), reason=reason, values=dict(values), clinical_time=clinical_time
        )

    def retract(self, reason: str) -> CaseState:
        return self.service.retract(case_id=self.case_id, seq=self._entry_seq(), reason=reason)

    def cancel_correction(self) -> bool:
        """Leave correcting mode (Esc); True when there was a correction to leave."""
        if self.mode is not Mode.CORRECTING:
            return False
        self.mode = Mode.RECORDED
        return True

    def entry_time(self) -> datetime | None:
        """When the open step's recorded entry happened (for changing its time in a correction)."""
        entry = self.state().instance(*self._key()).entry
        return entry.clinical_time if entry else None

    def _key(self) -> Key:
        return self.key or ("", None, None)

    def _entry_seq(self) -> int | None:
        entry = self.state().instance(*self._key()).entry
        return entry.seq if entry else None
