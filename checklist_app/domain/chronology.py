"""Clinical times: never in the future, never before the patient entered the room; late entries need a reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .errors import Refusal
from .state import DONE, CaseState
from .template import StepSpec

LATE_REASONS = {
    "emergency": "Emergency",
    "equipment": "Equipment issue",
    "handover": "Handover",
    "catch_up": "Documentation catch-up",
    "other": "Other",
}
FUTURE_TOLERANCE = timedelta(seconds=60)  # clocks of two workstations may differ slightly
OLDEST_ENTRY = timedelta(hours=24)  # a case lasts hours; older times are typing mistakes


def check_clinical_time(state: CaseState, when: datetime, now: datetime, *, step: str | None = None) -> None:
    """Refuse clinical times in the future or before the patient entered the room."""
    if when.tzinfo is None:
        raise Refusal("clinical_time", "must include a time zone")
    if when > now + FUTURE_TOLERANCE:
        raise Refusal("clinical_time", "is in the future; it cannot be later than now")
    if when < now - OLDEST_ENTRY:
        raise Refusal("clinical_time", f"is more than {OLDEST_ENTRY.days * 24} hours ago; record it as an addendum")
    pir = state.facts.milestone("PIR")
    if pir is not None and step != "patient_in_room" and when < pir:
        raise Refusal("clinical_time", f"is before the patient entered the room ({pir:%H:%M} UTC)")


def check_late_entry(state: CaseState, when: datetime, now: datetime, late_reason: str | None) -> str | None:
    """A late entry (more than the configured minutes after its clinical time) needs a reason."""
    limit = timedelta(minutes=float(state.settings.get("late_entry_minutes")))
    if now - when <= limit:
        return None
    if not isinstance(late_reason, str) or late_reason not in LATE_REASONS:
        raise Refusal(
            "late_reason",
            f"entered more than {limit.total_seconds() / 60:g} min after it happened: choose a reason "
            f"({', '.join(LATE_REASONS.values())})",
        )
    return late_reason


def broken_order(
    state: CaseState, spec: StepSpec, level: str | None, when: datetime, values: Mapping[str, Any]
) -> str | None:
    """What an entry at clinical time `when` would put in an impossible order, or None (SPEC §3).

    A step comes after the steps it follows at its level (`after`: a cannula after its level's
    incision), a step those follow comes before them, and an injection comes after its batch's mix
    start (T0). Such an entry is refused, or accepted as a late entry with a reason: the note then
    prints the order as recorded, flagged, never silently.
    """
    for before in spec.after:
        for inst in state.instances_of(before, level):
            entry = inst.entry
            if entry is not None and entry.status == DONE and entry.clinical_time > when:
                return f"is before {inst.label} ({_hhmm(entry.clinical_time)}), which comes first"
    for later in state.template.steps:
        if spec.id not in later.after:
            continue
        for inst in state.instances_of(later.id, level):
            entry = inst.entry
            if entry is not None and entry.status == DONE and entry.clinical_time < when:
                return f"is after {inst.label} ({_hhmm(entry.clinical_time)}), which comes after it"
    for fspec in spec.fields:
        if fspec.type == "batch" and fspec.record == "cement_mix":
            batch = state.facts.batch(values.get(fspec.id))
            if batch is not None and batch.t0 > when:
                return f"is before the mix start of cement batch lot {batch.lot or '?'} ({_hhmm(batch.t0)})"
    return None


def check_order(
    state: CaseState,
    spec: StepSpec,
    level: str | None,
    when: datetime,
    values: Mapping[str, Any],
    late_reason: str | None,
) -> str | None:
    """Refuse an impossible order unless it comes with a late-entry reason; returns that reason."""
    broken = broken_order(state, spec, level, when, values)
    if broken is None:
        return None
    if not isinstance(late_reason, str) or late_reason not in LATE_REASONS:
        raise Refusal(
            "clinical_time",
            f"{spec.title} at {_hhmm(when)} {broken}: check the time, or record it as a late entry with a reason",
        )
    return late_reason


def _hhmm(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")
