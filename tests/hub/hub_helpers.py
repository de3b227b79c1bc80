"""Building rooms' records for the hub tests: re-keyed real cases, long synthetic chains, local heads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from checklist_app.domain.events import GENESIS_HASH, Event
from checklist_app.store import Store
from checklist_app.sync.hub import Hub

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def recased(events: list[Event], case_id: str) -> list[Event]:
    """The same events under another case id, re-chained: what a room-prefixed case id will look like."""
    out, prev = [], GENESIS_HASH
    for event in events:
        linked = replace(event, case_id=case_id).chained(prev)
        out.append(linked)
        prev = linked.hash
    return out


def rechained(events: list[Event]) -> list[Event]:
    """Events re-linked from their first one's prev_hash (after a change to one of them)."""
    out, prev = [], events[0].prev_hash
    for event in events:
        linked = event.chained(prev)
        out.append(linked)
        prev = linked.hash
    return out


def synthetic_case(case_id: str, count: int, start: datetime = START, kind: str = "step_done") -> list[Event]:
    """A long, valid chain (a case_started then `count - 1` plain events) for volume tests."""
    setup = {
        "patient": {"name": "Synthetic Patient", "weight_kg": 70.0, "mrn": "SYN0001"},
        "procedure": "vertebroplasty",
        "levels": [{"level": "L2", "sides": ["left"]}],
    }
    events, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        first = seq == 1
        event = Event(
            case_id=case_id,
            seq=seq,
            kind="case_started" if first else kind,
            clinical_time=start,
            recorded_time=start,
            actor="Nurse Test",
            step=None if first else "cement_mix",
            values={"setup": setup} if first else {"n": seq},
        ).chained(prev)
        events.append(event)
        prev = event.hash
    return events


def local_heads(store: Store, case_ids: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """{case_id: (seq, hash)} of a room's database, from its stored events."""
    heads = {}
    for case_id in case_ids if case_ids is not None else [row.id for row in store.list_cases()]:
        events = store.events(case_id)
        if events:
            heads[case_id] = (events[-1].seq, events[-1].hash)
    return heads


def catch_up(hub: Hub, room: str, cases: Mapping[str, list[Event]]) -> int:
    """What a room's worker does after any fault: ask the hub's heads, push what follows each one.

    Returns how many events the hub accepted.
    """
    heads = hub.heads(room)
    accepted = 0
    for case_id, events in cases.items():
        seq = heads.get(case_id, (0, ""))[0]
        if len(events) > seq:
            accepted += hub.push(room, case_id, events[seq:]).accepted
    return accepted
