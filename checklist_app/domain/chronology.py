"""Clinical times: never in the future, never before the patient entered the room; late entries need a reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from .errors import Refusal
from .state import CaseState

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
