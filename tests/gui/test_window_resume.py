"""Closing and reopening: nothing is lost, the case in progress opens where it was, timers included."""

from __future__ import annotations

from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.conftest import STEP_VALUES, advance
from tests.gui.conftest import RecordingPlayer
from tests.gui.window_helpers import complete, find, stored


def test_closing_and_reopening_mid_case_resumes_it(qtbot, make_window, service, clock, started):
    advance(service, clock, started, "prechecks")
    first = make_window()
    complete(qtbot, first, "prechecks", values=STEP_VALUES["prechecks"])
    clock.advance(minutes=3)
    digits = find(first, "timer.case_clock.digits").text()
    first.close()
    again = make_window()
    assert again.case_screen.case_id == started
    assert again.stack.currentWidget() is again.case_screen
    assert again.case_screen.editor.key == ("sign_in", None, None)
    assert again.case_screen.editor.badge.text() == "NOW"
    assert find(again, "timer.case_clock.digits").text() != digits  # still counting from the stored PIR
    assert [e.seq for e in stored(service, started)] == list(range(1, len(stored(service, started)) + 1))


def test_a_restart_of_the_program_resumes_from_the_database_alone(qtbot, db_path, clock, service, started, ui_settings):
    from checklist_app.ui.window import build_window

    advance(service, clock, started, "time_out")
    service.close()  # the program exits (or crashes after its last durable write)
    reopened = ChecklistService(open_store(db_path), clock=clock)
    try:
        window = build_window(reopened, ui_settings, sound_player=RecordingPlayer())
        qtbot.addWidget(window)
        window.show()
        assert window.case_screen.case_id == started
        assert window.case_screen.editor.key == ("time_out", None, None)
        window.close()
    finally:
        reopened.close()


def test_with_no_case_in_progress_the_start_screen_shows(window):
    assert window.stack.currentWidget() is window.start_screen
    assert not find(window, "resume_case").isVisible()
