"""Events as the hub holds them: the canonical text a room hashed, and the way back to an Event.

The hub stores `Event.canonical()` verbatim, so any reader can re-check sha256(text) == hash and the
links between events without trusting the hub's extracted columns. Pure Python: no database here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checklist_app.domain.events import GENESIS_HASH, Event, parse_time
from checklist_app.sync.case_ids import named_case_id

BATCH = 500  # events per push_events call: one round trip and one transaction each


@dataclass(frozen=True)
class WireEvent:
    """One event ready to push: its seq, its hash and the exact text the hash covers."""

    seq: int
    hash: str
    canonical: str


def to_wire(case_id: str, events: Sequence[Event]) -> list[WireEvent]:
    """The case's stored events, checked (one case, consecutive seqs, true hashes and links), as wire events.

    Raises ValueError naming the first event that is not a sound continuation of the one before:
    a room never pushes what its own chain does not vouch for. `case_id` is the hub's id: a
    room-qualified one (`OR1/20260302-001`) carries events naming the room's own id (case_ids.py).
    """
    named = named_case_id(case_id)
    ordered = sorted(events, key=lambda event: event.seq)
    wire: list[WireEvent] = []
    for before, event in zip([None, *ordered], ordered, strict=False):
        if event.case_id != named:
            raise ValueError(f"event {event.seq} belongs to case {event.case_id}, not {case_id}")
        if before is not None and (event.seq != before.seq + 1 or event.prev_hash != before.hash):
            raise ValueError(f"case {case_id}: event {event.seq} does not follow event {before.seq}")
        if event.seq == 1 and event.prev_hash != GENESIS_HASH:
            raise ValueError(f"case {case_id}: event 1 does not start the chain")
        text = event.canonical()
        if not event.hash or hashlib.sha256(text).hexdigest() != event.hash:
            raise ValueError(f"case {case_id}: event {event.seq} does not match its hash")
        wire.append(WireEvent(event.seq, event.hash, text.decode("utf-8")))
    return wire


def batches(wire: Sequence[WireEvent], size: int = BATCH) -> list[list[WireEvent]]:
    return [list(wire[start : start + size]) for start in range(0, len(wire), size)]


def from_canonical(text: str, hash_: str) -> Event:
    """The Event a stored canonical text describes; ValueError if it is not exactly that event.

    Checks that sha256(text) is `hash_` and that rebuilding the event gives the very same bytes.
    """
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != hash_:
        raise ValueError("the text does not match its hash")
    body: Any = json.loads(text)
    if not isinstance(body, dict) or not isinstance(body.get("values"), dict):
        raise ValueError("not an event")
    event = Event(
        case_id=body["case_id"],
        seq=body["seq"],
        kind=body["kind"],
        clinical_time=parse_time(body["clinical_time"]),
        recorded_time=parse_time(body["recorded_time"]),
        actor=body["actor"],
        step=body["step"],
        level=body["level"],
        side=body["side"],
        values=body["values"],
        reason=body["reason"],
        late_reason=body["late_reason"],
        ref=body["ref"],
        prev_hash=body["prev_hash"],
        hash=hash_,
    )
    if event.canonical() != text.encode("utf-8"):
        raise ValueError("the text is not in canonical form")
    return event


def chain_problems(case_id: str, events: Sequence[Event]) -> list[str]:
    """Why `events` (seq order) are not one intact chain of `case_id` from seq 1; [] if they are."""
    case_id = named_case_id(case_id)
    problems = []
    prev_hash, expected = GENESIS_HASH, 1
    for event in events:
        if event.case_id != case_id or event.seq != expected:
            problems.append(f"event {event.seq} is out of place (expected {expected} of case {case_id})")
        elif event.prev_hash != prev_hash:
            problems.append(f"event {event.seq} does not link to event {expected - 1}")
        prev_hash, expected = event.hash, event.seq + 1
    return problems
