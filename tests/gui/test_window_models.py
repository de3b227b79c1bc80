"""The item models adapting case state: Qt's model contract (qtmodeltester) and change signals."""

from __future__ import annotations

from PySide6.QtCore import Qt

from checklist_app.ui.case_list_model import CaseListModel
from checklist_app.ui.checklist_model import (
    CURRENT_ROLE,
    KEY_ROLE,
    LOCKED_ROLE,
    STATUS_ROLE,
    ChecklistModel,
    build_groups,
)
from tests.conftest import advance, setup_kwargs


def test_checklist_model_passes_the_model_tester(qtmodeltester, service, clock, started):
    advance(service, clock, started, "cannula_placement")
    model = ChecklistModel()
    model.show_state(service.state(started), {("cannula_placement", "T12", "left")})
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)


def test_case_list_model_passes_the_model_tester(qtmodeltester, service, started):
    service.start_case(**setup_kwargs("vertebroplasty", [{"level": "L2", "sides": ["left"]}]))
    model = CaseListModel()
    model.set_rows(service.list_cases())
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == 6


def test_groups_are_before_each_level_and_after(service, started):
    groups = build_groups(service.state(started))
    assert [g.title for g in groups] == [
        "Before the first needle",
        "Level T12 (bipedicular)",
        "Level L1 (bipedicular)",
        "After the last level",
    ]
    level = groups[1]
    sides = [r.key for r in level.rows if r.key[0] == "cannula_placement"]
    assert sides == [("cannula_placement", "T12", "left"), ("cannula_placement", "T12", "right")]
    assert sum(len(g.rows) for g in groups) == len(service.state(started).instances)


def test_rows_carry_status_current_and_lock(service, clock, started):
    advance(service, clock, started, "identity_consent")
    model = ChecklistModel()
    model.show_state(service.state(started), {("cannula_placement", "T12", "left")})
    done = model.index_of(("patient_in_room", None, None))
    current = model.index_of(("identity_consent", None, None))
    locked = model.index_of(("cannula_placement", "T12", "left"))
    assert done.data(STATUS_ROLE) == "done" and done.siblingAtColumn(1).data().startswith("✓ ")
    assert current.data(CURRENT_ROLE) and current.data().startswith("▶ ")
    assert locked.data(LOCKED_ROLE) and locked.siblingAtColumn(1).data() == "LOCKED"
    assert locked.data(KEY_ROLE) == ("cannula_placement", "T12", "left")
    assert "current step" in current.data(Qt.ItemDataRole.AccessibleTextRole)


def test_a_tick_changes_rows_in_place_and_a_new_case_resets(qtbot, service, clock, started):
    model = ChecklistModel()
    model.show_state(service.state(started))
    with qtbot.waitSignal(model.dataChanged), qtbot.assertNotEmitted(model.modelReset):
        service.record_step(case_id=started, step="patient_in_room")
        model.show_state(service.state(started))
    other = service.start_case(**setup_kwargs("vertebroplasty", [{"level": "L2", "sides": ["left"]}]))
    with qtbot.waitSignal(model.modelReset):
        model.show_state(other)
    assert model.rowCount() == 3


def test_the_one_second_tick_asks_the_service_one_question(window, service, clock, started, monkeypatch):
    """The tick reads the room status once; it no longer asks every gated step for its hard stops."""
    from tests.conftest import advance

    advance(service, clock, started, "cannula_placement")
    window.open_case(started)
    asked: list[str] = []
    for name in ("room_status", "blocking_gates", "alarms", "timers", "warnings"):
        real = getattr(service, name)
        monkeypatch.setattr(service, name, lambda *a, _n=name, _r=real, **k: asked.append(_n) or _r(*a, **k))
    clock.advance(1)
    window.case_screen.tick()
    assert asked == ["room_status"]


def test_every_stored_change_goes_out_once_on_the_change_channel(qtbot, window, service, clock, started):
    from tests.gui.window_helpers import click, select_row

    window.open_case(started)
    heard: list = []
    window.case_events.case_changed.connect(lambda changes, who: heard.append((changes, who)))
    select_row(qtbot, window, "patient_in_room")
    clock.advance(minutes=1)
    click(qtbot, window, "primary_action")
    assert len(heard) == 1
    changes, initiator = heard[0]
    assert changes.case_id == started and (changes.first, changes.last) == (2, 2)
    assert initiator is window.case_screen.editor
