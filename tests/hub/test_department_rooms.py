"""Rooms wired to the hub as the program wires them: room-coded case ids, the pusher, the worker thread.

Every test runs against the real PostgreSQL of tests/hub/conftest.py and real SQLite files; time is a
FakeClock; a real thread is waited on through its status callback with a timeout, never by sleeping.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from checklist_app.department import PushWorker, adopt_room
from checklist_app.store import StoreError
from checklist_app.sync.case_ids import hub_case_id, local_case_id, named_case_id
from checklist_app.sync.pusher import MAX_BACKOFF_S, Marks
from tests.conftest import START, advance, setup_kwargs
from tests.hub.department_helpers import (
    StatusWatch,
    complete_case,
    joined_room,
    pusher,
    refused_config,
    room_config,
    until_settled,
)
from tests.hub.hub_helpers import local_heads


def hub_heads_as_local(hub, room):
    return {local_case_id(room, case): head for case, head in hub.heads(room).items()}


# -- case ids ---------------------------------------------------------------------------------------


def test_without_a_room_code_case_ids_stay_as_they_were(room_service):
    service, clock = room_service("alone")
    assert service.start_case(**setup_kwargs()).case_id == "20260302-001"
    assert service.store.room_code() is None


def test_an_old_database_keeps_its_ids_and_new_cases_carry_the_room_code(env, room_service, hub_a, hub_b):
    """Migration of an old database: both rooms made 20260302-001 before the hub; nothing collides."""
    rooms = {}
    for room in ("A", "B"):
        service, clock = room_service(room)
        old = complete_case(service, clock)
        assert old == "20260302-001"
        assert adopt_room(service.store, room) is True  # the migration: the room code recorded once
        assert adopt_room(service.store, room) is False
        clock.advance(minutes=60)
        new = service.start_case(**setup_kwargs()).case_id
        assert new == f"{room}-20260302-001"
        assert service.store.verify() == [], "old chains are untouched"
        assert service.state(old).case_id == old, "old ids stay readable"
        rooms[room] = (service, clock, old, new)
        status = until_settled(pusher(service, room_config(env, room), clock))
        assert status.state == "in_step" and not status.parked

    assert {c.case_id for c in hub_a.cases()} == {
        "A/20260302-001",
        "A-20260302-001",
        "B/20260302-001",
        "B-20260302-001",
    }
    for room, (service, _clock, old, new) in rooms.items():
        hub_events = hub_a.case_events(hub_case_id(room, old))  # re-verified by the hub client
        assert hub_events == service.store.events(old), "the hub holds the room's own bytes"
        assert hub_a.case_events(new) == service.store.events(new)
    assert hub_a.verify_hub() == []


def test_a_database_of_one_room_is_refused_for_another(room_service):
    service, _clock = joined_room(room_service, "A")
    with pytest.raises(StoreError, match="belongs to room A, not B"):
        adopt_room(service.store, "B")
    assert service.store.room_code() == "A"


def test_hub_ids_map_both_ways():
    assert hub_case_id("OR1", "OR1-20260302-001") == "OR1-20260302-001"
    assert hub_case_id("OR1", "20260302-001") == "OR1/20260302-001"
    assert named_case_id("OR1/20260302-001") == "20260302-001"
    assert local_case_id("OR1", "OR1/20260302-001") == "20260302-001"
    assert local_case_id("OR1", "OR2-20260302-001") is None


def test_a_room_cannot_file_a_case_under_another_rooms_qualifier(env, room_service, hub_b):
    service, clock = room_service("A")
    case_id = complete_case(service, clock)
    from checklist_app.sync.errors import HubRejected

    with pytest.raises(HubRejected):
        hub_b.push("B", f"A/{case_id}", service.store.events(case_id))
    assert hub_b.cases() == []


# -- pushing ------------------------------------------------------------------------------------------


def test_a_duplicate_push_stores_nothing_twice(env, room_service, hub_a, tmp_path):
    service, clock = joined_room(room_service, "A")
    ids = [complete_case(service, clock) for _ in range(2)]
    config = room_config(env, "A")
    first = until_settled(pusher(service, config, clock))
    assert first.state == "in_step"
    # A second worker with no memory at all (its marks file lost) pushes everything again.
    again = pusher(service, config, clock, marks=Marks(tmp_path / "none.json", "x"))
    assert until_settled(again).state == "in_step"
    for case_id in ids:
        assert hub_a.push("A", case_id, service.store.events(case_id)).accepted == 0
    assert hub_heads_as_local(hub_a, "A") == local_heads(service.store)


def test_two_rooms_push_concurrently_from_their_worker_threads(env, room_service, hub_a):
    workers, watches, services = [], [], []
    for room in ("A", "B"):
        service, clock = joined_room(room_service, room)
        for _ in range(3):
            complete_case(service, clock)
        watch = StatusWatch()
        workers.append(PushWorker(service.store.path, room_config(env, room), on_status=watch, clock=clock))
        watches.append(watch)
        services.append(service)
    for worker in workers:
        worker.start()
    try:
        for watch in watches:
            watch.wait_for(lambda s: s.state == "in_step")
    finally:
        assert all(worker.stop(timeout=30) for worker in workers)
    for room, service in zip(("A", "B"), services, strict=True):
        assert hub_heads_as_local(hub_a, room) == local_heads(service.store)
    assert len(hub_a.cases()) == 6 and hub_a.verify_hub() == []


def test_the_worker_pushes_a_new_tick_when_woken(env, room_service, hub_a):
    service, clock = joined_room(room_service, "A")
    case_id = service.start_case(**setup_kwargs()).case_id
    watch = StatusWatch()
    worker = PushWorker(service.store.path, room_config(env, "A"), on_status=watch, clock=clock).start()
    try:
        watch.wait_for(lambda s: s.state == "in_step")
        advance(service, clock, case_id, until="time_out")
        count = len(service.store.events(case_id))
        worker.wake()  # what the window does after each stored change
        watch.wait_for(lambda s: s.state == "in_step" and hub_a.heads("A").get(case_id, (0, ""))[0] == count)
    finally:
        assert worker.stop(timeout=30)


# -- faults ---------------------------------------------------------------------------------------------


def test_a_refused_network_backs_off_and_never_stops_a_tick(room_service):
    service, clock = joined_room(room_service, "A")
    case_id = service.start_case(**setup_kwargs()).case_id
    pushes = pusher(service, refused_config("A"), clock)
    delays = []
    for _ in range(8):
        status = pushes.run_once()
        assert status.state == "unavailable" and "not available" in status.message
        delays.append(pushes.next_delay)
        if _ == 0:
            clock.advance(minutes=1)
            state = advance(service, clock, case_id, until="identity_consent")
            assert state.events[-1].hash, "the tick is stored while the hub is away"
    assert delays == [1, 2, 4, 8, 16, 32, MAX_BACKOFF_S, MAX_BACKOFF_S]
    assert status.waiting_events == len(service.store.events(case_id))
    assert status.since == START, "waiting since the first event the hub lacks"
    assert status.text().startswith("department: hub not reachable, kept here; 2 events waiting since ")


def test_the_hub_killed_mid_catch_up_and_restarted_loses_and_repeats_nothing(env, room_service, hub_a):
    service, clock = joined_room(room_service, "A")
    ids = [complete_case(service, clock) for _ in range(4)]
    pushes = pusher(service, room_config(env, "A"), clock, cases_per_round=1)
    assert pushes.run_once().state == "waiting"  # one case pushed, three to go
    hub_a.close()
    env.cluster.stop_immediately()
    try:
        down = pushes.run_once()
        assert down.state == "unavailable"
        assert down.waiting_cases == 3, "the marks remember what the hub took before it died"
        clock.advance(minutes=5)
        ids.append(service.start_case(**setup_kwargs()).case_id)  # the room works on while the hub is down
    finally:
        env.cluster.start()
    status = until_settled(pushes)
    assert status.state == "in_step", status
    assert hub_heads_as_local(hub_a, "A") == local_heads(service.store)
    assert hub_a.verify_hub() == []


def test_a_fork_is_refused_parked_and_reported_in_both_places(env, room_service, hub_a, tmp_path):
    service, clock = joined_room(room_service, "A")
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, until="prechecks")
    service.records.backup(tmp_path / "restored.sqlite3")  # an old backup of the room's file
    advance(service, clock, case_id, until="sign_in")
    config = room_config(env, "A")
    assert until_settled(pusher(service, config, clock)).state == "in_step"

    from checklist_app.service import ChecklistService
    from checklist_app.store import open_store

    restored = ChecklistService(open_store(tmp_path / "restored.sqlite3"), clock=clock, site=service.site)
    try:
        clock.advance(minutes=7)  # the restored copy goes on differently (other times), further
        advance(restored, clock, case_id, until="antibiotic")
        status = until_settled(pusher(restored, config, clock))
    finally:
        restored.close()
    assert case_id in status.parked and status.problem, status
    assert "differs from the one the hub already holds" in status.parked[case_id]
    assert "1 case refused by the hub" in status.text()
    assert [fork.case_id for fork in hub_a.forks()] == [case_id], "recorded on the hub for the department"
    assert hub_a.case_events(case_id) == service.store.events(case_id), "nothing was overwritten"


def test_a_room_offline_for_a_week_catches_up(env, room_service, hub_a):
    service, clock = joined_room(room_service, "A")
    online = threading.Event()
    config = room_config(env, "A")
    from checklist_app.department import StoreRecord, connect
    from checklist_app.sync.pusher import Pusher

    pushes = Pusher(
        "A", StoreRecord(service.store), lambda: connect(config if online.is_set() else refused_config("A")), clock
    )
    ids = []
    for day in range(7):
        clock.set(START + timedelta(days=day))
        ids.append(complete_case(service, clock))
        assert pushes.run_once().state == "unavailable"
    waiting = pushes.status
    assert waiting.waiting_cases == 7 and waiting.since == START
    online.set()
    status = until_settled(pushes)
    assert status.state == "in_step" and status.waiting_events == 0
    assert hub_heads_as_local(hub_a, "A") == local_heads(service.store)
    assert [c.case_id for c in hub_a.cases(room="A")] == sorted(ids, reverse=True)


@pytest.mark.parametrize("events_per_commit", [2000, 50], ids=["one-commit", "two-lanes"])
def test_one_refused_case_in_a_catch_up_commit_leaves_the_others_pushed(
    env, room_service, hub_a, hub_b, monkeypatch, events_per_commit
):
    from checklist_app.sync import pusher as pusher_module

    monkeypatch.setattr(pusher_module, "EVENTS_PER_COMMIT", events_per_commit)  # 50: a group per case, 2 lanes
    service, clock = joined_room(room_service, "A")
    ids = [complete_case(service, clock) for _ in range(3)]
    hub_b.push("B", ids[1], service.store.events(ids[1]))  # room B got there first with this id
    status = until_settled(pusher(service, room_config(env, "A"), clock))
    assert list(status.parked) == [ids[1]] and "room B" in status.parked[ids[1]]
    heads = hub_a.heads("A")
    assert sorted(heads) == [ids[0], ids[2]]
    assert heads[ids[2]][0] == len(service.store.events(ids[2]))


def test_a_consistent_local_rewrite_passes_the_files_own_check_but_not_the_anchor(env, room_service, hub_a):
    from dataclasses import replace

    from checklist_app.department import verify_against_hub
    from checklist_app.store import open_store
    from tests.hub.hub_helpers import rechained
    from tests.hub.test_hub_department import rewrite

    service, clock = joined_room(room_service, "A")
    ids = [complete_case(service, clock) for _ in range(3)]
    started = service.start_case(**setup_kwargs()).case_id  # a case in progress, pushed so far
    assert until_settled(pusher(service, room_config(env, "A"), clock)).state == "in_step"
    pushed = service.store.events(ids[0])
    path = service.store.path
    service.close()
    edited = replace(pushed[5], actor="Someone Else")
    rewrite(path, ids[0], [*pushed[:5], *rechained([edited, *pushed[6:]])])  # links and head fixed too
    rewrite(path, ids[1], [])  # a case deleted
    with open_store(path, readonly=True) as store:
        assert store.verify() == [], "the file's own check sees a sound chain"
        findings = {f.case_id: f for f in verify_against_hub(store, hub_a, "A")}
    assert findings[ids[0]].kind == "rewritten_locally" and findings[ids[0]].problem
    assert findings[ids[1]].kind == "deleted_locally"
    assert findings[ids[2]].kind == "in_step" and findings[started].kind == "in_step"
