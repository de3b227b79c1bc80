"""Timers, computed from the case's facts and the clock (never stored themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .facts import Batch
from .state import DONE, PENDING, CaseState


@dataclass(frozen=True)
class Timer:
    """A running clock on the timers panel. Countdowns have an `end`; elapsed clocks do not."""

    id: str
    label: str
    start: datetime
    end: datetime | None
    now: datetime
    level: str | None = None
    ready_at: datetime | None = None  # cement: dough time reached, ready to inject
    stopped: bool = False  # an elapsed clock that has ended (the case clock at patient out of room)

    @property
    def elapsed(self) -> timedelta:
        return max(self.now - self.start, timedelta(0))

    @property
    def remaining(self) -> timedelta | None:
        return None if self.end is None else self.end - self.now

    @property
    def finished(self) -> bool:
        return self.end is not None and self.now >= self.end


def minutes(value: float) -> timedelta:
    return timedelta(minutes=float(value))


def working_window(state: CaseState, batch: Any) -> tuple[datetime, datetime, datetime] | None:
    """(ready to inject, end of working time, set) of a cement batch (its entry or its Batch)."""
    found = state.facts.batch(batch.seq)
    if found is None or found.window is None:
        return None
    return found.window.ready, found.window.working_end, found.window.set


def hardening_end(state: CaseState, level: str) -> datetime | None:
    """When the cement of a level is hard (None: nothing injected there, or the product is unknown)."""
    return state.facts.hardening_end(level)


def timers(state: CaseState, now: datetime) -> list[Timer]:
    """The timers to show now, most urgent first within each kind."""
    found: list[Timer] = []
    facts = state.facts
    pir, por = facts.milestone("PIR"), facts.milestone("POR")
    if pir is not None:
        # The case clock runs from patient in room to patient out of room, then stands still.
        end = por if por is not None and por <= now else None
        found.append(Timer("case_clock", "Case time", pir, None, end or now, stopped=end is not None))
    found += _levels(state, now)
    found += _skin_prep(state, now)
    found += _working(state, now)
    found += _hardening(state, now)
    return found


def _levels(state: CaseState, now: datetime) -> list[Timer]:
    """Elapsed time per level, from its first recorded step until its cannulas are out."""
    found = []
    for planned in state.setup.levels if state.setup else ():
        level = planned.level
        times = [
            i.entry.clinical_time for i in state.instances if i.level == level and i.entry and i.spec.phase == "level"
        ]
        removal = state.instances_of("cannula_removal", level)
        if times and removal and removal[0].status == PENDING:
            found.append(Timer(f"level:{level}", f"Level {level}", min(times), None, now, level=level))
    return found


def _skin_prep(state: CaseState, now: datetime) -> list[Timer]:
    if not state.has_instance("skin_prep") or not state.has_instance("time_out"):
        return []
    prep = state.instance("skin_prep").entry
    if prep is None or prep.status != DONE or not str(prep.values.get("agent", "")).endswith("_alcohol"):
        return []
    if state.instance("time_out").status != PENDING:
        return []
    end = prep.clinical_time + minutes(float(state.settings.get("skin_prep_dry_minutes")))
    return [Timer("skin_prep_dry", "Skin prep drying", prep.clinical_time, end, now)]


def _working(state: CaseState, now: datetime) -> list[Timer]:
    if not any(i.status == PENDING for i in state.instances_of("cement_injection")):
        return []
    found = []
    batches = state.facts.batches
    for batch in batches:
        if batch.window is None or _superseded(batch, batches):
            continue
        assert batch.product is not None
        label = f"Cement working time ({batch.product.name}, lot {batch.lot or '?'})"
        found.append(
            Timer(f"working:{batch.seq}", label, batch.t0, batch.window.working_end, now, ready_at=batch.window.ready)
        )
    return found


def _superseded(batch: Batch, batches: tuple[Batch, ...]) -> bool:
    """A batch whose working time ended before a newer batch was mixed no longer needs watching."""
    assert batch.window is not None
    return any(other.t0 >= batch.window.working_end for other in batches if other is not batch)


def _hardening(state: CaseState, now: datetime) -> list[Timer]:
    found = []
    facts = state.facts
    for planned in state.setup.levels if state.setup else ():
        level = planned.level
        injections = state.instances_of("cement_injection", level)
        removal = state.instances_of("cannula_removal", level)
        if not injections or any(i.status == PENDING for i in injections):
            continue
        if not removal or removal[0].status != PENDING:
            continue
        end = facts.hardening_end(level)
        if end is None:
            continue
        last = max(i.time for i in facts.injections_at(level))
        found.append(Timer(f"hardening:{level}", f"Cement hardening {level}", last, end, now, level=level))
    return found
