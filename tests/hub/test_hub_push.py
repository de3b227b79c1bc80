"""Pushing a case: idempotent, resumable, checked on arrival; forks refused, recorded, never overwritten."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from checklist_app.domain.events import GENESIS_HASH
from checklist_app.sync.department import PushResult
from checklist_app.sync.errors import ChainRefused, ForkRefused, HubCorrupt
from checklist_app.sync.wire import to_wire
from tests.conftest import advance, setup_kwargs
from tests.hub.hub_helpers import recased, rechained, synthetic_case


@pytest.fixture
def case(room_service):
    """A real two-level kyphoplasty walked to the end in room A, under a room-prefixed case id."""
    service, clock = room_service("A")
    local_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, local_id)
    return recased(service.store.events(local_id), f"A-{local_id}")


def stored(env, case_id: str) -> list[tuple]:
    with env.superuser() as conn:
        return conn.execute(
            "SELECT seq, hash, canonical FROM checklist_hub.events WHERE case_id = %s ORDER BY seq", [case_id]
        ).fetchall()


def test_a_pushed_case_is_on_the_hub_with_its_department_row(env, hub_a, case):
    case_id = case[0].case_id
    result = hub_a.push("A", case_id, case)
    assert (result.accepted, result.skipped, result.head) == (len(case), 0, (case[-1].seq, case[-1].hash))
    assert hub_a.heads("A") == {case_id: (case[-1].seq, case[-1].hash)}
    [row] = hub_a.cases()
    assert (row.case_id, row.room, row.service_date) == (case_id, "A", date(2026, 3, 2))
    assert (row.patient_name, row.mrn, row.procedure, row.levels) == (
        "Alba Example",
        "TEST0001",
        "kyphoplasty",
        "T12 L1",
    )
    assert (row.status, row.events, row.head_hash) == ("in_progress", len(case), case[-1].hash)
    assert [text for _, _, text in stored(env, case_id)] == [event.canonical().decode() for event in case]


def test_pushing_the_same_events_again_stores_nothing_twice(env, hub_a, case):
    case_id = case[0].case_id
    hub_a.push("A", case_id, case)
    again = hub_a.push("A", case_id, case)
    assert (again.accepted, again.skipped) == (0, len(case))
    assert len(stored(env, case_id)) == len(case)


def test_a_room_resumes_after_the_hubs_head(env, hub_a, case):
    case_id = case[0].case_id
    assert hub_a.push("A", case_id, case[:10]).head == (10, case[9].hash)
    head_seq, _ = hub_a.heads("A")[case_id]
    resumed = hub_a.push("A", case_id, case[head_seq:])
    assert (resumed.accepted, resumed.skipped) == (len(case) - 10, 0)
    overlapping = hub_a.push("A", case_id, case[5:])
    assert (overlapping.accepted, overlapping.skipped) == (0, len(case) - 5)
    assert hub_a.case_events(case_id) == case


def test_pushing_nothing_reports_the_hubs_head(env, hub_a):
    events = synthetic_case("A-1", 3)
    assert hub_a.push("A", "A-1", []).head == (0, GENESIS_HASH)
    hub_a.push("A", "A-1", events)
    assert hub_a.push("A", "A-1", []) == PushResult("A-1", 0, 0, (3, events[-1].hash))


def test_a_long_case_goes_in_several_batches(env, hub_a):
    events = synthetic_case("A-long", 1234)
    result = hub_a.push("A", "A-long", events)
    assert (result.accepted, result.head) == (1234, (1234, events[-1].hash))
    assert hub_a.case_events("A-long") == events


def test_another_room_reads_a_case_exactly_as_it_was_recorded(env, hub_a, hub_b, case):
    hub_a.push("A", case[0].case_id, case)
    assert hub_b.case_events(case[0].case_id) == case
    assert hub_b.case_events("no-such-case") == []


def test_a_different_event_at_a_known_seq_is_a_fork_refused_recorded_and_never_stored(env, hub_a, case):
    case_id = case[0].case_id
    hub_a.push("A", case_id, case)
    before = stored(env, case_id)
    altered = replace(case[20], values={**case[20].values, "note": "written afterwards"})
    forked = case[:20] + rechained([altered, *case[21:]])

    with pytest.raises(ForkRefused) as refused:
        hub_a.push("A", case_id, forked)
    assert (refused.value.seq, refused.value.hub_hash, refused.value.offered_hash) == (
        21,
        case[20].hash,
        forked[20].hash,
    )
    assert "event 21 differs" in str(refused.value) and "Nothing was overwritten" in str(refused.value)
    assert stored(env, case_id) == before

    with pytest.raises(ForkRefused):
        hub_a.push("A", case_id, forked[20:])  # offered again: still one record, counted twice
    [fork] = hub_a.forks(case_id)
    assert (fork.seq, fork.room, fork.hub_hash, fork.offered_hash, fork.offers) == (
        21,
        "A",
        case[20].hash,
        forked[20].hash,
        2,
    )
    with env.superuser() as conn:
        offered = conn.execute("SELECT offered_canonical FROM checklist_hub.forks").fetchone()[0]
    assert offered == forked[20].canonical().decode(), "the department can see exactly what was offered"
    assert hub_a.verify_hub() == []


def test_a_fork_after_new_events_keeps_nothing_of_the_batch(env, hub_a):
    events = synthetic_case("A-1", 10)
    hub_a.push("A", "A-1", events[:5])
    fork = rechained([replace(events[3], actor="Someone Else"), *events[4:]])
    with pytest.raises(ForkRefused):
        hub_a.push("A", "A-1", events[:3] + fork)
    assert hub_a.heads("A") == {"A-1": (5, events[4].hash)}


def test_a_gap_in_seq_is_refused(env, hub_a):
    events = synthetic_case("A-1", 9)
    hub_a.push("A", "A-1", events[:5])
    with pytest.raises(ChainRefused, match="event 7 does not follow the hub's last event 5"):
        hub_a.push("A", "A-1", events[6:])
    assert hub_a.heads("A") == {"A-1": (5, events[4].hash)}


def test_a_case_must_start_at_its_first_event(env, hub_a):
    with pytest.raises(ChainRefused, match="event 2 does not follow the hub's last event 0"):
        hub_a.push("A", "A-1", synthetic_case("A-1", 4)[1:])
    assert hub_a.cases() == [] and hub_a.heads("A") == {}


def test_an_event_that_does_not_link_to_the_hubs_head_is_refused(env, hub_a):
    events = synthetic_case("A-1", 6)
    hub_a.push("A", "A-1", events[:3])
    elsewhere = rechained([replace(events[3], prev_hash="f" * 64), *events[4:]])
    with pytest.raises(ChainRefused, match="event 4 does not link to the hub's event 3"):
        hub_a.push("A", "A-1", elsewhere)
    assert hub_a.heads("A") == {"A-1": (3, events[2].hash)}


def test_the_room_refuses_to_push_what_its_own_chain_does_not_vouch_for(env, hub_a):
    events = synthetic_case("A-1", 4)
    with pytest.raises(ChainRefused, match="event 3 does not match its hash"):
        hub_a.push("A", "A-1", [*events[:2], replace(events[2], actor="Edited Later"), events[3]])
    with pytest.raises(ChainRefused, match="event 3 belongs to case A-2"):
        hub_a.push("A", "A-1", [*events[:2], *synthetic_case("A-2", 3)[2:]])
    assert hub_a.heads("A") == {}


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda w: replace(w, hash="0" * 64), "does not match its hash"),
        (lambda w: replace(w, canonical=w.canonical.replace("Nurse Test", "Nurse Other")), "does not match its hash"),
        (lambda w: replace(w, seq=w.seq + 100), "event 103 does not follow"),
    ],
    ids=["wrong hash", "edited text", "seq that the text does not say"],
)
def test_the_hub_itself_recomputes_every_hash_and_reads_every_event(env, hub_a, tamper, message):
    """A client that skips its own checks still cannot store a bad event: the server checks."""
    wire = to_wire("A-1", synthetic_case("A-1", 3))
    bad = [*wire[:2], tamper(wire[2])]
    with pytest.raises(ChainRefused, match=message), hub_a.db.transaction():
        hub_a._push_batch("A", "A-1", bad)
    assert hub_a.heads("A") == {}


def test_text_that_names_another_case_is_refused_by_the_hub(env, hub_a):
    other = to_wire("A-2", synthetic_case("A-2", 1))
    with pytest.raises(ChainRefused, match="event 1 is not a readable event of this case"), hub_a.db.transaction():
        hub_a._push_batch("A", "A-1", other)
    assert hub_a.heads("A") == {}


def test_signatures_and_addenda_set_the_department_status(env, hub_a, room_service):
    service, clock = room_service("A")
    case_id = service.start_case(**setup_kwargs(procedure="vertebroplasty")).case_id
    advance(service, clock, case_id)
    steps = [
        ("nurse_signed", lambda: service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")),
        (
            "nurse_signed",
            lambda: service.record_findings(case_id=case_id, complications="none", findings="As planned", ebl_ml=5),
        ),
        (
            "signed",
            lambda: service.sign(
                case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id)
            ),
        ),
        ("amended", lambda: service.add_addendum(case_id=case_id, text="Late", reason="x", author="Dr Ada Demo")),
    ]
    for expected, act in steps:
        clock.advance(minutes=1)
        act()
        events = recased(service.store.events(case_id), f"A-{case_id}")
        hub_a.push("A", f"A-{case_id}", events)
        assert [row.status for row in hub_a.cases()] == [expected]
        assert service.state(case_id).facts.status == expected


def test_a_tampered_hub_copy_is_never_handed_out_as_sound(env, hub_a, hub_b, case):
    case_id = case[0].case_id
    hub_a.push("A", case_id, case)
    edited = replace(case[5], actor="Someone Else").chained(case[5].prev_hash)
    with env.superuser() as conn:
        conn.execute("ALTER TABLE checklist_hub.events DISABLE TRIGGER events_append_only")
        conn.execute(
            "UPDATE checklist_hub.events SET canonical = %s, hash = %s, actor = %s WHERE case_id = %s AND seq = 6",
            [edited.canonical().decode(), edited.hash, edited.actor, case_id],
        )
    with pytest.raises(HubCorrupt, match=f"Case {case_id}: the hub's copy does not verify .*event 7 does not link"):
        hub_b.case_events(case_id)
    assert hub_b.verify_hub() == [f"Case {case_id} event 7: it does not link to the event before"]


def test_names_in_any_script_hash_the_same_on_the_hub_byte_for_byte(env, hub_a, hub_b, room_service):
    service, clock = room_service("A")
    patient = {
        "name": "Ålba Ωμέγα Іванова 山田 花子 😀",
        "mrn": "ÄØ-0001",
        "weight_kg": 70.0,
        "date_of_birth": "1950-04-01",
        "sex": "female",
    }
    case_id = service.start_case(**setup_kwargs(patient=patient)).case_id
    advance(service, clock, case_id, minutes=2)
    events = recased(service.store.events(case_id), f"A-{case_id}")
    hub_a.push("A", f"A-{case_id}", events)
    assert hub_b.case_events(f"A-{case_id}") == events
    assert hub_b.cases()[0].patient_name == patient["name"]
    assert hub_b.verify_hub() == []
