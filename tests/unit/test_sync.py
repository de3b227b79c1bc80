"""The hub client's pure parts, without a server: failure classes, the wire form, the department check,
directory chains."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from checklist_app.domain.events import GENESIS_HASH, Event
from checklist_app.sync import department as dept
from checklist_app.sync.department import HubHead
from checklist_app.sync.directory import (
    DEACTIVATED,
    PERSON_ADDED,
    PIN_CHANGED,
    STAFF,
    build_entry,
    check_chain,
    entry_from_row,
    fold_staff,
)
from checklist_app.sync.errors import (
    ChainRefused,
    HubBug,
    HubRejected,
    HubUnavailable,
    NotPermitted,
    OtherRoomsCase,
    classify,
)
from checklist_app.sync.wire import batches, chain_problems, from_canonical, to_wire

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def chain(case_id: str, count: int, **changes) -> list[Event]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        event = Event(case_id, seq, "step_done", T0, T0, "Nurse Ölgür Ñandú", values={"n": seq}, **changes)
        events.append(event.chained(prev))
        prev = events[-1].hash
    return events


@pytest.mark.parametrize(
    "sqlstate, message, connecting, expected",
    [
        (None, "connection failed: ... failed: Connection refused", True, HubUnavailable),
        (None, "connection timeout expired", True, HubUnavailable),
        (None, "server closed the connection unexpectedly", False, HubUnavailable),
        (None, "FATAL:  the database system is starting up", True, HubUnavailable),
        (None, 'FATAL:  password authentication failed for user "x"', True, NotPermitted),
        (None, 'FATAL:  database "hub" does not exist', True, NotPermitted),
        (None, 'FATAL:  role "x" is not permitted to log in', True, NotPermitted),
        ("25006", "cannot execute INSERT in a read-only transaction", False, HubUnavailable),
        ("57P01", "terminating connection due to administrator command", False, HubUnavailable),
        ("57P03", "the database system is shutting down", False, HubUnavailable),
        ("57014", "canceling statement due to statement timeout", False, HubUnavailable),
        ("55P03", "canceling statement due to lock timeout", False, HubUnavailable),
        ("40P01", "deadlock detected", False, HubUnavailable),
        ("53300", "too many connections", False, HubUnavailable),
        ("42501", "permission denied for table events", False, NotPermitted),
        ("28P01", "password authentication failed", False, NotPermitted),
        ("HUB01", "case x: event 3 does not follow", False, ChainRefused),
        ("HUB02", "case x is already on the hub for room B", False, OtherRoomsCase),
        ("HUB09", "append-only", False, NotPermitted),
        ("3F000", 'schema "checklist_hub" does not exist', False, HubRejected),
        ("57P04", "database dropped", False, HubRejected),
        ("42601", "syntax error", False, HubBug),
        ("23505", "duplicate key value violates unique constraint", False, HubBug),
    ],
)
def test_failures_are_classified_for_the_worker(sqlstate, message, connecting, expected):
    assert classify(sqlstate, message, connecting=connecting) is expected


def test_the_wire_form_is_the_exact_canonical_text_in_seq_order():
    events = chain("A-1", 5)
    wire = to_wire("A-1", list(reversed(events)))
    assert [w.seq for w in wire] == [1, 2, 3, 4, 5]
    assert [w.canonical.encode("utf-8") for w in wire] == [e.canonical() for e in events]
    assert [from_canonical(w.canonical, w.hash) for w in wire] == events
    assert [len(b) for b in batches(to_wire("A-1", chain("A-1", 1201)))] == [500, 500, 201]


@pytest.mark.parametrize(
    "broken, message",
    [
        (lambda e: [*e[:2], replace(e[2], actor="edited")], "event 3 does not match its hash"),
        (lambda e: [e[0], e[2]], "event 3 does not follow event 1"),
        (lambda e: [*e[:2], replace(e[2], hash="")], "event 3 does not match its hash"),
        (lambda e: chain("A-2", 2), "event 1 belongs to case A-2"),
        (lambda e: [replace(e[0], prev_hash="1" * 64).chained("1" * 64)], "event 1 does not start the chain"),
    ],
)
def test_a_room_never_pushes_what_its_chain_does_not_vouch_for(broken, message):
    with pytest.raises(ValueError, match=message):
        to_wire("A-1", broken(chain("A-1", 3)))


def test_text_that_is_not_exactly_the_canonical_form_is_not_an_event():
    event = chain("A-1", 1)[0]
    loose = json.dumps(json.loads(event.canonical()), indent=1)
    with pytest.raises(ValueError, match="not in canonical form"):
        from_canonical(loose, hashlib.sha256(loose.encode()).hexdigest())
    with pytest.raises(ValueError, match="does not match its hash"):
        from_canonical(event.canonical().decode(), "0" * 64)
    assert chain_problems("A-1", chain("A-1", 3)) == []
    assert chain_problems("A-1", chain("A-1", 3)[1:]) == ["event 2 is out of place (expected 1 of case A-1)"]


def test_the_department_check_compares_heads_case_by_case():
    hub = {
        "same": HubHead("A", 5, "h5"),
        "behind": HubHead("A", 5, "h5"),
        "gone": HubHead("A", 3, "h3"),
        "short": HubHead("A", 9, "h9"),
        "changed": HubHead("A", 4, "h4"),
        "changed-ahead": HubHead("A", 4, "h4"),
        "theirs": HubHead("B", 2, "b2"),
        "b-only": HubHead("B", 7, "b7"),
    }
    local = {
        "same": (5, "h5"),
        "behind": (8, "h8"),
        "short": (6, "h6"),
        "changed": (4, "x4"),
        "changed-ahead": (6, "x6"),
        "theirs": (2, "a2"),
        "new": (3, "n3"),
    }
    local_hash = {("behind", 5): "h5", ("changed-ahead", 4): "x4"}
    probes = dept.truncation_probes(hub, local)
    assert probes == [("short", 6)]
    findings = dept.compare("A", hub, local, lambda c, s: local_hash.get((c, s)), {("short", 6): "h6"})
    assert {f.case_id: f.kind for f in findings} == {
        "same": dept.IN_STEP,
        "behind": dept.NOT_YET_PUSHED,
        "gone": dept.DELETED_LOCALLY,
        "short": dept.TRUNCATED_LOCALLY,
        "changed": dept.REWRITTEN_LOCALLY,
        "changed-ahead": dept.REWRITTEN_LOCALLY,
        "theirs": dept.OTHER_ROOM,
        "new": dept.NOT_ON_HUB,
    }
    again = dept.compare("A", hub, local, lambda c, s: None, {("short", 6): "other"})
    assert next(f for f in again if f.case_id == "short").message.endswith("differs from the hub's")


def test_directory_entries_chain_and_fold():
    entries, prev = [], GENESIS_HASH
    for seq, (kind, body) in enumerate(
        [
            (PERSON_ADDED, {"person_id": "N1", "name": "Nurse One", "role": "nurse", "pin_hash": None}),
            (PIN_CHANGED, {"person_id": "N1", "pin_hash": "scrypt$1$2$3$4$5"}),
            (DEACTIVATED, {"person_id": "N1"}),
        ],
        start=1,
    ):
        text, hash_ = build_entry(STAFF, seq, kind, body, prev, T0)
        entries.append(entry_from_row(STAFF, seq, text, hash_))
        prev = hash_
    check_chain(entries)
    assert fold_staff(entries)["N1"].pin_hash == "scrypt$1$2$3$4$5"
    assert fold_staff(entries)["N1"].active is False
    with pytest.raises(ValueError, match="staff entry 3 does not follow entry 1"):
        check_chain([entries[0], entries[2]])
    with pytest.raises(ValueError, match="does not hold what its place says"):
        entry_from_row(STAFF, 2, entries[0].canonical, entries[0].hash)
    with pytest.raises(ValueError, match="not an entry of the catalogue directory"):
        build_entry("catalogue", 1, PERSON_ADDED, {}, GENESIS_HASH, T0)
