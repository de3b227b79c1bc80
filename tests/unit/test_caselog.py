"""The case log: snapshots that never change, stored hashes in them, what changed, one writer thread, the outbox."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.changes import Facet
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, open_store
from checklist_app.store.outbox import Outbound
from tests.conftest import STEP_VALUES, advance, enrol_team, mix_cement, setup_kwargs


def test_a_snapshot_handed_out_never_changes_afterwards(service, clock, started):
    before = service.state(started)
    count = len(before.events)
    clock.advance(minutes=1)
    after = service.record_step(case_id=started, step="patient_in_room")
    assert after is not before and len(after.events) == count + 1
    assert len(before.events) == count and before.instance("patient_in_room").status == "pending"
    with pytest.raises(RuntimeError, match="never changes"):
        before.apply(after.events[-1])


def test_corrections_and_retractions_leave_every_earlier_snapshot_as_it_was(service, clock, started):
    """The fold is copy-on-write: a later correction must not reach into a snapshot someone holds."""
    clock.advance(minutes=1)
    seq = mix_cement(service, started)
    mixed = service.state(started)
    clock.advance(minutes=1)
    corrected = service.correct(
        case_id=started, seq=seq, values={**mixed.entry_for(seq).values, "lot": "CM0002"}, reason="lot misread"
    )
    clock.advance(minutes=1)
    retracted = service.retract(case_id=started, seq=seq, reason="batch discarded")

    assert [b.lot for b in mixed.facts.batches] == ["CM0001"] and mixed.entry_for(seq).corrections == []
    assert [b.lot for b in corrected.facts.batches] == ["CM0002"] and corrected.entry_for(seq).retraction is None
    assert retracted.facts.batches == () and retracted.entry_for(seq).retracted
    # and a step instance: recorded, then retracted, the first snapshot still shows it done
    clock.advance(minutes=1)
    done = service.record_step(case_id=started, step="patient_in_room")
    entry_seq = done.instance("patient_in_room").entry.seq
    clock.advance(minutes=1)
    back = service.retract(case_id=started, seq=entry_seq, reason="recorded on the wrong case")
    assert done.instance("patient_in_room").status == "done"
    assert back.instance("patient_in_room").status == "pending"


def test_snapshots_hold_the_events_as_stored_with_their_hashes(service, clock, started):
    clock.advance(minutes=1)
    state = service.record_step(case_id=started, step="patient_in_room")
    stored = service.store.events(started)
    assert [e.hash for e in state.events] == [e.hash for e in stored] and all(
        stored_hash for stored_hash in [e.hash for e in stored]
    )
    assert state.instance("patient_in_room").entry.event.hash == stored[-1].hash


def test_each_use_case_says_what_it_appended_and_what_it_touched(service, clock, started):
    clock.advance(minutes=1)
    state = service.record_step(case_id=started, step="patient_in_room")
    changes = state.changes
    assert (changes.case_id, changes.first, changes.last) == (started, 2, 2)
    assert changes.touches(Facet.STEPS) and not changes.touches(Facet.STAFF) and not changes.status_changed
    handed = service.change_staff(case_id=started, role="nurse", name="Nurse Noor Demo")
    assert handed.changes.facets == frozenset({Facet.STAFF})


def test_the_last_step_changes_the_status_and_says_so(service, clock, started):
    advance(service, clock, started, "patient_out_of_room")
    clock.advance(minutes=1)
    state = service.record_step(case_id=started, step="patient_out_of_room")
    assert (state.changes.status_before, state.changes.status_after) == ("in_progress", "complete")
    assert state.changes.status_changed


def test_the_store_writes_only_from_the_thread_that_opened_it(service, started):
    failures: list[BaseException] = []

    def other_thread() -> None:
        try:
            service.record_step(case_id=started, step="patient_in_room")
        except BaseException as exc:  # noqa: BLE001 - the failure is what the test looks at
            failures.append(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert len(failures) == 1 and isinstance(failures[0], RuntimeError) and "thread" in str(failures[0])
    assert len(service.store.events(started)) == 1  # nothing written


def test_a_worker_reads_through_its_own_read_only_store_while_the_writer_writes(service, clock, started, db_path):
    seen: list[int] = []

    def worker() -> None:
        with open_store(db_path, readonly=True) as reader:
            seen.append(len(reader.events(started)))

    clock.advance(minutes=1)
    service.record_step(case_id=started, step="patient_in_room")
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [2]


def signature_messages(state, events):
    """The policy a site with interfaces configures: the operator's signature sends the record out."""
    return [
        Outbound(channel, kind, event.seq, f"{state.case_id}:{event.seq}:{kind}")
        for event in events
        if event.kind == ev.SIGNATURE and event.values.get("role") == "operator"
        for channel, kind in (("mllp", "mdm"), ("fhir", "fhir_bundle"))
    ]


def signed_case(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=case_id, complications="none", findings="Good fill", ebl_ml=5.0)
    return case_id


def test_the_operators_signature_enqueues_its_messages_in_the_same_transaction(db_path, clock):
    service = enrol_team(ChecklistService(open_store(db_path), clock=clock, outbox=signature_messages))
    try:
        case_id = signed_case(service, clock)
        assert service.records.outbox() == []  # nothing before the signature
        state = service.sign(
            case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id)
        )
        rows = service.records.outbox()
        assert [(r.channel, r.kind, r.upto_seq, r.status) for r in rows] == [
            ("mllp", "mdm", state.events[-1].seq, "waiting"),
            ("fhir", "fhir_bundle", state.events[-1].seq, "waiting"),
        ]
    finally:
        service.close()


def test_a_message_that_cannot_be_enqueued_leaves_no_event_either(db_path, clock):
    def always_the_same(state, events):
        return [Outbound("mllp", "mdm", 1, "the-same-key")] if events[-1].kind == ev.SIGNATURE else []

    service = enrol_team(ChecklistService(open_store(db_path), clock=clock, outbox=always_the_same))
    try:
        case_id = signed_case(service, clock)  # the nurse's signature enqueued "the-same-key" once
        before = len(service.store.events(case_id))
        with pytest.raises(StoreError, match="already in the outbox"):
            service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))
        assert len(service.store.events(case_id)) == before  # the signature rolled back with it
        assert not service.state(case_id).facts.locked
        assert len(service.records.outbox()) == 1
    finally:
        service.close()


def test_a_first_layout_database_is_upgraded_and_keeps_every_case(db_path, clock):
    service = ChecklistService(open_store(db_path), clock=clock)
    case_id = service.start_case(**setup_kwargs()).case_id
    clock.advance(minutes=1)
    service.record_step(case_id=case_id, step="patient_in_room", values=STEP_VALUES.get("patient_in_room"))
    service.close()
    with closing(sqlite3.connect(db_path)) as conn:  # back to the first layout, as an older program left it
        conn.execute("DROP TABLE outbox")
        conn.execute("DROP TABLE hub_marks")
        conn.execute("DROP TABLE staff_log")  # migration 3 (issue 12)
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    with open_store(db_path, readonly=True) as reader:  # read as it is, never changed
        assert reader.version == 1 and reader.outbox() == [] and len(reader.events(case_id)) == 2
    with open_store(db_path) as writer:
        assert writer.version == 3 and writer.schema_version == 3
        assert writer.verify() == [] and len(writer.events(case_id)) == 2
