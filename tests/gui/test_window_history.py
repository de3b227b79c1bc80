"""Late entries, corrections and retractions on the window: history is added to, never rewritten."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QTime
from PySide6.QtWidgets import QAbstractButton, QTimeEdit

from checklist_app.domain import events as ev
from tests.conftest import STEP_VALUES, advance
from tests.gui.window_helpers import click, complete, fill, find, select_row, stored, type_text


def set_clinical_time(window, moment) -> None:
    local = moment.astimezone()
    find(window, "clinical_time", QTimeEdit).setTime(QTime(local.hour, local.minute))


def test_late_entry_stores_the_clinical_time_and_the_reason(qtbot, window, service, clock, started):
    advance(service, clock, started, "identity_consent")
    window.open_case(started)
    happened = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    clock.set(happened + timedelta(minutes=12))  # ticked twelve minutes after it happened
    select_row(qtbot, window, "identity_consent")
    fill(qtbot, window, STEP_VALUES["identity_consent"])
    click(qtbot, window, "late_entry")
    set_clinical_time(window, happened)
    click(qtbot, window, "late_reason.handover")
    click(qtbot, window, "primary_action")
    event = stored(service, started)[-1]
    assert (event.step, event.late_reason) == ("identity_consent", "handover")
    assert event.clinical_time == happened
    assert event.recorded_time == clock.now()
    row = window.case_screen.checklist.model.index_of(("identity_consent", None, None))
    assert "late entry: Handover" in row.data(0x0003)  # tooltip names the late entry


def test_late_entry_without_a_reason_is_not_saved(qtbot, window, service, clock, started):
    window.open_case(started)
    before = len(stored(service, started))
    happened = clock.now()
    clock.advance(minutes=20)
    select_row(qtbot, window, "patient_in_room")
    click(qtbot, window, "late_entry")
    set_clinical_time(window, happened)
    click(qtbot, window, "primary_action")
    assert len(stored(service, started)) == before
    message = find(window, "step_message")
    assert message.isVisible() and "Not saved" in message.text() and "reason" in message.text()
    click(qtbot, window, "clinical_time.-1")  # the minute buttons nudge the time
    click(qtbot, window, "late_reason.catch_up")
    click(qtbot, window, "primary_action")
    event = stored(service, started)[-1]
    assert (event.step, event.late_reason) == ("patient_in_room", "catch_up")
    assert event.clinical_time == happened - timedelta(minutes=1)


def test_correction_keeps_the_original_visible_and_struck_through(qtbot, window, service, clock, started):
    advance(service, clock, started, "incision")
    window.open_case(started)
    original = service.state(started).instance("local_anesthetic", "T12").entry
    select_row(qtbot, window, "local_anesthetic", "T12")
    click(qtbot, window, "correct")
    editor = window.case_screen.editor
    assert editor.inputs["volume"].value() == 8  # the recorded values, ready to change
    type_text(qtbot, window, "step.local_anesthetic.T12.all.field.volume", "6")
    type_text(qtbot, window, "correction_reason", "Syringe read again")
    click(qtbot, window, "correction_confirm")
    correction = stored(service, started)[-1]
    assert (correction.kind, correction.ref, correction.reason) == (ev.CORRECTION, original.seq, "Syringe read again")
    assert correction.values["volume"] == 6
    assert stored(service, started)[original.seq - 1].values["volume"] == 8  # the original is untouched
    history = find(window, "step_history").text()
    assert f"<s>#{original.seq} Done" in history and "Volume: 8 mL" in history
    assert f"#{correction.seq} Correction" in history and "Volume: 6 mL" in history
    assert editor.key == ("local_anesthetic", "T12", None)  # stays on the corrected step


def test_correction_without_a_reason_cannot_be_confirmed(qtbot, window, service, clock, started):
    advance(service, clock, started, "identity_consent")
    window.open_case(started)
    select_row(qtbot, window, "patient_in_room")
    click(qtbot, window, "correct")
    assert not find(window, "correction_confirm", QAbstractButton).isEnabled()
    qtbot.keyClick(window, "\x1b")  # Esc leaves the correction without saving anything
    assert window.case_screen.editor.mode == "recorded"


def test_retraction_returns_the_step_to_pending_and_keeps_the_entry(qtbot, window, service, clock, started):
    advance(service, clock, started, "prechecks")
    window.open_case(started)
    entry = service.state(started).instance("identity_consent").entry
    select_row(qtbot, window, "identity_consent")
    click(qtbot, window, "retract")
    type_text(qtbot, window, "retraction_reason", "Ticked on the wrong patient's screen")
    click(qtbot, window, "retraction_confirm")
    retraction = stored(service, started)[-1]
    assert (retraction.kind, retraction.ref) == (ev.RETRACTION, entry.seq)
    assert service.state(started).instance("identity_consent").status == "pending"
    assert window.case_screen.editor.key == ("identity_consent", None, None)
    assert "<s>" in find(window, "step_history").text() and "Retracted" in find(window, "step_history").text()
    complete(qtbot, window, "identity_consent", values=STEP_VALUES["identity_consent"])
    assert stored(service, started)[-1].kind == ev.STEP_DONE
