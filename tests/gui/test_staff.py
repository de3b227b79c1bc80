"""Handover (a logged staff change) and the staff list editor (PINs stored only as salted hashes)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel

from checklist_app.domain import events as ev
from checklist_app.domain.pins import verify_pin
from checklist_app.ui.staff import HandoverPanel
from tests.gui.test_newcase import assert_named_and_big


@pytest.fixture
def panel(qtbot, service, started):
    widget = HandoverPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(started)
    return widget


def click(panel, object_name: str) -> None:
    panel.findChild(QAbstractButton, object_name).click()


def shown(panel, object_name: str) -> str:
    label = panel.findChild(object, object_name)
    return label.text() if label.isVisibleTo(panel) else ""


def test_every_control_is_named_and_big_enough(panel):
    assert_named_and_big(panel)


def test_panel_shows_who_holds_each_role(panel):
    assert "Circulating nurse: Nurse Dana Demo" in panel.current.text()
    assert "Operator: Dr Ada Demo" in panel.current.text()


def test_nurse_handover_is_recorded_and_later_entries_carry_the_new_name(panel, service, started, qtbot):
    click(panel, "handover.role.nurse")
    panel.new_name.set_text("Nurse Eve Relief")
    panel.reason.setCurrentText("break relief")
    with qtbot.waitSignal(panel.events.case_changed) as changed:
        click(panel, "handover.confirm")
    assert changed.args[0].case_id == started
    event = service.store.events(started)[-1]
    assert event.kind == ev.STAFF_CHANGE and event.reason == "break relief"
    assert event.values == {"role": "nurse", "name": "Nurse Eve Relief", "previous": "Nurse Dana Demo"}
    assert service.state(started).current_nurse == "Nurse Eve Relief"
    assert "Circulating nurse: Nurse Eve Relief" in panel.current.text()
    state = service.record_step(case_id=started, step="patient_in_room")
    assert state.events[-1].actor == "Nurse Eve Relief"


def test_operator_handover_names_come_from_the_staff_list(panel, service, started):
    service.add_staff(name="Dr Kim Late", role="operator")
    click(panel, "handover.role.operator")
    assert panel.new_name.findText("Dr Kim Late") >= 0
    panel.new_name.setCurrentIndex(panel.new_name.findText("Dr Kim Late"))
    click(panel, "handover.confirm")
    assert "Operator: Dr Kim Late" in panel.current.text()


def test_handover_without_a_name_is_refused_by_the_name_field(panel, service, started):
    before = len(service.store.events(started))
    click(panel, "handover.confirm")
    assert shown(panel, "handover.name.error").startswith("New person")
    assert len(service.store.events(started)) == before


def test_staff_member_with_a_pin_is_stored_as_a_hash(panel, service, qtbot):
    panel.staff_name.setText("Dr Ola Nordmann")
    click(panel, "staff.role.operator")
    panel.staff_pin.setText("97531")
    with qtbot.waitSignal(panel.staff_list_changed):
        click(panel, "staff.add")
    assert panel.staff_pin.text() == "" and panel.staff_name.text() == ""
    person = next(p for p in service.staff("operator") if p["name"] == "Dr Ola Nordmann")
    assert person["has_pin"]
    stored = service.store.staff.staff_pin_hash(person["id"])
    assert "97531" not in stored and verify_pin("97531", stored)
    assert any("Dr Ola Nordmann" in line for line in panel.staff_list.lines())


def test_bad_pin_and_missing_role_are_named_and_nothing_is_added(panel, service):
    panel.staff_name.setText("Nurse Short Pin")
    click(panel, "staff.add")
    assert "choose the role" in shown(panel, "staff.role.error")
    click(panel, "staff.role.nurse")
    panel.staff_pin.setText("12")
    click(panel, "staff.add")
    assert "4 to 12 digits" in shown(panel, "staff.pin.error")
    assert service.staff() == []


def test_a_name_already_on_the_list_is_not_saved(panel, service):
    service.add_staff(name="Nurse Dup", role="nurse")
    panel.staff_name.setText("Nurse Dup")
    click(panel, "staff.role.nurse")
    click(panel, "staff.add")
    shown = [label.text() for label in panel.findChildren(QLabel) if label.isVisibleTo(panel)]
    assert any("already on the staff list" in text for text in shown), shown  # next to the name field
    assert len(service.staff()) == 1


def test_no_handover_without_a_case(qtbot, service):
    widget = HandoverPanel(service)
    qtbot.addWidget(widget)
    assert not widget.hand_over.isEnabled()
