"""What one use case changed: the appended events, the status before and after, the facets touched.

Every use case returns the case's new snapshot, whose `changes` says this; the window's one change
channel (ui/case_events.py) hands it to every view, and each view decides for itself what to redo.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from . import events as ev
from .events import Event


class Facet(Enum):
    """A part of a case a view may show."""

    CASE = "case"  # the case was started (or its set-up read)
    STEPS = "steps"  # a step recorded, marked not applicable, corrected, retracted or overridden
    WARNINGS = "warnings"  # a warning raised or acknowledged
    ALARMS = "alarms"  # an alarm acknowledged (raised alarms follow the clock, not events)
    STAFF = "staff"  # a handover
    SIGNATURES = "signatures"  # findings, a signature, an addendum


_FACETS = {
    ev.CASE_STARTED: {Facet.CASE, Facet.STEPS, Facet.WARNINGS},
    ev.STEP_DONE: {Facet.STEPS, Facet.WARNINGS},
    ev.NOT_APPLICABLE: {Facet.STEPS, Facet.WARNINGS},
    ev.CORRECTION: {Facet.STEPS, Facet.WARNINGS},
    ev.RETRACTION: {Facet.STEPS, Facet.WARNINGS},
    ev.GATE_OVERRIDE: {Facet.STEPS},
    ev.WARNING_ACKNOWLEDGED: {Facet.WARNINGS},
    ev.ALARM_ACKNOWLEDGED: {Facet.ALARMS},
    ev.STAFF_CHANGE: {Facet.STAFF},
    ev.FINDINGS: {Facet.SIGNATURES},
    ev.SIGNATURE: {Facet.SIGNATURES, Facet.STEPS},
    ev.ADDENDUM: {Facet.SIGNATURES},
}


@dataclass(frozen=True)
class Changes:
    """The events one use case appended (seq `first` to `last`) and what they touched."""

    case_id: str
    first: int
    last: int
    status_before: str | None
    status_after: str
    facets: frozenset[Facet]

    @property
    def status_changed(self) -> bool:
        return self.status_before != self.status_after

    def touches(self, *facets: Facet) -> bool:
        return any(facet in self.facets for facet in facets)


def changes_of(case_id: str, appended: list[Event], before: str | None, after: str) -> Changes:
    """The Changes of `appended` (one use case's events, in seq order)."""
    facets: set[Facet] = set()
    for event in appended:
        facets |= _FACETS.get(event.kind, set())
    first = appended[0].seq if appended else 0
    last = appended[-1].seq if appended else 0
    return Changes(case_id, first, last, before, after, frozenset(facets))
