"""Timers and alarms, computed from stored events and the clock (never stored themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .state import DONE, PENDING, CaseState, Entry

HIGH, MEDIUM, LOW = "high", "medium", "low"
PRIORITY_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}


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


@dataclass(frozen=True)
class Alarm:
    """Something that needs the nurse's attention, with its source named, until acknowledged."""

    id: str
    priority: str
    source: str
    message: str
    raised_at: datetime


def minutes(value: float) -> timedelta:
    return timedelta(minutes=float(value))


def batch_product(state: CaseState, batch: Entry):
    try:
        return state.catalogue.cement(str(batch.values.get("product")))
    except KeyError:
        return None


def working_window(state: CaseState, batch: Entry) -> tuple[datetime, datetime, datetime] | None:
    """(ready to inject, end of working time, set) for a cement batch, from its mix time T0."""
    product = batch_product(state, batch)
    if product is None:
        return None
    t0 = batch.clinical_time
    return (
        t0 + minutes(product.dough_time_min),
        t0 + minutes(product.working_end_min),
        t0 + minutes(product.set_time_min),
    )


def injections_at(state: CaseState, level: str) -> list[Entry]:
    return [i.entry for i in state.instances_of("cement_injection", level) if i.entry and i.status == DONE]


def hardening_end(state: CaseState, level: str) -> datetime | None:
    """When the cement of a level is hard: the set time of the batch used for its last injection.

    None when nothing was injected at that level (nothing to wait for) or the product is unknown.
    """
    done = injections_at(state, level)
    if not done:
        return None
    last = max(done, key=lambda e: e.clinical_time)
    batch = state.entry_for(int(last.values.get("batch", 0)))
    window = working_window(state, batch) if batch else None
    return max(window[2], last.clinical_time) if window else None


def timers(state: CaseState, now: datetime) -> list[Timer]:
    """The timers to show now, most urgent first within each kind."""
    found: list[Timer] = []
    pir, por = state.milestone("PIR"), state.milestone("POR")
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


def _injections_pending(state: CaseState) -> bool:
    return any(i.status == PENDING for i in state.instances_of("cement_injection"))


def _working(state: CaseState, now: datetime) -> list[Timer]:
    if not _injections_pending(state):
        return []
    found = []
    batches = state.batches
    for batch in batches:
        window = working_window(state, batch)
        if window is None or _superseded(batch, window[1], batches):
            continue
        product = batch_product(state, batch)
        label = f"Cement working time ({product.name}, lot {batch.values.get('lot', '?')})"
        found.append(Timer(f"working:{batch.seq}", label, batch.clinical_time, window[1], now, ready_at=window[0]))
    return found


def _superseded(batch: Entry, working_end: datetime, batches: list[Entry]) -> bool:
    """A batch whose working time ended before a newer batch was mixed no longer needs watching."""
    return any(other.clinical_time >= working_end for other in batches if other is not batch)


def _hardening(state: CaseState, now: datetime) -> list[Timer]:
    found = []
    for planned in state.setup.levels if state.setup else ():
        level = planned.level
        injections = state.instances_of("cement_injection", level)
        removal = state.instances_of("cannula_removal", level)
        if not injections or any(i.status == PENDING for i in injections):
            continue
        if not removal or removal[0].status != PENDING:
            continue
        end = hardening_end(state, level)
        if end is None:
            continue
        last = max(e.clinical_time for e in injections_at(state, level))
        found.append(Timer(f"hardening:{level}", f"Cement hardening {level}", last, end, now, level=level))
    return found


# One batch's working window escalates: ready to inject -> ends soon -> over. Once a later stage is
# raised the earlier ones describe a condition that has ended ("ready to inject" beside "do not
# inject" would contradict it), so only the latest stage stays active, acknowledged or not.
WORKING_STAGES = ("cement_ready", "working_warning", "working_end")


def alarms(state: CaseState, now: datetime) -> list[Alarm]:
    """Alarms raised by now, not superseded and not yet acknowledged, highest priority first."""
    raised = [a for a in _candidates(state, now) if a.raised_at <= now]
    latest: dict[str, int] = {}  # batch seq -> the latest working-window stage raised
    for alarm in raised:
        kind, _, seq = alarm.id.partition(":")
        if kind in WORKING_STAGES:
            latest[seq] = max(latest.get(seq, 0), WORKING_STAGES.index(kind))
    active = [a for a in raised if a.id not in state.acknowledged_alarms and not _escalated_past(a, latest)]
    return sorted(active, key=lambda a: (PRIORITY_RANK[a.priority], a.raised_at))


def _escalated_past(alarm: Alarm, latest: dict[str, int]) -> bool:
    """An earlier stage of a working window whose later stage is raised (its condition has ended)."""
    kind, _, seq = alarm.id.partition(":")
    return kind in WORKING_STAGES and WORKING_STAGES.index(kind) < latest[seq]


def _candidates(state: CaseState, now: datetime) -> list[Alarm]:
    found: list[Alarm] = []
    for timer in timers(state, now):
        kind = timer.id.split(":", 1)[0]
        if kind == "skin_prep_dry" and timer.end:
            found.append(Alarm(timer.id, LOW, "Skin prep", "Skin prep is dry: draping may start", timer.end))
        elif kind == "working" and timer.end:
            found += _working_alarms(state, timer)
        elif kind == "hardening" and timer.end:
            found.append(
                Alarm(
                    timer.id,
                    LOW,
                    f"Cement {timer.level}",
                    f"{timer.level}: set time reached; confirm the cement sample is hard before removing cannulas",
                    timer.end,
                )
            )
    return found


def _working_alarms(state: CaseState, timer: Timer) -> list[Alarm]:
    assert timer.end is not None
    seq = timer.id.split(":", 1)[1]
    warn_before = minutes(float(state.settings.get("working_warning_minutes")))
    found = [
        Alarm(
            f"working_warning:{seq}",
            MEDIUM,
            "Cement",
            f"Cement working time ends in {warn_before.total_seconds() / 60:g} min",
            timer.end - warn_before,
        ),
        Alarm(f"working_end:{seq}", HIGH, "Cement", "Cement working time is over: do not inject this batch", timer.end),
    ]
    if timer.ready_at is not None:
        found.append(Alarm(f"cement_ready:{seq}", LOW, "Cement", "Cement is ready to inject", timer.ready_at))
    return found
