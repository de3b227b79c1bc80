"""The department's views and check: every room's cases, filtered; a room's record checked against the hub."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import date, timedelta

from checklist_app.store import open_store
from checklist_app.store.rows import event_to_row
from tests.conftest import advance, setup_kwargs
from tests.hub.hub_helpers import START, catch_up, local_heads, rechained, synthetic_case


def build_room(room_service, count: int):
    """Room A's service with `count` complete cases on successive days; returns (service, clock, ids)."""
    service, clock = room_service("A")
    ids = []
    for day in range(count):
        clock.set(START + timedelta(days=day))
        case_id = service.start_case(**setup_kwargs()).case_id
        advance(service, clock, case_id)
        ids.append(case_id)
    return service, clock, ids


def rewrite(path, case_id: str, events) -> None:
    """Replace a case's events in the room's SQLite file, as someone with the file could."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM events WHERE case_id = ?", [case_id])
        for event in events:
            row = event_to_row(event)
            conn.execute(
                f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
            )
        head = (events[-1].seq, events[-1].hash) if events else (0, "0" * 64)
        conn.execute("UPDATE cases SET event_count = ?, head_hash = ? WHERE id = ?", [*head, case_id])
        if not events:
            conn.execute("DELETE FROM cases WHERE id = ?", [case_id])


def test_department_verify_names_deleted_truncated_and_rewritten_cases(env, hub_a, room_service):
    service, clock, ids = build_room(room_service, 7)
    pushed = {case_id: service.store.events(case_id) for case_id in ids[:6]}
    catch_up(hub_a, "A", pushed)
    path = service.store.path
    clock.advance(minutes=5)
    service.sign(case_id=ids[5], name="Nurse Dana Demo", role="nurse")  # ahead of the hub: fine
    service.close()

    deleted, truncated, rewritten, rewritten_ahead, in_step, ahead, unpushed = ids
    rewrite(path, deleted, [])
    rewrite(path, truncated, pushed[truncated][:30])
    edited = replace(pushed[rewritten][-1], actor="Someone Else")
    rewrite(path, rewritten, [*pushed[rewritten][:-1], *rechained([edited])])
    history = pushed[rewritten_ahead]
    extra = replace(history[-1], seq=len(history) + 1)
    rewrite(path, rewritten_ahead, history[:9] + rechained([replace(history[9], actor="X"), *history[10:], extra]))
    with open_store(path, readonly=True) as store:
        events = {case_id: store.events(case_id) for case_id in ids}
        findings = hub_a.department_verify("A", local_heads(store), lambda case, seq: events[case][seq - 1].hash)

    kinds = {finding.case_id: finding.kind for finding in findings}
    assert kinds == {
        deleted: "deleted_locally",
        truncated: "truncated_locally",
        rewritten: "rewritten_locally",
        rewritten_ahead: "rewritten_locally",
        in_step: "in_step",
        ahead: "not_yet_pushed",
        unpushed: "not_on_hub",
    }
    by_id = {finding.case_id: finding for finding in findings}
    assert [f.case_id for f in findings if f.problem] == [deleted, truncated, rewritten, rewritten_ahead]
    assert (
        by_id[truncated].message
        == f"Case {truncated}: the hub holds {len(pushed[truncated])} events, this room only 30"
    )
    assert by_id[rewritten].local[0] == by_id[rewritten].hub[0] and by_id[rewritten].local[1] != by_id[rewritten].hub[1]
    assert "Alba" not in " ".join(f.message for f in findings), "no patient data in the report"


def test_a_local_case_whose_id_another_room_pushed_is_flagged(env, hub_a, hub_b):
    hub_b.push("B", "SHARED-1", synthetic_case("SHARED-1", 3))
    mine = synthetic_case("SHARED-1", 4, kind="not_applicable")
    [finding] = hub_a.department_verify("A", {"SHARED-1": (4, mine[-1].hash)}, lambda *_: None)
    assert (finding.kind, finding.problem) == ("other_room", True)
    assert "from room B" in finding.message


def test_department_cases_filter_by_room_and_dates_newest_first(env, hub_a, hub_b):
    for room, hub in (("A", hub_a), ("B", hub_b)):
        for day in range(5):
            case_id = f"{room}-{day}"
            hub.push(room, case_id, synthetic_case(case_id, 3, start=START + timedelta(days=day, hours=day)))
    everything = hub_a.cases()
    assert [row.case_id for row in everything] == [f"{r}-{d}" for d in range(4, -1, -1) for r in "BA"]
    assert [row.case_id for row in hub_a.cases(room="B")] == ["B-4", "B-3", "B-2", "B-1", "B-0"]
    middle = hub_b.cases(date_from=date(2026, 3, 3), date_to=date(2026, 3, 4))
    assert [(row.case_id, row.service_date) for row in middle] == [
        ("B-2", date(2026, 3, 4)),
        ("A-2", date(2026, 3, 4)),
        ("B-1", date(2026, 3, 3)),
        ("A-1", date(2026, 3, 3)),
    ]
    assert [row.case_id for row in hub_a.cases(room="A", date_from=date(2026, 3, 5))] == ["A-4", "A-3"]
    assert [row.case_id for row in hub_a.cases(limit=3)] == ["B-4", "A-4", "B-3"]
    assert hub_a.cases(room="C") == []
    row = everything[0]
    assert (row.room, row.patient_name, row.mrn, row.procedure, row.levels, row.events) == (
        "B",
        "Synthetic Patient",
        "SYN0001",
        "vertebroplasty",
        "L2",
        3,
    )
