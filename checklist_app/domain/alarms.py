"""Alarms: what needs the nurse's attention now, with its priority, until someone acknowledges it.

Raised from the timers (derived from stored events and the clock), so they survive a restart.
How often a sound repeats per priority is site data (resources/alarms.toml), not a view's choice.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .state import CaseState
from .timers import Timer, minutes, timers

HIGH, MEDIUM, LOW = "high", "medium", "low"
PRIORITIES = (HIGH, MEDIUM, LOW)
PRIORITY_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}


@dataclass(frozen=True)
class Alarm:
    """Something that needs the nurse's attention, with its source named, until acknowledged."""

    id: str
    priority: str
    source: str
    message: str
    raised_at: datetime


class AlarmPolicyError(ValueError):
    """An alarm policy file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class AlarmPolicy:
    """How an alarm sounds: the interval a priority repeats at until acknowledged (None: once)."""

    repeat: dict[str, timedelta | None]

    def due(self, priority: str, last: datetime | None, now: datetime) -> bool:
        """Whether an alarm of `priority` last sounded at `last` should sound (again) now."""
        if last is None:
            return True
        interval = self.repeat.get(priority)
        return interval is not None and now - last >= interval


def load_alarm_policy(path: Path) -> AlarmPolicy:
    """Read and check [repeat_seconds] (a number per priority, 0 meaning 'sound once')."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AlarmPolicyError(f"{path}: cannot read: {exc}") from exc
    table = data.get("repeat_seconds")
    if not isinstance(table, dict) or set(table) != set(PRIORITIES):
        raise AlarmPolicyError(f"{path}: [repeat_seconds] must give high, medium and low")
    repeat: dict[str, timedelta | None] = {}
    for priority, seconds in table.items():
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 600:
            raise AlarmPolicyError(f"{path}: [repeat_seconds] '{priority}' must be 0 to 600 seconds")
        repeat[priority] = timedelta(seconds=seconds) if seconds else None
    return AlarmPolicy(repeat)


class Sounding:
    """When to sound: the top alarm only, repeated by its priority's interval, never two at once.

    `next` says what the speaker should do now: ("play", priority), ("stop", None) or ("keep", None).
    Only alarms still raised are remembered (an acknowledged alarm never comes back), so a long day
    of cases leaves nothing behind.
    """

    def __init__(self, policy: AlarmPolicy) -> None:
        self.policy = policy
        self.played: dict[str, datetime] = {}
        self.sounding: str | None = None

    def next(self, raised: list[Alarm], now: datetime) -> tuple[str, str | None]:
        active = {alarm.id for alarm in raised}
        self.played = {alarm_id: when for alarm_id, when in self.played.items() if alarm_id in active}
        if not raised:
            if self.sounding is None:
                return "keep", None
            self.sounding = None
            return "stop", None
        top = raised[0]
        if not self.policy.due(top.priority, self.played.get(top.id), now):
            return "keep", None
        self.played[top.id] = now
        self.sounding = top.id
        return "play", top.priority


# One batch's working window escalates: ends soon -> over. Once the later stage is raised the earlier
# one describes a condition that has ended, so only the latest stage stays active, acknowledged or not.
# "Ready to inject" (dough time) is information on the timer, not an alarm (SPEC §4).
WORKING_STAGES = ("working_warning", "working_end")


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
    """Every alarm the case's facts and timers raise, with the moment each was raised (SPEC §4:
    high = act now to avoid harm, medium = act promptly, low = be aware)."""
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
                    MEDIUM,
                    f"Cement {timer.level}",
                    f"{timer.level}: set time reached; confirm the cement sample is hard before removing cannulas",
                    timer.end,
                )
            )
    found += _leak_alarms(state)
    found += _early_removal_alarms(state)
    found += _dose_alarms(state)
    return found


def _working_alarms(state: CaseState, timer: Timer) -> list[Alarm]:
    """The batch in use only: a batch stops being in use when a newer batch is mixed (SPEC §3)."""
    assert timer.end is not None
    seq = timer.id.split(":", 1)[1]
    warn_before = minutes(float(state.settings.get("working_warning_minutes")))
    newer = [b.t0 for b in state.facts.batches if str(b.seq) != seq and b.t0 > timer.start]
    replaced_at = min(newer) if newer else None
    found = [
        Alarm(
            f"working_warning:{seq}",
            MEDIUM,
            "Cement",
            f"Cement working time ends in {warn_before.total_seconds() / 60:g} min",
            timer.end - warn_before,
        ),
        Alarm(
            f"working_end:{seq}",
            MEDIUM,
            "Cement",
            "Cement working time is over: do not inject this batch; mix a new one",
            timer.end,
        ),
    ]
    return [a for a in found if replaced_at is None or a.raised_at < replaced_at]


def _leak_alarms(state: CaseState) -> list[Alarm]:
    """SPEC §3: an epidural, foraminal or pulmonary leak, or a symptomatic one, is a high-priority alarm."""
    found = []
    field = state.template.step("cement_injection").field("leak")
    for injection in state.facts.dangerous_leaks:
        what = ", ".join(field.choice_label(leak) for leak in injection.leaks) or "no leak seen"
        symptoms = "symptomatic, " if injection.symptomatic else ""
        found.append(
            Alarm(
                f"leak:{injection.seq}",
                HIGH,
                f"Cement {injection.where}",
                f"Leak ({symptoms}{what}): stop injecting, tell the operator, check the legs",
                injection.time,
            )
        )
    return found


def _early_removal_alarms(state: CaseState) -> list[Alarm]:
    """Cannulas removed before the cement was hard (the hardening hard stop overridden): high priority."""
    found = []
    for override in state.overrides:
        if override.values.get("gate") == "hardening" and override.step == "cannula_removal":
            level = override.level or ""
            found.append(
                Alarm(
                    f"early_removal:{override.seq}",
                    HIGH,
                    f"Cement {level}",
                    f"{level}: cannulas removed before the cement was hard: watch for cement leak and for "
                    "neurological change",
                    override.clinical_time,
                )
            )
    return found


def _dose_alarms(state: CaseState) -> list[Alarm]:
    report = state.facts.dose()
    over = report.substantial(state.settings) if report is not None else []
    if not over or not state.has_instance("radiation_dose"):
        return []
    entry = state.instance("radiation_dose").entry
    when = entry.clinical_time if entry is not None else None
    if when is None:
        return []
    return [
        Alarm(
            "dose:substantial",
            MEDIUM,
            "Radiation dose",
            f"Substantial radiation dose ({'; '.join(over)}): the patient needs follow-up",
            when,
        )
    ]
