"""The durable outbox: enqueued with the signature, sent by a background worker over real MLLP and HTTP,
waiting after every fault, parked when refused, never lost and never sent twice as a new document."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from checklist_app.interfaces import Outcome
from checklist_app.interfaces.config import Backoff, InterfaceConfig, MllpEndpoint
from checklist_app.interfaces.errors import HL7Error
from checklist_app.interfaces.fhir_http import FhirEndpoint
from checklist_app.interfaces.outbox_worker import AttemptQueue, OutboxWorker
from checklist_app.interfaces.policy import record_out
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, open_store
from tests.interfaces.conftest import signers
from tests.note.note_cases import KYPHO, build_kyphoplasty

TRANSACTION_RESPONSE = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}


@pytest.fixture
def sending(db_path, clock) -> Iterator[ChecklistService]:
    """A room whose signatures send the record out on both channels."""
    svc = signers(ChecklistService(open_store(db_path), clock=clock, outbox=record_out(("mllp", "fhir"))))
    yield svc
    svc.close()


class Room:
    """The writer (this test's thread), the worker on its own thread, and the hand-over between them."""

    def __init__(self, service, clock, config, db_path) -> None:
        self.service, self.clock = service, clock
        self.results = AttemptQueue()
        self.worker = OutboxWorker(db_path, site=service.site, config=config, clock=clock, report=self.results)

    def pass_(self) -> int:
        """Wake the worker, wait for one full pass, write what it reported; how many attempts."""
        assert self.worker.wait_for_pass(self.worker.wake(), timeout=30)
        return self.results.apply(self.service.store)

    def rows(self):
        return {(r.channel, r.dedupe_key.rsplit(":", 1)[-1]): r for r in self.service.records.outbox()}


def _config(receiver_port: int, fhir_url: str, *, timeout: float = 5.0) -> InterfaceConfig:
    return InterfaceConfig(
        mdm=MllpEndpoint("127.0.0.1", receiver_port, timeout),
        fhir=FhirEndpoint(fhir_url, timeout=timeout),
        backoff=Backoff(30, 600),
    )


@pytest.fixture
def room(sending, clock, db_path, receiver, fhir_server) -> Iterator[Room]:
    seen, listener = receiver
    room = Room(sending, clock, _config(listener.port, fhir_server.url), db_path)
    room.worker.start()
    yield room
    room.worker.stop()


def test_the_operator_signature_and_each_addendum_enqueue_the_record_in_the_same_transaction(sending, clock):
    case_id = build_kyphoplasty(sending, clock, addendum=False)
    rows = sending.records.outbox()
    assert [(r.channel, r.kind, r.dedupe_key, r.status) for r in rows] == [
        ("mllp", "mdm", f"mllp:mdm:{case_id}:v1", "waiting"),
        ("fhir", "fhir_bundle", f"fhir:fhir_bundle:{case_id}:v1", "waiting"),
    ]
    signature = sending.state(case_id).events[-1]
    assert signature.kind == "signature" and {r.upto_seq for r in rows} == {signature.seq}

    sending.add_addendum(case_id=case_id, author="Dr Ada Demo", text="Late finding.", reason="Seen on review")
    assert [r.dedupe_key.rsplit(":", 1)[-1] for r in sending.records.outbox()] == ["v1", "v1", "v2", "v2"]


def test_a_room_without_interfaces_enqueues_nothing(service, clock):
    build_kyphoplasty(signers(service), clock)
    assert service.records.outbox() == []


def test_a_failed_signature_write_leaves_no_message_behind(sending, clock, db_path):
    case_id = build_kyphoplasty(sending, clock, addendum=False)
    with pytest.raises(StoreError):  # the same message again: refused, the whole transaction rolled back
        from checklist_app.store.outbox import Outbound

        sending.store.append(case_id, [], outbox=[Outbound("mllp", "mdm", 1, f"mllp:mdm:{case_id}:v1")])
    assert len(sending.records.outbox()) == 2


def test_the_signed_case_arrives_once_as_an_mdm_and_a_fhir_transaction(room, receiver, fhir_server, clock):
    seen, _listener = receiver
    fhir_server.responses.append((200, TRANSACTION_RESPONSE))
    case_id = build_kyphoplasty(room.service, clock, addendum=False)

    assert room.pass_() == 2
    assert {key: r.status for key, r in room.rows().items()} == {("mllp", "v1"): "sent", ("fhir", "v1"): "sent"}
    [mdm] = seen.seen
    assert "MDM^T02^MDM_T02" in mdm and f"|{case_id}.1|" in mdm and KYPHO["mrn"] in mdm
    [(method, _path, body)] = fhir_server.requests
    assert method == "POST" and json.loads(body)["type"] == "transaction"

    assert room.pass_() == 0  # acknowledged: never sent again
    assert len(seen.seen) == 1 and len(fhir_server.requests) == 1


def test_server_errors_and_timeouts_leave_the_bundle_waiting_with_backoff_until_a_2xx(
    sending, clock, db_path, fhir_server, receiver
):
    seen, listener = receiver
    room = Room(sending, clock, _config(listener.port, fhir_server.url, timeout=0.5), db_path)
    room.worker.transports.pop("mllp")
    room.worker.start()
    try:
        build_kyphoplasty(sending, clock, addendum=False)
        fhir_server.responses.append((503, {"resourceType": "OperationOutcome", "issue": []}))
        assert room.pass_() == 1
        row = room.rows()[("fhir", "v1")]
        assert (row.status, row.attempts, row.last_error) == ("waiting", 1, "server error HTTP 503")

        assert room.pass_() == 0  # not due yet: the clock has not moved
        clock.advance(seconds=31)
        fhir_server.hold = True  # the server never answers in time
        assert room.pass_() == 1
        row = room.rows()[("fhir", "v1")]
        assert (row.status, row.attempts, row.last_error) == ("waiting", 2, "no answer within 0.5 s")

        clock.advance(seconds=59)
        assert room.pass_() == 0  # the second wait is twice as long
        fhir_server.hold = False
        fhir_server.release.set()
        fhir_server.responses.append((201, TRANSACTION_RESPONSE))
        clock.advance(seconds=2)
        assert room.pass_() == 1
        assert room.rows()[("fhir", "v1")].status == "sent"
        bodies = {body for _m, _p, body in fhir_server.requests}
        assert len(fhir_server.requests) == 3 and len(bodies) == 1  # every attempt the same bytes
    finally:
        room.worker.stop()


def test_a_4xx_parks_the_bundle_with_the_reason_and_the_patient_withheld(room, fhir_server, receiver, clock):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": f"bad patient {KYPHO['mrn']}"}],
    }
    fhir_server.responses.append((422, outcome))
    build_kyphoplasty(room.service, clock, addendum=False)
    room.pass_()
    row = room.rows()[("fhir", "v1")]
    assert row.status == "parked" and "invalid" in row.last_error and KYPHO["mrn"] not in row.last_error

    clock.advance(seconds=3600)
    assert room.pass_() == 0  # parked: waits for a person
    room.service.store.messages.retry(row.id)
    fhir_server.responses.append((200, TRANSACTION_RESPONSE))
    assert room.pass_() == 1
    assert room.rows()[("fhir", "v1")].status == "sent"


