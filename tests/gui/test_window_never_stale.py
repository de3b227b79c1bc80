"""An open step is never stale: what another page records reaches it, and a spent batch is never proposed.

Each test leaves a step open in the checklist, changes the case elsewhere (the Cement & balloons
page, a handover, the clock), comes back, and checks what the open step offers, then what is
stored and what the note attributes to which batch or kit.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from checklist_app.domain.timers import working_window
from checklist_app.note.content import note_content
from tests.conftest import STEP_VALUES, advance, mix_cement, open_balloon_kit
from tests.gui.test_window_cases import scan_into_batch_panel
from tests.gui.window_helpers import click, fill, find, last_step_event, select_row, type_text

INJECTION = ("cement_injection", "T12", "left")
INFLATION = ("balloon_inflation", "T12", "left")


def combo_items(window, object_name: str) -> list[str]:
    combo = find(window, object_name, QComboBox)
    return [combo.itemText(i) for i in range(combo.count())]


def chosen(window, object_name: str):
    return find(window, object_name, QComboBox).currentData()


def table_rows(content, title: str):
    return next(b for s in content.sections if s.title == title for b in s.blocks if hasattr(b, "rows")).rows


def at_first_injection(service, clock, case_id: str) -> int:
    """The case at T12 left's injection with one batch mixed and ready; returns that batch's seq."""
    advance(service, clock, case_id, "cement_injection")
    first = mix_cement(service, case_id, lot="FIRST")
    clock.set(working_window(service.state(case_id), service.state(case_id).entry_for(first))[0])
    return first


def test_a_batch_mixed_on_the_implants_page_while_the_injection_is_open_is_offered_first(
    qtbot, window, service, clock, started
):
    first = at_first_injection(service, clock, started)
    window.open_case(started)
    select_row(qtbot, window, *INJECTION)
    assert chosen(window, "step.cement_injection.T12.left.field.batch") == first
    cement = service.catalogue.cements[1]
    scan_into_batch_panel(qtbot, window, f"01{cement.gtin}1729063010SECOND")  # via the page's own nav button
    assert window.case_screen.editor.key == INJECTION  # the nurse is back on the open step...
    second = service.state(started).facts.batches[-1].seq
    assert chosen(window, "step.cement_injection.T12.left.field.batch") == second  # ...which offers the new batch
    assert "SECOND" in combo_items(window, "step.cement_injection.T12.left.field.batch")[0]
    assert find(window, "primary_action").text() == "Locked"  # a batch just mixed is not ready to inject
    clock.set(working_window(service.state(started), service.state(started).entry_for(second))[0])
    window.case_screen.tick()
    fill(qtbot, window, {k: v for k, v in STEP_VALUES["cement_injection"].items() if k != "batch"})
    click(qtbot, window, "primary_action")
    assert last_step_event(service, started).values["batch"] == second
    content = note_content(service.state(started))
    implants = table_rows(content, "Implants")
    used_second = next(r for r in implants if r[2] == "SECOND")
    assert "T12 left 3.0 mL" in used_second[5]
    assert "T12 left" not in next(r for r in implants if r[2] == "FIRST")[5]


def test_a_batch_chosen_by_the_nurse_is_kept_when_another_is_recorded_elsewhere(qtbot, window, service, clock, started):
    first = at_first_injection(service, clock, started)
    mix_cement(service, started, lot="SPARE")
    window.open_case(started)
    select_row(qtbot, window, *INJECTION)
    combo = find(window, "step.cement_injection.T12.left.field.batch", QComboBox)
    combo.setCurrentIndex(combo.findData(first))
    combo.activated.emit(combo.currentIndex())  # what a tap on the list item sends
    cement = service.catalogue.cements[0]
    scan_into_batch_panel(qtbot, window, f"01{cement.gtin}1729063010THIRD")
    assert chosen(window, "step.cement_injection.T12.left.field.batch") == first


def test_a_batch_whose_working_time_is_over_is_never_preselected(qtbot, window, service, clock, started):
    first = at_first_injection(service, clock, started)
    window.open_case(started)
    select_row(qtbot, window, *INJECTION)
    assert chosen(window, "step.cement_injection.T12.left.field.batch") == first
    clock.set(working_window(service.state(started), service.state(started).entry_for(first))[1])
    window.case_screen.tick()  # the working time ends while the step is open
    assert chosen(window, "step.cement_injection.T12.left.field.batch") is None
    assert find(window, "step.cement_injection.T12.left.field.batch.record_batch").isVisible()
    select_row(qtbot, window, "local_anesthetic", "L1")
    select_row(qtbot, window, *INJECTION)  # and opened afresh
    assert chosen(window, "step.cement_injection.T12.left.field.batch") is None
    before = len(service.store.events(started))
    fill(qtbot, window, {k: v for k, v in STEP_VALUES["cement_injection"].items() if k != "batch"})
    click(qtbot, window, "primary_action")
    assert len(service.store.events(started)) == before  # nothing stored with a spent batch
    assert "no cement batch is within its working time" in find(window, "step_message").text()


def test_record_batch_from_the_step_opens_the_implants_page_on_the_right_kind(qtbot, window, service, clock, started):
    advance(service, clock, started, "balloon_inflation")
    window.open_case(started)
    select_row(qtbot, window, *INFLATION)
    click(qtbot, window, "step.balloon_inflation.T12.left.field.kit.record_batch")
    assert window.case_screen.current_page() == "implants"
    assert window.case_screen.panels["implants"].kind == "balloon"


def test_a_kit_opened_while_the_inflation_is_open_is_offered_and_the_note_names_it(
    qtbot, window, service, clock, started
):
    advance(service, clock, started, "balloon_inflation")
    old = open_balloon_kit(service, started, lot="OLDKIT")
    window.open_case(started)
    select_row(qtbot, window, *INFLATION)
    assert chosen(window, "step.balloon_inflation.T12.left.field.kit") == old
    kit = service.catalogue.balloons[2]
    scan_into_batch_panel(qtbot, window, f"01{kit.gtin}1729013110NEWKIT")
    new = service.state(started).facts.kits[-1].seq
    assert chosen(window, "step.balloon_inflation.T12.left.field.kit") == new
    fill(qtbot, window, {k: v for k, v in STEP_VALUES["balloon_inflation"].items()})
    click(qtbot, window, "primary_action")
    assert last_step_event(service, started).values["kit"] == new
    implants = table_rows(note_content(service.state(started)), "Implants")
    assert "Inflated at T12 left" in next(r for r in implants if r[2] == "NEWKIT")[5]
    assert "Inflated" not in next(r for r in implants if r[2] == "OLDKIT")[5]
    levels = table_rows(note_content(service.state(started)), "Levels treated")
    assert levels[0][4] == kit.size_label  # the size of the kit actually used


def test_a_handover_while_the_time_out_is_open_lists_the_new_nurse_as_present(qtbot, window, service, clock, started):
    advance(service, clock, started, "time_out")
    window.open_case(started)
    select_row(qtbot, window, "time_out")
    click(qtbot, window, "page.staff")
    type_text(qtbot, window, "handover.name.edit", "Nurse Noor Demo")
    click(qtbot, window, "handover.confirm")
    click(qtbot, window, "page.checklist")
    team = window.case_screen.editor.inputs["team"]
    assert "Nurse Noor Demo" in team.value()
