"""The step editor's model without Qt: modes, the actions offered, hard stops and the use case each tap calls."""

from __future__ import annotations

from checklist_app.editing import LOCKED_MESSAGE, Action, Mode, StepEditorModel
from tests.conftest import STEP_VALUES, advance


def test_a_pending_current_step_offers_done_not_applicable_and_late_entry(service, clock, started):
    model = StepEditorModel(service)
    model.open(started, ("patient_in_room", None, None))
    view = model.view()
    assert view.mode is Mode.PENDING and view.badge == "NOW"
    assert view.actions == {Action.DONE, Action.NOT_APPLICABLE, Action.LATE}


def test_a_pending_step_that_is_not_current_offers_the_way_back_to_the_current_one(service, started):
    model = StepEditorModel(service)
    model.open(started, ("sign_in", None, None))
    view = model.view()
    assert view.badge == "TO DO" and Action.GO_CURRENT in view.actions
    assert view.current_label == "Patient in room"


def test_recording_calls_one_use_case_and_the_step_becomes_recorded(service, clock, started):
    model = StepEditorModel(service)
    model.open(started, ("patient_in_room", None, None))
    clock.advance(minutes=1)
    state = model.record({})
    assert state.instance("patient_in_room").status == "done" and state.changes.last == 2
    model.refresh_mode()
    assert model.mode is Mode.RECORDED and model.view().actions >= {Action.CORRECT, Action.RETRACT}


def test_a_correction_starts_from_the_recorded_values_and_ends_recorded(service, clock, started):
    advance(service, clock, started, "prechecks")
    model = StepEditorModel(service)
    model.open(started, ("identity_consent", None, None))
    values = model.start_correction()
    assert values == STEP_VALUES["identity_consent"] and model.mode is Mode.CORRECTING
    assert model.view().actions - {Action.GO_CURRENT} == {Action.LATE} and model.view().late_label == "Change time…"
    assert model.cancel_correction() and model.mode is Mode.RECORDED


def test_hard_stops_come_from_the_room_status_of_the_tick(service, clock, started):
    advance(service, clock, started, "time_out")
    model = StepEditorModel(service)
    model.open(started, ("cannula_placement", "T12", "left"))
    status = service.room_status(started)
    assert [g.id for g in model.gates(status)] == ["time_out"]
    assert model.gates(None) == []  # nothing known yet: nothing shown as locked


def test_a_signed_case_opens_locked_with_the_addendum_message(service, clock, started):
    advance(service, clock, started)
    for warning in service.warnings(started, pending_only=True):
        service.acknowledge_warning(case_id=started, warning_id=warning.id)
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=started, complications="none", findings="Good fill", ebl_ml=5.0)
    service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    model = StepEditorModel(service)
    model.open(started, ("patient_in_room", None, None))
    view = model.view()
    assert view.mode is Mode.LOCKED and view.message == LOCKED_MESSAGE
    assert not view.actions & {Action.DONE, Action.CORRECT, Action.RETRACT}
