"""Whole cases run on the room window, checking what is stored on disk after every tap."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton

from checklist_app.domain import events as ev
from checklist_app.domain.choices import preselected
from checklist_app.domain.timers import hardening_end, working_window
from tests.conftest import STEP_VALUES, advance, enrol_team, setup_kwargs
from tests.gui.window_helpers import click, complete, find, last_step_event, stored, type_text

BIOPSY_TAKEN = {"taken": True, "side": "left", "container": "formalin_10", "label_read_back": True, "sent": True}


def start_through_the_form(qtbot, window, service) -> str:
    """New case → the set-up form → Start case; the window opens the new case at its first step."""
    from tests.gui.test_newcase import fill as fill_form

    service.add_staff(name="Dr Ada Demo", role="operator")
    service.add_staff(name="Nurse Dana Demo", role="nurse")
    click(qtbot, window, "cases_button")
    click(qtbot, window, "new_case")
    form = window.new_case_form
    assert form is not None and window.stack.currentWidget() is form
    fill_form(form, levels="T12, L1")
    with qtbot.waitSignal(window.case_opened) as opened:
        click(qtbot, form, "newcase.start")
    return opened.args[0]


def scan_into_batch_panel(qtbot, window, code: str) -> None:
    """Cement & balloons page: scan the barcode, record, and come back to the checklist."""
    click(qtbot, window, "page.implants")
    type_text(qtbot, window, "batch.scan", code)
    qtbot.keyClick(find(window, "batch.scan"), Qt.Key.Key_Return)
    panel = window.case_screen.panels["implants"]
    with qtbot.waitSignal(panel.events.case_changed):
        click(qtbot, window, "batch.record")
    click(qtbot, window, "page.checklist")


def values_for(step: str, level: str | None) -> dict:
    if step == "biopsy":
        return BIOPSY_TAKEN if level == "T12" else {"taken": False}
    values = dict(STEP_VALUES.get(step, {}))
    if step == "time_out":
        values["team"] = ["Dr Ada Demo", "Nurse Dana Demo", "Dr Gita Demo"]
    return values


def run_every_step(qtbot, window, service, clock, case_id: str) -> None:
    """Tick every step in order through the window, checking the stored event after each tap."""
    while (current := service.state(case_id).current) is not None:
        step, level, side = current.key
        clock.advance(minutes=1)
        state = service.state(case_id)
        if step == "balloon_inflation" and not state.facts.kits:
            kit = service.catalogue.balloons[1]
            scan_into_batch_panel(qtbot, window, f"01{kit.gtin}1729013110BK-77")
        if step == "cement_injection" and preselected(state, current.spec.field("batch"), clock.now()) is None:
            cement = service.catalogue.cements[0]
            scan_into_batch_panel(qtbot, window, f"01{cement.gtin}1729063010CM-42")
            fresh = service.state(case_id)
            clock.set(working_window(fresh, fresh.facts.batches[-1])[0])  # wait for the dough time
            window.case_screen.tick()
        if step == "hardening_wait":
            clock.set(max(clock.now(), hardening_end(state, level)))
            window.case_screen.tick()
        before = len(stored(service, case_id))
        complete(qtbot, window, step, level, side, values_for(step, level))
        event = last_step_event(service, case_id)
        assert (event.step, event.level, event.side) == (step, level, side)
        assert len(stored(service, case_id)) == before + 1, f"{step} {level} {side}: one event per tap"
        assert window.case_screen.editor.message.isHidden(), window.case_screen.editor.message.text()


def test_two_level_bipedicular_kyphoplasty_with_a_biopsy_at_t12(qtbot, window, service, clock):
    case_id = start_through_the_form(qtbot, window, service)
    assert window.case_screen.editor.key == ("patient_in_room", None, None)
    assert "Nurse Dana Demo" in find(window, "header_nurse").text()
    run_every_step(qtbot, window, service, clock, case_id)
    state = service.state(case_id)
    assert state.current is None and state.facts.status == "complete"
    events = stored(service, case_id)
    biopsies = {e.level: e.values for e in events if e.step == "biopsy"}
    assert biopsies == {"T12": BIOPSY_TAKEN, "L1": {"taken": False}}
    injections = [(e.level, e.side) for e in events if e.step == "cement_injection"]
    assert injections == [("T12", "left"), ("T12", "right"), ("L1", "left"), ("L1", "right")]
    used = [e.values["batch"] for e in events if e.step == "cement_injection"]
    assert used == [b.seq for b in state.facts.batches for _side in (1, 2)]  # a new batch once the first one is over
    inflation = next(e for e in events if e.step == "balloon_inflation")
    assert inflation.values["kit"] == state.facts.kits[0].seq  # the kit just opened
    assert not any(e.kind == ev.GATE_OVERRIDE for e in events)
    assert find(window, "checklist_progress_text").text() == f"{state.progress[1]} of {state.progress[1]} steps"
    assert window.case_screen.current_page() == "signoff"  # what comes next, without asking
    assert "All steps answered" in find(window, "last_saved").text()


def test_single_level_unipedicular_vertebroplasty(qtbot, make_window, service, clock):
    levels = [{"level": "L2", "sides": ["right"]}]
    case_id = service.start_case(**setup_kwargs("vertebroplasty", levels)).case_id
    window = make_window()  # the case in progress opens by itself
    assert window.case_screen.case_id == case_id
    model = window.case_screen.checklist.model
    assert not model.index_of(("cannula_placement", "L2", "left")).isValid()
    assert model.index_of(("cannula_placement", "L2", "right")).isValid()
    assert not model.index_of(("balloon_inflation", "L2", "right")).isValid()
    run_every_step(qtbot, window, service, clock, case_id)
    events = stored(service, case_id)
    sides = {(e.step, e.side) for e in events if e.step in ("cannula_placement", "cement_injection")}
    assert sides == {("cannula_placement", "right"), ("cement_injection", "right")}
    assert service.state(case_id).facts.status == "complete"


def test_the_current_step_is_selected_after_each_tick(qtbot, window, service, started):
    window.open_case(started)
    complete(qtbot, window, "patient_in_room")
    editor = window.case_screen.editor
    assert editor.key == ("identity_consent", None, None)
    assert editor.badge.text() == "NOW"
    saved = find(window, "last_saved")
    assert saved.isVisible() and "Saved ✓ Patient in room" in saved.text()


def test_a_pending_step_can_be_ticked_out_of_order(qtbot, window, service, started):
    window.open_case(started)
    complete(qtbot, window, "imaging_setup", values={"modality": "biplane"})
    event = last_step_event(service, started)
    assert (event.step, event.values) == ("imaging_setup", {"modality": "biplane"})
    assert window.case_screen.editor.key == ("patient_in_room", None, None)  # back to the current step


def test_optional_biopsy_answered_no_hides_the_specimen_fields(qtbot, window, service, clock, started):
    from tests.conftest import advance

    advance(service, clock, started, "biopsy")
    window.open_case(started)
    editor = window.case_screen.editor
    assert editor.key == ("biopsy", "T12", None)
    assert editor.inputs["side"].isHidden()
    click(qtbot, window, "step.biopsy.T12.all.field.taken.yes")
    assert not editor.inputs["side"].isHidden()
    click(qtbot, window, "step.biopsy.T12.all.field.taken.no")
    assert editor.inputs["side"].isHidden()
    click(qtbot, window, "primary_action")
    assert last_step_event(service, started).values == {"taken": False}


def test_not_applicable_needs_a_reason_and_is_stored_with_it(qtbot, window, service, started):
    window.open_case(started)
    from tests.gui.window_helpers import select_row

    select_row(qtbot, window, "antibiotic")
    click(qtbot, window, "not_applicable")
    assert not find(window, "not_applicable_confirm", QAbstractButton).isEnabled()
    type_text(qtbot, window, "not_applicable_reason", "Not indicated for this patient")
    click(qtbot, window, "not_applicable_confirm")
    event = stored(service, started)[-1]
    assert (event.kind, event.step, event.reason) == (ev.NOT_APPLICABLE, "antibiotic", "Not indicated for this patient")
    assert service.state(started).instance("antibiotic").status == "not_applicable"


def test_a_value_out_of_range_is_refused_with_the_limit_and_nothing_is_stored(qtbot, window, service, clock, started):
    advance(service, clock, started, "local_anesthetic")  # after the time-out: no hard stop holds it
    window.open_case(started)
    before = len(stored(service, started))
    complete(qtbot, window, "local_anesthetic", "T12", values={"drug": "lidocaine", "concentration": 5, "volume": 10})
    message = find(window, "step_message")
    assert message.isVisible() and "Not saved" in message.text() and "2 %" in message.text()
    assert len(stored(service, started)) == before
    assert window.case_screen.editor.inputs["concentration"].value() == 5  # what was typed stays


def test_pressure_in_atm_is_stored_in_psi(qtbot, window, service, clock, started):
    from tests.conftest import advance

    advance(service, clock, started, "balloon_inflation")
    kit = {"product": "example_balloon_15", "lot": "K1", "expiry": "2030-01-01"}
    service.record_step(case_id=started, step="balloon_kit", values=kit)
    window.open_case(started)
    values = dict(STEP_VALUES["balloon_inflation"], pressure=(15, "atm"))
    complete(qtbot, window, "balloon_inflation", "T12", "left", values)
    assert last_step_event(service, started).values["pressure"] == 220.44


def test_signing_on_the_sign_off_page_makes_the_checklist_read_only(qtbot, window, service, clock, started):
    from tests.conftest import advance

    advance(service, clock, started)
    window.open_case(started)
    for warning in service.warnings(started, pending_only=True):
        service.acknowledge_warning(case_id=started, warning_id=warning.id)
    enrol_team(service)  # signers come from the staff directory
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=started, complications="none", findings="Good fill", ebl_ml=5.0)
    service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    window.case_events.announce(service.state(started))  # what the sign-off panel says after signing
    click(qtbot, window, "page.checklist")
    assert window.case_screen.editor.mode == "locked"
    assert not find(window, "primary_action").isVisible() and not find(window, "correct").isVisible()
