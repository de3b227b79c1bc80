"""The room's hospital link as the composition roots start it: ADT listener into the stored list, FHIR
Patient search into the same list, the worker, a busy port, and logs without patient data."""

from __future__ import annotations

import logging
import socket
from datetime import date

import pytest

from checklist_app.interfaces.config import InterfaceConfig, MllpEndpoint
from checklist_app.interfaces.fhir_http import FhirEndpoint
from checklist_app.interfaces.link import HospitalLink
from checklist_app.interfaces.mllp import send
from checklist_app.interfaces.outbox_worker import AttemptQueue
from checklist_app.interfaces.policy import record_out
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.interfaces.conftest import NOW, adt, signers
from tests.note.note_cases import KYPHO, build_kyphoplasty

SEARCHSET = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "identifier": [
                    {
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                        "system": "urn:oid:2.16.840.1.113883.19.5",
                        "value": "F-1001",
                    }
                ],
                "name": [{"use": "official", "family": "山田", "given": ["太郎"]}],
                "gender": "male",
                "birthDate": "1951-05-06",
            }
        }
    ],
}


def _link(tmp_path, db_path, clock, config) -> HospitalLink:
    service = ChecklistService(open_store(db_path), clock=clock)
    site = service.site
    service.close()
    return HospitalLink(db_path, tmp_path / "patients.sqlite3", site=site, config=config, clock=clock, report=print)


def test_the_adt_feed_fills_the_stored_list_the_new_case_form_searches(tmp_path, db_path, clock):
    link = _link(tmp_path, db_path, clock, InterfaceConfig(adt_listen=("127.0.0.1", 0)))
    link.start()
    try:
        assert send("127.0.0.1", link.listener.port, adt("A04", mrn="ADT-1"), timeout=10).accepted
        [found] = link.search(birth_date=date(1948, 2, 29))
        assert found.mrn.value == "ADT-1" and link.worker is None  # nothing to send: no worker
    finally:
        link.stop()


def test_a_fhir_patient_search_adds_what_it_finds_to_the_list(tmp_path, db_path, clock, fhir_server):
    config = InterfaceConfig(fhir=FhirEndpoint(fhir_server.url, timeout=5), patient_search=True)
    link = _link(tmp_path, db_path, clock, config)
    fhir_server.responses.append((200, SEARCHSET))
    try:
        found, problem = link.search_hospital(name="山田")
        assert problem == "" and [r.mrn.value for r in found] == ["F-1001"]
        assert [r.family for r in link.search(mrn="F-1001")] == ["山田"]
        method, path, _body = fhir_server.requests[0]
        assert method == "GET" and path.startswith("/fhir/Patient?")

        fhir_server.responses.append((503, None))
        found, problem = link.search_hospital(name="山田")
        assert found == [] and problem == "the hospital's patient search did not answer (server error HTTP 503)"
    finally:
        link.stop()


def test_without_a_patient_search_configured_the_hospital_is_not_asked(tmp_path, db_path, clock):
    link = _link(tmp_path, db_path, clock, InterfaceConfig())
    assert link.search_hospital(name="x") == ([], "no FHIR patient search is configured")
    assert not link.can_search_hospital
    link.stop()


def test_a_busy_adt_port_is_an_oserror_and_the_worker_still_runs(tmp_path, db_path, clock):
    busy = socket.create_server(("127.0.0.1", 0))
    config = InterfaceConfig(adt_listen=("127.0.0.1", busy.getsockname()[1]), mdm=MllpEndpoint("127.0.0.1", 9))
    link = _link(tmp_path, db_path, clock, config)
    try:
        with pytest.raises(OSError):
            link.start()
        assert link.worker is not None and link.worker._thread is not None  # the record still goes out
    finally:
        link.stop()
        busy.close()


def test_the_worker_logs_ids_and_outcomes_never_the_patient(db_path, clock, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    seen, listener = receiver
    seen.answer = None
    service = signers(ChecklistService(open_store(db_path), clock=clock, outbox=record_out(("mllp",))))
    try:
        build_kyphoplasty(service, clock, addendum=False)
        config = InterfaceConfig(mdm=MllpEndpoint("127.0.0.1", listener.port, 5))
        from checklist_app.interfaces.outbox_worker import OutboxWorker

        results = AttemptQueue()
        worker = OutboxWorker(db_path, site=service.site, config=config, clock=clock, report=results)
        worker.start()
        assert worker.wait_for_pass(worker.wake(), timeout=30)
        worker.stop()
        assert results.apply(service.store) == 1
        assert "outbox message 1 (mllp, case" in caplog.text and "accepted" in caplog.text
        for word in (KYPHO["patient"], KYPHO["mrn"], "1948-02-29", "19480229"):
            assert word not in caplog.text
    finally:
        service.close()
    assert NOW  # the fixtures' clock


def test_the_list_remembers_which_feed_each_patient_came_from(tmp_path, db_path, clock, fhir_server):
    config = InterfaceConfig(
        adt_listen=("127.0.0.1", 0), fhir=FhirEndpoint(fhir_server.url, timeout=5), patient_search=True
    )
    link = _link(tmp_path, db_path, clock, config)
    link.start()
    try:
        assert send("127.0.0.1", link.listener.port, adt("A01", mrn="ADT-1"), timeout=10).accepted
        fhir_server.responses.append((200, SEARCHSET))
        link.search_hospital(mrn="F-1001")
        sources = {r.mrn.value: link.source_of(r) for r in link.search()}
        assert sources == {"ADT-1": "adt", "F-1001": "fhir"}
    finally:
        link.stop()
