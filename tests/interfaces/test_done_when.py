"""Issue 14, "Done when": a patient admitted by an ADT message is picked in the window, identified by
wristband at the time-out, and the signed case arrives as an MDM and a FHIR bundle at the test
endpoints, every fault leaving the message waiting, never lost or duplicated. Real MLLP on both
ends, a local HTTP server answering like FHIR, the real window (offscreen), the injected clock."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QListWidget

from checklist_app.domain.wristband import MATCHED
from checklist_app.interfaces.config import Backoff, InterfaceConfig, MllpEndpoint
from checklist_app.interfaces.fhir_http import FhirEndpoint
from checklist_app.interfaces.mllp import send
from checklist_app.interfaces.policy import record_out
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.ui.hospital import attach_hospital
from checklist_app.ui.window import build_window
from tests.conftest import COVERAGE, advance
from tests.gui.window_helpers import click, fill, find, select_row
from tests.interfaces.conftest import adt, signers
from tests.note.note_cases import finish

TRANSACTION_RESPONSE = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}
MRN, WRONG = "MRN7788", "MRN7789"


@pytest.fixture
def room(qtbot, tmp_path, db_path, clock, receiver, fhir_server):
    """The room window over a service that sends signed records, with the hospital link attached."""
    _seen, listener = receiver
    config = InterfaceConfig(
        adt_listen=("127.0.0.1", 0),
        mdm=MllpEndpoint("127.0.0.1", listener.port, 5.0),
        fhir=FhirEndpoint(fhir_server.url, timeout=5.0),
        backoff=Backoff(30, 600),
    )
    service = signers(ChecklistService(open_store(db_path), clock=clock, outbox=record_out(config.channels)))
    window = build_window(service, QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    bridge = attach_hospital(window, service, db_path, config, clock)
    window.show()
    qtbot.waitExposed(window)
    yield window, service, bridge
    bridge.stop()
    service.close()


def _set_up_rest(form) -> None:
    """What the hospital list does not know: weight, procedure, levels, indication, team, screen."""
    form.weight.setText("58")
    form.procedure.buttons["kyphoplasty"].click()
    form.levels_text.setText("T12")
    form.findChild(QAbstractButton, "newcase.levels_apply").click()
    form.indication.buttons["osteoporotic"].click()
    form.team["operator"].setCurrentIndex(form.team["operator"].findText("Dr Ada Demo"))
    form.team["nurse"].setCurrentIndex(form.team["nurse"].findText("Nurse Dana Demo"))
    form.findChild(QAbstractButton, "newcase.screen.all_no").click()
    form.coverage_numbers["pain_score"].setText(str(COVERAGE["pain_score"]))
    form.coverage_numbers["height_loss_pct"].setText(str(COVERAGE["height_loss_pct"]))
    for key in ("neuro_exam", "imaging", "conservative_care"):
        form.coverage_choices[key].buttons[COVERAGE[key]].click()


def _written(qtbot, service, expected: dict[str, tuple[str, int]], worker=None) -> None:
    """Wait (processing Qt events, never sleeping) until the outbox holds exactly these (status, attempts)."""

    def seen() -> dict[str, tuple[str, int]]:
        # Deliver the worker's queued poke even after an earlier test ran (and quit) the application's
        # event loop, which leaves Qt's wait in this process skipping posted events (tests only).
        QCoreApplication.sendPostedEvents()
        return {r.channel: (r.status, r.attempts) for r in service.records.outbox()}

    try:
        qtbot.waitUntil(lambda: seen() == expected, timeout=20000)
    except qtbot.TimeoutError:
        state = (worker.passes, worker.last_problem, worker._held) if worker else None
        raise AssertionError(f"outbox {service.records.outbox()} worker {state}") from None


def test_admitted_picked_identified_by_wristband_signed_and_delivered_once(
    qtbot, room, clock, receiver, fhir_server, tmp_path
):
    window, service, bridge = room
    seen, _listener = receiver

    # 1. The hospital admits the patient (HL7 ADT^A01 over MLLP): the room answers AA once it is stored.
    assert send("127.0.0.1", bridge.link.listener.port, adt("A01", mrn=MRN), timeout=10).accepted

    # 2. The nurse finds and picks the patient in the new-case form: typed nothing of their identity.
    window.show_new_case()
    form = window.new_case_form
    qtbot.keyClicks(find(form, "newcase.patient_search"), "TESTPERSON")
    click(qtbot, form, "newcase.patient_search.go")
    results = find(form, "newcase.patient_results", QListWidget)
    assert results.count() == 1 and MRN in results.item(0).text()
    row = results.visualItemRect(results.item(0)).center()
    qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert (form.mrn.text(), form.dob.text()) == (MRN, "1948-02-29")
    assert "from the hospital's admissions" in find(form, "newcase.identity_source", QLabel).text()
    _set_up_rest(form)
    window.grab().save(str(tmp_path / "newcase-picked.png"))
    click(qtbot, form, "newcase.start")
    qtbot.waitUntil(lambda: bool(service.list_cases()))
    case_id = service.list_cases()[0].id
    identity = service.state(case_id).events[0].values["identity"]
    assert identity == {"source": "hospital_list", "list": "adt", "wristband": ""}
    if window.new_case_form is not None and window.new_case_form.isVisible():  # warnings to acknowledge
        click(qtbot, window.new_case_form, "newcase.warnings.later")
    window.open_case(case_id)

    # 3. The time-out: another patient's wristband is a hard stop; the patient's own is recorded.
    advance(service, clock, case_id, until="time_out")
    window.case_screen.open_case(case_id)
    select_row(qtbot, window, "time_out")
    fill(qtbot, window, {k: True for k in ("patient", "procedure", "levels_sides_imaging", "position")})
    fill(
        qtbot,
        window,
        {k: True for k in ("antibiotic_timing", "critical_events", "imaging_displayed", "implants_available")},
    )
    scan = find(window, "wristband.scan")
    qtbot.keyClicks(scan, WRONG)
    qtbot.keyClick(scan, "\r")
    assert "STOP" in find(window, "wristband.message", QLabel).text()
    window.grab().save(str(tmp_path / "timeout-wrong-wristband.png"))
    click(qtbot, window, "primary_action")
    assert service.state(case_id).instance("time_out", None, None).status == "pending"
    qtbot.keyClicks(scan, MRN)
    qtbot.keyClick(scan, "\r")
    assert "matches" in find(window, "wristband.message", QLabel).text()
    click(qtbot, window, "primary_action")
    time_out = [e for e in service.state(case_id).events if e.step == "time_out"][-1]
    assert time_out.values["wristband"] == MATCHED

    # 4. Finish and sign; the FHIR server is down at first (503), then answers.
    advance(service, clock, case_id)
    fhir_server.responses += [(503, None), (200, TRANSACTION_RESPONSE)]
    findings = {"findings": "Fracture augmented", "complications": "none", "ebl_ml": 5.0}
    finish(service, clock, case_id, findings={**findings, "condition": "Stable", "disposition": "Ward"})
    window.case_screen.open_case(case_id)
    bridge.case_changed(type("C", (), {"status_after": "signed"})())  # what the window's channel does on signing
    _written(qtbot, service, {"mllp": ("sent", 1), "fhir": ("waiting", 1)}, bridge.link.worker)
    assert "waiting" in find(window, "hospital_status", QLabel).text()

    clock.advance(seconds=31)  # the backoff has passed: the worker's next look sends it
    bridge.link.worker.wake()
    _written(qtbot, service, {"mllp": ("sent", 1), "fhir": ("sent", 2)})
    bridge.status.refresh()
    assert find(window, "hospital_status", QLabel).text() == "EHR: all sent"
    window.grab().save(str(tmp_path / "window-all-sent.png"))

    # 5. Exactly one MDM; two identical FHIR posts (the first answered 503); nothing more after that.
    clock.advance(seconds=3600)
    assert bridge.link.worker.wait_for_pass(bridge.link.worker.wake(), timeout=20)
    [mdm] = seen.seen
    assert "MDM^T02" in mdm and f"|{MRN}^^^" in mdm and f"|{case_id}.1|" in mdm
    posts = [body for method, _path, body in fhir_server.requests if method == "POST"]
    assert len(posts) == 2 and posts[0] == posts[1]
    bundle = json.loads(posts[0])
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == MRN
