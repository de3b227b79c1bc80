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

from .domain.findings import RoomStatus
from .domain.present import duration
from .domain.state import NOT_APPLICABLE, PENDING, CaseState
from .domain.template import Gate

Key = tuple[str, str | None, str | None]
BADGES = {"current": "NOW", PENDING: "TO DO", "done": "DONE", NOT_APPLICABLE: "NOT APPLICABLE"}
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
        if self.mode is Mode.PENDING:
            actions |= {Action.DONE, Action.NOT_APPLICABLE, Action.LATE}
        elif self.mode is Mode.CORRECTING:
            actions.add(Action.LATE)
        elif self.mode is Mode.RECORDED:
            actions |= {Action.RETRACT} | ({Action.CORRECT} if inst.status != NOT_APPLICABLE else set())
        if current is not None and not is_current:
            actions.add(Action.GO_CURRENT)
        return EditorView(
            mode=self.mode,
            title=inst.label,
            badge=BADGES[badge],
            badge_state="current" if badge == "current" else inst.status,
            help=inst.spec.help,
            actions=frozenset(actions),
            current_label=current.label if current is not None else "",
            late_label="Late entry…" if self.mode is Mode.PENDING else "Change time…",
            message=LOCKED_MESSAGE if self.mode is Mode.LOCKED else "",
        )

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
    ) -> CaseState:
        step, level, side = self._key()
        return self.service.record_step(
            case_id=self.case_id,
            step=step,
            level=level,
            side=side,
            values=dict(values) or None,
            clinical_time=clinical_time,
            late_reason=late_reason,
            override_reason=override_reason,
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
