"""Findings: what the rule modules say about a case now, in one shape, and the room's status per tick.

Each rule module answers for its own concern (gates, alarms, advisories); this module gathers their
answers for those who show them all: the window's one-second tick asks `room_status` once instead
of asking each rule for each step, and the note and the outbound messages read the same findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .advisories import Advisory, unacknowledged
from .alarms import Alarm, alarms
from .gates import closed_gates
from .state import PENDING, CaseState
from .template import Gate
from .timers import Timer, timers

Key = tuple[str, str | None, str | None]
GATE, ALARM, ADVISORY = "gate", "alarm", "advisory"


@dataclass(frozen=True)
class Finding:
    """One thing a rule says: a hard stop on a step, an alarm, or a warning to acknowledge."""

    id: str
    kind: str  # gate, alarm or advisory
    message: str
    rule: str  # the module (concern) that raised it
    priority: str | None = None  # alarms: high, medium, low (IEC 60601-1-8)
    scope: Key | None = None  # gates: the step instance it holds back


@dataclass(frozen=True)
class RoomStatus:
    """Everything the clocks-and-alarms part of the window shows at one moment."""

    now: datetime
    timers: tuple[Timer, ...]
    alarms: tuple[Alarm, ...]
    advisories: tuple[Advisory, ...]
    gates: dict[Key, tuple[Gate, ...]] = field(default_factory=dict)

    @property
    def locked(self) -> frozenset[Key]:
        """Pending steps a hard stop would refuse now (shown as LOCKED before anyone taps them)."""
        return frozenset(self.gates)

    def findings(self) -> list[Finding]:
        found = [
            Finding(f"{g.id}@{'/'.join(p or '' for p in key)}", GATE, g.message, "gates", scope=key)
            for key, gates in self.gates.items()
            for g in gates
        ]
        found += [Finding(a.id, ALARM, a.message, "alarms", a.priority) for a in self.alarms]
        found += [Finding(w.id, ADVISORY, w.message, "advisories") for w in self.advisories]
        return found


def locked_gates(state: CaseState, now: datetime) -> dict[Key, tuple[Gate, ...]]:
    """The hard stops closed now for every pending step that has one (none once the case is signed)."""
    if state.facts.locked:
        return {}
    found = {}
    for inst in state.instances:
        if inst.status == PENDING and inst.spec.gates:
            closed = closed_gates(state, inst.spec, inst.level, inst.side, now)
            if closed:
                found[inst.key] = tuple(closed)
    return found


def room_status(state: CaseState, now: datetime) -> RoomStatus:
    return RoomStatus(
        now=now,
        timers=tuple(timers(state, now)),
        alarms=tuple(alarms(state, now)),
        advisories=tuple(unacknowledged(state)),
        gates=locked_gates(state, now),
    )
