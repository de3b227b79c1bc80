"""A change of plan at a level, through the window (SPEC §3 `level_outcome`): converted to
vertebroplasty waives that level's balloon steps, with the reason shown; withdrawing it brings
them back. Written from the rule, then run against the window."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton

from checklist_app.domain import events as ev
from tests.conftest import advance
from tests.gui.window_helpers import click, find, select_row, stored, type_text


def _status(window, step: str, level: str, side: str) -> str:
    model = window.case_screen.checklist.model
    return str(model.index_of((step, level, side)).siblingAtColumn(1).data())


def test_a_balloon_that_fails_converts_the_level_and_its_balloon_steps_are_no_longer_pending(
    qtbot, window, service, clock, started
):
    advance(service, clock, started, "balloon_inflation")
    window.open_case(started)
    select_row(qtbot, window, "balloon_inflation", "T12", "left")
    plan = find(window, "change_plan", QAbstractButton)
    assert plan.isVisible() and "T12" in plan.text()

    click(qtbot, window, "change_plan")
    panel = find(window, "plan_panel")
    assert panel.isVisible()
    click(qtbot, window, "plan_choice.converted_to_vertebroplasty")
    confirm = find(window, "plan_confirm", QAbstractButton)
    assert not confirm.isEnabled()  # no reason, no change
    type_text(qtbot, window, "plan_reason", "Balloon did not hold pressure")
    click(qtbot, window, "plan_confirm")

    outcome = [e for e in stored(service, started) if e.step == "level_outcome"]
    assert [(e.kind, e.level, e.values["outcome"]) for e in outcome] == [
        (ev.STEP_DONE, "T12", "converted_to_vertebroplasty")
    ]
    assert outcome[0].values["reason"] == "Balloon did not hold pressure"
    for step in ("balloon_inflation", "balloon_removal"):
        for side in ("left", "right"):
            assert _status(window, step, "T12", side) == "N/A"
            assert _status(window, step, "L1", side) != "N/A"  # the other level keeps its plan
    state = service.state(started)
    assert state.facts.performed("T12") == "vertebroplasty"
    assert state.current is not None
    assert (state.current.spec.id, state.current.level) != ("balloon_inflation", "T12")


def test_withdrawing_the_change_of_plan_brings_the_balloon_steps_back(qtbot, window, service, clock, started):
    advance(service, clock, started, "balloon_inflation")
    service.record_step(
        case_id=started,
        step="level_outcome",
        level="T12",
        values={"outcome": "converted_to_vertebroplasty", "reason": "Balloon did not hold pressure"},
    )
    window.open_case(started)
    select_row(qtbot, window, "cement_injection", "T12", "left")
    withdraw = find(window, "withdraw_plan", QAbstractButton)
    assert withdraw.isVisible()
    click(qtbot, window, "withdraw_plan")
    type_text(qtbot, window, "withdraw_plan_reason", "Recorded at the wrong level")
    click(qtbot, window, "withdraw_plan_confirm")
    assert _status(window, "balloon_inflation", "T12", "left") in ("", "LOCKED")  # pending again
    assert service.state(started).facts.performed("T12") == "kyphoplasty"
    last = stored(service, started)[-1]
    assert last.kind == ev.RETRACTION and last.reason == "Recorded at the wrong level"
