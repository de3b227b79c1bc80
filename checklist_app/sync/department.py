"""What the hub answers, as plain frozen data, and the department check of a room against the hub.

`compare` is pure: given the hub's heads and the room's, it says per case whether the room's record
is in step, merely ahead (not yet pushed), or was deleted, truncated or rewritten since it was pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

Head = tuple[int, str]  # (seq of the last event, its hash)

IN_STEP = "in_step"
NOT_YET_PUSHED = "not_yet_pushed"  # the room is ahead of the hub, on the same chain: fine
NOT_ON_HUB = "not_on_hub"  # the room has a case the hub has never received: the hub lacks it
DELETED_LOCALLY = "deleted_locally"  # on the hub for this room, missing in the room
TRUNCATED_LOCALLY = "truncated_locally"  # the hub holds more events than the room
REWRITTEN_LOCALLY = "rewritten_locally"  # the room's event at a seq both hold differs from the hub's
OTHER_ROOM = "other_room"  # the hub has this case id from another room

PROBLEMS = frozenset({DELETED_LOCALLY, TRUNCATED_LOCALLY, REWRITTEN_LOCALLY, OTHER_ROOM})
PENDING = frozenset({NOT_YET_PUSHED, NOT_ON_HUB})


@dataclass(frozen=True)
class PushResult:
    """What one push did: events newly stored, events the hub already had, and the hub's head after."""

    case_id: str
    accepted: int
    skipped: int
    head: Head


@dataclass(frozen=True)
class HubHead:
    """A case's chain head on the hub and the room that pushed it."""

    room: str
    seq: int
    hash: str


@dataclass(frozen=True)
class HubCase:
    """One line of the department's case list (projected from the pushed events)."""

    case_id: str
    room: str
    service_date: date | None
    patient_name: str | None
    mrn: str | None
    procedure: str | None
    levels: str | None
    status: str
    events: int
    head_hash: str
    last_event_time: datetime | None
    last_pushed: datetime


@dataclass(frozen=True)
class Fork:
    """A refused event: a room offered `offered_hash` at a seq where the hub holds `hub_hash`."""

    case_id: str
    seq: int
    room: str
    hub_hash: str
    offered_hash: str
    first_offered: datetime
    last_offered: datetime
    offers: int


@dataclass(frozen=True)
class CaseFinding:
    """The department check's verdict on one case; `message` names case and seqs, never the patient."""

    case_id: str
    kind: str
    local: Head | None
    hub: Head | None
    message: str

    @property
    def problem(self) -> bool:
        """The room's record no longer matches what it pushed (or clashes with another room)."""
        return self.kind in PROBLEMS


def truncation_probes(hub: Mapping[str, HubHead], local_heads: Mapping[str, Head]) -> list[tuple[str, int]]:
    """(case, seq) pairs whose hub hash the check needs: the room's head where the hub is ahead."""
    return [
        (case_id, local[0])
        for case_id, local in local_heads.items()
        if case_id in hub and 0 < local[0] < hub[case_id].seq
    ]


def compare(
    room: str,
    hub: Mapping[str, HubHead],
    local_heads: Mapping[str, Head],
    local_hash_at: Callable[[str, int], str | None],
    hub_hash_at: Mapping[tuple[str, int], str],
) -> list[CaseFinding]:
    """One finding per case the room or the hub (for this room) has, in case id order."""
    mine = {case_id for case_id, head in hub.items() if head.room == room}
    findings = []
    for case_id in sorted(mine | set(local_heads)):
        local = local_heads.get(case_id)
        on_hub = hub.get(case_id)
        findings.append(_finding(room, case_id, local, on_hub, local_hash_at, hub_hash_at))
    return findings


def _finding(
    room: str,
    case_id: str,
    local: Head | None,
    on_hub: HubHead | None,
    local_hash_at: Callable[[str, int], str | None],
    hub_hash_at: Mapping[tuple[str, int], str],
) -> CaseFinding:
    hub = (on_hub.seq, on_hub.hash) if on_hub else None

    def found(kind: str, message: str) -> CaseFinding:
        return CaseFinding(case_id, kind, local, hub, f"Case {case_id}: {message}")

    if on_hub is not None and on_hub.room != room:
        return found(OTHER_ROOM, f"the hub holds this case id from room {on_hub.room}; it cannot be pushed from here")
    if local is None or local[0] == 0:
        return found(DELETED_LOCALLY, f"on the hub ({hub[0] if hub else 0} events) but missing in this room")
    if on_hub is None or on_hub.seq == 0:
        return found(NOT_ON_HUB, f"not on the hub yet ({local[0]} events to push)")
    if local[0] < on_hub.seq:
        same_prefix = hub_hash_at.get((case_id, local[0])) == local[1]
        detail = "" if same_prefix else ", and its last remaining event differs from the hub's"
        return found(TRUNCATED_LOCALLY, f"the hub holds {on_hub.seq} events, this room only {local[0]}{detail}")
    here = local[1] if local[0] == on_hub.seq else local_hash_at(case_id, on_hub.seq)
    if here != on_hub.hash:
        return found(REWRITTEN_LOCALLY, f"event {on_hub.seq} here differs from the one pushed to the hub")
    if local[0] > on_hub.seq:
        return found(NOT_YET_PUSHED, f"events {on_hub.seq + 1}-{local[0]} not pushed yet")
    return found(IN_STEP, f"in step with the hub ({local[0]} events)")


def heads_from_rows(rows: Iterable[tuple[str, str, int, str]]) -> dict[str, HubHead]:
    return {case_id: HubHead(room, seq, hash_) for case_id, room, seq, hash_ in rows}
