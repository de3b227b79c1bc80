"""The start screen: resume the case in progress, open one of today's cases, start a new one."""

from __future__ import annotations

from PySide6.QtCore import Qt

from checklist_app import app
from tests.conftest import advance, enrol_team, setup_kwargs
from tests.gui.window_helpers import click, find


def finish_and_sign(service, clock, case_id) -> None:
    advance(service, clock, case_id)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    enrol_team(service)  # signers come from the staff directory
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=case_id, complications="none", findings="Good fill", ebl_ml=5.0)
    service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))


def test_todays_cases_are_listed_and_a_tap_opens_one(qtbot, make_window, service, clock):
    done = service.start_case(**setup_kwargs("vertebroplasty", [{"level": "L2", "sides": ["left"]}])).case_id
    finish_and_sign(service, clock, done)
    window = make_window()
    assert window.stack.currentWidget() is window.start_screen  # nothing in progress
    table = find(window, "case_table")
    assert table.model().rowCount() == 1
    assert table.model().index(0, 5).data() == "signed"
    row = table.visualRect(table.model().index(0, 1)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert window.case_screen.case_id == done
    assert window.case_screen.editor.mode == "locked"  # signed: shown, never edited
    assert not find(window, "primary_action").isVisible()


def test_resume_button_reopens_the_case_in_progress(qtbot, window, service, started):
    window.open_case(started)
    click(qtbot, window, "cases_button")
    assert window.stack.currentWidget() is window.start_screen
    assert "Alba Example" in find(window, "resume_text").text()
    click(qtbot, window, "resume_case")
    assert window.stack.currentWidget() is window.case_screen


def test_new_case_cancel_returns_to_the_start_screen(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = window.new_case_form
    assert form is not None and window.stack.currentWidget() is form
    click(qtbot, form, "newcase.cancel")
    assert window.stack.currentWidget() is window.start_screen


def test_each_new_case_gets_an_empty_form(qtbot, window):
    click(qtbot, window, "new_case")
    first = window.new_case_form
    first.patient_name.setText("Somebody Example")
    click(qtbot, first, "newcase.cancel")
    click(qtbot, window, "new_case")
    assert window.new_case_form is not first and window.new_case_form.patient_name.text() == ""


def test_a_broken_new_case_form_is_a_bug_reported_as_such_never_not_installed(qtbot, window, monkeypatch):
    """The project's own modules are imported directly: an ImportError is a bug, not 'not installed'."""
    import checklist_app.ui.new_case as new_case

    def broken(*_args, **_kwargs):
        raise ImportError("a name the form needs is missing")

    monkeypatch.setattr(new_case, "NewCaseForm", broken)
    with qtbot.captureExceptions() as raised:
        click(qtbot, window, "new_case")
    assert [kind for kind, _value, _tb in raised] == [ImportError]
    assert "not installed" not in find(window, "start_message").text()


def test_selftest_is_delegated_to_the_ui_selftest(monkeypatch, tmp_path):
    import checklist_app.ui.selftest as selftest

    calls = []
    monkeypatch.setattr(selftest, "run_selftest", lambda db: calls.append(db) or 0)
    assert app.selftest(tmp_path / "x.sqlite3") == 0
    assert calls == [tmp_path / "x.sqlite3"]
