"""Hard stops on the window: shown before the tap, enforced, and opened only with a stated reason."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton

from checklist_app.domain import events as ev
from checklist_app.domain.timers import hardening_end
from tests.conftest import STEP_VALUES, advance
from tests.gui.window_helpers import click, complete, find, select_row, stored, type_text


def test_cannula_before_the_time_out_is_locked_before_anyone_taps(qtbot, window, service, clock, started):
    advance(service, clock, started, "time_out")
    window.open_case(started)
    index = window.case_screen.checklist.model.index_of(("cannula_placement", "T12", "left"))
    assert index.siblingAtColumn(1).data() == "LOCKED"
    select_row(qtbot, window, "cannula_placement", "T12", "left")
    gate = find(window, "gate_panel")
    assert gate.isVisible() and "time-out" in find(window, "gate_message").text()
    assert not find(window, "primary_action", QAbstractButton).isEnabled()


def test_time_out_hard_stop_then_override_with_a_reason(qtbot, window, service, clock, started):
    advance(service, clock, started, "time_out")
    window.open_case(started)
    before = len(stored(service, started))
    select_row(qtbot, window, "cannula_placement", "T12", "left")
    from tests.gui.window_helpers import fill

    fill(qtbot, window, STEP_VALUES["cannula_placement"])
    assert not find(window, "primary_action", QAbstractButton).isEnabled()  # locked: no tap to make
    click(qtbot, window, "gate_override")
    confirm = find(window, "override_confirm", QAbstractButton)
    assert not confirm.isEnabled()  # no reason, no override
    type_text(qtbot, window, "override_reason", "Emergency: patient deteriorating, operator decision")
    click(qtbot, window, "override_confirm")
    events = stored(service, started)[before:]
    assert [e.kind for e in events] == [ev.GATE_OVERRIDE, ev.STEP_DONE]
    assert events[0].values["gate"] == "time_out"
    assert events[0].reason == "Emergency: patient deteriorating, operator decision"
    assert (events[1].step, events[1].level, events[1].side) == ("cannula_placement", "T12", "left")
    assert events[1].values == STEP_VALUES["cannula_placement"]


def test_a_refused_gate_opens_the_override_panel(qtbot, window, service, clock, started, monkeypatch):
    """If the gate closes between showing and tapping, the refusal itself asks for the reason."""
    advance(service, clock, started, "time_out")
    window.open_case(started)
    select_row(qtbot, window, "cannula_placement", "T12", "left")
    editor = window.case_screen.editor
    editor.show_status(None)  # the view has not yet heard the tick: it believes the gate is open
    from tests.gui.window_helpers import fill

    fill(qtbot, window, STEP_VALUES["cannula_placement"])
    before = len(stored(service, started))
    click(qtbot, window, "primary_action")
    assert len(stored(service, started)) == before
    assert find(window, "override_panel").isVisible()
    assert "Not saved" in find(window, "step_message").text()


def test_cannula_removal_waits_for_the_hardening_countdown(qtbot, window, service, clock, started):
    advance(service, clock, started, "hardening_wait")
    window.open_case(started)
    state = service.state(started)
    end = hardening_end(state, "T12")
    assert end > clock.now()
    select_row(qtbot, window, "cannula_removal", "T12")
    assert find(window, "gate_panel").isVisible()
    assert "left" in find(window, "gate_message").text()  # the countdown is named in the lock
    removal = window.case_screen.checklist.model.index_of(("cannula_removal", "T12", None))
    assert removal.siblingAtColumn(1).data() == "LOCKED"
    complete(qtbot, window, "hardening_wait", "T12", values={"sample_hard": True})
    clock.set(end)
    window.case_screen.tick()  # the one-second timer, without waiting a second
    assert removal.siblingAtColumn(1).data() == ""
    complete(qtbot, window, "cannula_removal", "T12", values={"haemostasis": True})
    event = stored(service, started)[-1]
    assert (event.kind, event.step, event.level) == (ev.STEP_DONE, "cannula_removal", "T12")


def test_hardening_override_is_recorded_for_that_level(qtbot, window, service, clock, started):
    advance(service, clock, started, "hardening_wait")
    window.open_case(started)
    complete(qtbot, window, "hardening_wait", "T12", values={"sample_hard": True})
    select_row(qtbot, window, "cannula_removal", "T12")
    click(qtbot, window, "step.cannula_removal.T12.all.field.haemostasis.yes")
    click(qtbot, window, "gate_override")
    click(qtbot, window, "override_pick.0")  # "Operator decision"
    click(qtbot, window, "override_confirm")
    override, done = stored(service, started)[-2:]
    assert (override.kind, override.level, override.values["gate"]) == (ev.GATE_OVERRIDE, "T12", "hardening")
    assert override.reason == "Operator decision"
    assert (done.step, done.level) == ("cannula_removal", "T12")