def test_an_mdm_answered_ae_is_parked_and_sent_again_only_when_it_retries(room, receiver, fhir_server, clock):
    seen, _listener = receiver
    seen.answer = HL7Error("document type not accepted", ack_code="AE")
    fhir_server.responses.append((200, TRANSACTION_RESPONSE))
    build_kyphoplasty(room.service, clock, addendum=False)
    room.pass_()
    row = room.rows()[("mllp", "v1")]
    assert (row.status, row.last_error) == ("parked", "document type not accepted")

    seen.answer = None
    room.service.store.messages.retry(row.id)
    room.pass_()
    assert room.rows()[("mllp", "v1")].status == "sent"
    assert len(seen.seen) == 2 and seen.seen[0] == seen.seen[1]  # the same message and control id: not a new document


def test_a_sent_message_cannot_be_retried(room, receiver, fhir_server, clock):
    fhir_server.responses.append((200, TRANSACTION_RESPONSE))
    build_kyphoplasty(room.service, clock, addendum=False)
    room.pass_()
    with pytest.raises(StoreError, match="acknowledged"):
        room.service.store.messages.retry(room.rows()[("mllp", "v1")].id)


class DroppingServer:
    """An MLLP peer that reads the message and closes the connection without an ACK (or refuses, when down)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while not data.endswith(b"\x1c\x0d"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.received += 1
                conn.sendall(b"\x0bMSH|^~\\&|EHR")  # half an ACK, then the connection drops

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() so the port stops listening
        self.sock.close()
        self.thread.join(5)


def test_a_connection_dropped_mid_ack_or_refused_leaves_the_mdm_waiting(sending, clock, db_path, fhir_server):
    dropping = DroppingServer()
    room = Room(sending, clock, _config(dropping.port, fhir_server.url), db_path)
    room.worker.transports.pop("fhir")
    room.worker.start()
    try:
        build_kyphoplasty(sending, clock, addendum=False)
        room.pass_()
        row = room.rows()[("mllp", "v1")]
        assert (row.status, row.attempts) == ("waiting", 1)
        assert row.last_error == "connection closed before the ACK was complete" and dropping.received == 1

        dropping.close()  # now nobody listens: refused
        clock.advance(seconds=31)
        room.pass_()
        row = room.rows()[("mllp", "v1")]
        assert (row.status, row.attempts) == ("waiting", 2) and row.last_error.startswith("network error")
    finally:
        room.worker.stop()
        dropping.close()


def test_a_restart_after_an_unrecorded_ack_resends_the_identical_message(
    sending, clock, db_path, receiver, fhir_server
):
    """The receiver ACKed but the room stopped before writing it: the resend is byte-identical."""
    seen, listener = receiver
    fhir_server.responses += [(200, TRANSACTION_RESPONSE)] * 2
    room = Room(sending, clock, _config(listener.port, fhir_server.url), db_path)
    room.worker.start()
    build_kyphoplasty(sending, clock, addendum=False)
    assert room.worker.wait_for_pass(room.worker.wake(), timeout=30)
    room.worker.stop()  # the attempts were never written: the room "crashed"
    assert {r.status for r in sending.records.outbox()} == {"waiting"}

    again = Room(sending, clock, _config(listener.port, fhir_server.url), db_path)
    again.worker.start()
    try:
        assert again.pass_() == 2
        assert {r.status for r in sending.records.outbox()} == {"sent"}
        assert len(seen.seen) == 2 and seen.seen[0] == seen.seen[1]
        assert fhir_server.requests[0][2] == fhir_server.requests[1][2]
    finally:
        again.worker.stop()


def test_the_addendum_goes_out_as_t06_version_2_pointing_at_the_original(room, receiver, fhir_server, clock):
    seen, _listener = receiver
    fhir_server.responses += [(200, TRANSACTION_RESPONSE)] * 2
    case_id = build_kyphoplasty(room.service, clock)  # signed and amended
    assert room.pass_() == 2  # the originals first...
    assert room.pass_() == 2  # ...then the addenda, once the originals are acknowledged
    assert all(r.status == "sent" for r in room.service.records.outbox())
    t02, t06 = seen.seen
    assert "MDM^T02" in t02 and "MDM^T06" in t06 and f"{case_id}-v1" in t06 and f"|{case_id}.2|" in t06


def test_an_outcome_value_is_what_the_store_records(room):
    assert {o.value for o in Outcome} == {"accepted", "rejected", "transient"}


def test_an_addendum_waits_behind_its_parked_original_on_the_same_channel(room, receiver, fhir_server, clock):
    seen, _listener = receiver
    seen.answer = HL7Error("not now", ack_code="AE")
    fhir_server.responses += [(200, TRANSACTION_RESPONSE)] * 2
    case_id = build_kyphoplasty(room.service, clock)  # v1 and the addendum's v2 both queued
    room.pass_()
    room.pass_()
    statuses = {key: r.status for key, r in room.rows().items()}
    assert statuses == {
        ("mllp", "v1"): "parked",
        ("mllp", "v2"): "waiting",
        ("fhir", "v1"): "sent",
        ("fhir", "v2"): "sent",
    }
    assert len(seen.seen) == 1  # the T06 was never sent before its T02

    seen.answer = None
    room.service.store.messages.retry(room.rows()[("mllp", "v1")].id)
    room.pass_()
    room.pass_()
    assert {r.status for r in room.service.records.outbox()} == {"sent"}
    assert ["MDM^T02" in m for m in seen.seen] == [True, True, False] and f"|{case_id}.2|" in seen.seen[2]
