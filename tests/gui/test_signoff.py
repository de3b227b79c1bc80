"""Sign-off: findings, the nurse then the operator (PIN), then read-only with addenda."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel

from checklist_app.domain import events as ev
from tests.conftest import advance
from tests.gui.test_newcase import assert_named_and_big

OPERATOR, NURSE, PIN = "Dr Ada Demo", "Nurse Dana Demo", "2468"


@pytest.fixture
def panel(qtbot, service):
    from checklist_app.ui.signoff import SignOffPanel

    service.add_staff(name=OPERATOR, role="operator", pin=PIN)
    service.add_staff(name=NURSE, role="nurse")
    widget = SignOffPanel(service)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def completed(service, clock, started):
    """Every step of the case recorded: ready for the signatures."""
    advance(service, clock, started)
    assert service.state(started).current is None
    return started


def shown(panel, object_name: str) -> str:
    label = panel.findChild(object, object_name)
    return label.text() if label.isVisibleTo(panel) else ""


def save_findings(panel) -> None:
    panel.findings.setPlainText("Wedge fracture T12 and L1, height partly restored.")
    panel.complications.setPlainText("None")
    panel.ebl.setText("5")
    panel.disposition.setCurrentText("Day-case discharge")
    panel.save.click()


def test_every_control_is_named_and_big_enough(panel, started):
    panel.set_case(started)
    assert_named_and_big(panel)


def test_panel_says_why_the_nurse_cannot_sign_yet(panel, service, started):
    panel.set_case(started)
    assert "step(s) still pending, first: Patient in room" in shown(panel, "signoff.nurse.message")
    assert "WHO check not completed: WHO Sign In" in shown(panel, "signoff.nurse.message")
    panel.rows["nurse"].sign.click()
    assert "WHO check 'WHO Sign In' is not completed" in shown(panel, "signoff.nurse.message")
    assert service.state(started).signatures == []


def test_unacknowledged_warnings_are_named_before_signing(panel, service, clock):
    from tests.conftest import setup_kwargs

    case_id = service.start_case(**setup_kwargs(screen={"neuro_deficit": True})).case_id
    advance(service, clock, case_id)
    panel.set_case(case_id)
    assert "1 warning(s) not acknowledged: Neurological deficit" in shown(panel, "signoff.nurse.message")
    panel.rows["nurse"].sign.click()
    assert "acknowledge every warning" in shown(panel, "signoff.nurse.message")


def test_findings_are_saved_and_read_back(panel, service, completed, qtbot):
    panel.set_case(completed)
    with qtbot.waitSignal(panel.events.case_changed):
        save_findings(panel)
    findings = service.state(completed).findings
    assert findings.values["ebl_ml"] == 5.0 and findings.actor == OPERATOR
    assert findings.values["postop_diagnosis"] == "Osteoporotic compression fracture"
    panel.set_case(completed)
    assert panel.ebl.text() == "5" and "Wedge fracture" in panel.findings.toPlainText()


def test_blood_loss_that_is_not_a_number_is_named(panel, service, completed):
    panel.set_case(completed)
    panel.ebl.setText("a lot")
    panel.save.click()
    assert shown(panel, "signoff.ebl_ml.error").startswith("Estimated blood loss")
    assert service.state(completed).findings is None


def test_nurse_signs_first_then_the_operator_with_the_pin(panel, service, completed, qtbot):
    panel.set_case(completed)
    nurse, operator = panel.rows["nurse"], panel.rows["operator"]
    assert nurse.who.text() == NURSE and operator.who.text() == OPERATOR
    assert not nurse.pin_cell.isVisibleTo(nurse)  # no PIN on the staff list for the nurse
    assert operator.pin_cell.isVisibleTo(operator)
    assert "The nurse signs first." in shown(panel, "signoff.operator.message")
    operator.pin.setText(PIN)
    operator.sign.click()
    assert "nurse signs the record before the operator" in shown(panel, "signoff.operator.message")
    assert operator.pin.text() == ""  # never kept
    with qtbot.waitSignal(panel.events.case_changed):
        nurse.sign.click()
    assert f"Signed by {NURSE}" in shown(panel, "signoff.nurse.signature")
    save_findings(panel)
    operator.pin.setText("0000")
    operator.sign.click()
    assert "PIN is not correct" in shown(panel, "signoff.operator.pin.error")
    assert service.state(completed).facts.signature("operator") is None
    operator.pin.setText(PIN)
    with qtbot.waitSignal(panel.events.case_changed):
        operator.sign.click()
    state = service.state(completed)
    assert [s.values["role"] for s in state.signatures] == ["nurse", "operator"]
    suggested = service.suggested_codes(completed)
    assert state.facts.signature("operator").values == {
        "name": OPERATOR,
        "role": "operator",
        "meaning": "author",  # SPEC §6: the operator signs as the author of the operative report
        "codes": suggested,  # confirmed as offered (the fields were prefilled with the suggestion)
    }
    assert state.facts.locked


def test_after_signing_the_case_is_read_only_and_changes_are_addenda(panel, service, completed, qtbot):
    panel.set_case(completed)
    panel.rows["nurse"].sign.click()
    save_findings(panel)
    panel.rows["operator"].pin.setText(PIN)
    panel.rows["operator"].sign.click()
    # A locked page looks locked, all of it: no input of the findings is left on screen, only the record.
    for widget in (panel.findings, panel.complications, panel.ebl, panel.condition, panel.disposition, panel.postop):
        assert not widget.isVisibleTo(panel)
    assert not panel.save.isVisibleTo(panel)
    record = panel.findChild(QLabel, "signoff.findings.record")
    assert record.isVisibleTo(panel) and "Wedge fracture T12 and L1" in record.text()
    assert "Day-case discharge" in record.text() and "5 mL" in record.text()
    assert panel.addendum.isVisibleTo(panel)
    assert panel.addendum_author.text() == OPERATOR
    panel.addendum_text.setPlainText("Pathology: no malignancy.")
    panel.findChild(QAbstractButton, "signoff.addendum.add").click()
    assert shown(panel, "signoff.addendum.reason.error").startswith("Reason")
    panel.addendum_reason.setText("Late pathology result")
    with qtbot.waitSignal(panel.events.case_changed):
        panel.findChild(QAbstractButton, "signoff.addendum.add").click()
    last = service.store.events(completed)[-1]
    assert last.kind == ev.ADDENDUM and last.reason == "Late pathology result" and last.actor == OPERATOR
    assert "Pathology: no malignancy." in panel.addenda.lines()[0]
    assert service.state(completed).facts.status == "amended"


def test_text_areas_follow_the_window_theme(panel, started, qtbot):
    from checklist_app.ui.theme import DARK, LIGHT, apply_theme

    panel.set_case(started)
    apply_theme(panel, "dark")
    qtbot.waitUntil(lambda: DARK.input_bg in panel.findings.styleSheet())
    apply_theme(panel, "light")
    qtbot.waitUntil(lambda: LIGHT.input_bg in panel.addendum_text.styleSheet())


def test_a_long_post_operative_diagnosis_shows_its_start(panel, service, completed):
    long_dx = "Osteoporotic compression fractures of T12 and L1 with partial height loss and no retropulsion M80.08XA"
    service.record_findings(case_id=completed, complications="none", findings="x", ebl_ml=5.0, postop_diagnosis=long_dx)
    panel.set_case(completed)
    assert panel.postop.cursorPosition() == 0
