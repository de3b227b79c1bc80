"""The new-case form with the hospital's patient list: pick, wristband, and what the record says."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QListWidget

from checklist_app.domain.wristband import MATCHED
from checklist_app.interfaces.patients import Identifier, InMemoryPatientList, PatientRecord
from checklist_app.ui.new_case import NewCaseForm
from tests.gui.test_newcase import fill

ANH = PatientRecord(Identifier("MRN-4711", "GENERAL"), "O'Brien", ("Nguyễn", "Thị", "Ánh"), date(1948, 7, 30), "female")


class Finder:
    """The hospital's list as the window's link offers it (an in-memory list: no network here)."""

    can_search_hospital = False

    def __init__(self) -> None:
        self.patients = InMemoryPatientList()
        self.patients.upsert(ANH, at=datetime(2026, 3, 2, tzinfo=UTC))

    def search(self, **criteria):
        return self.patients.search(**criteria)

    def source_of(self, record):
        return "adt"

    def search_hospital(self, **criteria):
        return [], "no FHIR patient search is configured"


@pytest.fixture
def form(qtbot, service):
    service.add_staff(name="Dr Ada Demo", role="operator")
    service.add_staff(name="Nurse Dana Demo", role="nurse")
    widget = NewCaseForm(service, patients=Finder())
    qtbot.addWidget(widget)
    return widget


def _pick(form, text: str) -> None:
    form.findChild(object, "newcase.patient_search").setText(text)
    form.findChild(QAbstractButton, "newcase.patient_search.go").click()
    results = form.findChild(QListWidget, "newcase.patient_results")
    assert results.count() == 1
    form.identity.picker._activated(results.item(0))


def _scan(form, text: str) -> None:
    form.identity.scan.setText(text)
    form.identity.read_wristband()


def _source(form) -> str:
    return form.findChild(QLabel, "newcase.identity_source").text()


def test_a_picked_patient_is_recorded_as_from_the_hospital_list(form, service):
    fill(form)  # everything, including a typed patient...
    _pick(form, "1948-07-30")  # ...then the patient picked from the list replaces it
    assert (form.patient_name.text(), form.mrn.text()) == ("Nguyễn Thị Ánh O'Brien", "MRN-4711")
    assert "hospital's admissions" in _source(form)
    form.start.click()
    [row] = service.list_cases()
    identity = service.state(row.id).events[0].values["identity"]
    assert identity == {"source": "hospital_list", "list": "adt", "wristband": ""}


def test_editing_a_picked_name_makes_the_identity_typed_by_hand(form, service):
    fill(form)
    _pick(form, "o'brien")
    form.patient_name.setText("Nguyen Thi Anh O'Brien")
    assert "typed by hand" in _source(form)
    form.start.click()
    [row] = service.list_cases()
    assert service.state(row.id).events[0].values["identity"]["source"] == "typed"


def test_the_wristband_fills_an_empty_form_from_the_list_and_is_recorded(form, service):
    _scan(form, "MRN-4711\r\n")
    assert (form.mrn.text(), form.dob.text()) == ("MRN-4711", "1948-07-30")
    assert "matches" in form.identity.message.text() and "Wristband scanned" in _source(form)
    fill(form)  # the nurse completes the rest (fill types the same patient)
    form.start.click()
    [row] = service.list_cases()
    assert service.state(row.id).events[0].values["identity"]["wristband"] == MATCHED


def test_another_patients_wristband_is_a_hard_stop_and_nothing_is_stored(form, service):
    fill(form)
    _scan(form, "MRN-4712")
    assert form.identity.message.text().startswith("STOP")
    form.start.click()
    assert service.list_cases() == []
    assert "STOP" in form.message.text() or "STOP" in form.identity.message.text()
