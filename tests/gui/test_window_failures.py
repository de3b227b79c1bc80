"""Failures the nurse must see: a write that did not reach the disk, a database that cannot be opened."""

from __future__ import annotations

from checklist_app import app
from checklist_app.store import StoreFull, StoreLocked
from tests.conftest import STEP_VALUES
from tests.gui.window_helpers import click, complete, find, stored


def test_a_failed_write_shows_not_saved_and_the_row_stays_pending(qtbot, window, service, started, monkeypatch):
    window.open_case(started)
    before = len(stored(service, started))

    def full(*args, **kwargs):
        raise StoreFull("Could not save to the database: the disk is full. Nothing already saved was lost.")

    monkeypatch.setattr(service.store, "append", full)
    complete(qtbot, window, "patient_in_room")
    message = find(window, "step_message")
    assert message.isVisible() and message.text().startswith("NOT SAVED")
    row = window.case_screen.checklist.model.index_of(("patient_in_room", None, None))
    assert row.data(0x0100 + 2) == "pending"  # STATUS_ROLE
    assert service.state(started).instance("patient_in_room").status == "pending"
    assert window.case_screen.editor.key == ("patient_in_room", None, None)
    assert len(stored(service, started)) == before
    monkeypatch.undo()
    click(qtbot, window, "primary_action")  # tap again once the disk has room
    assert stored(service, started)[-1].step == "patient_in_room"
    assert row.data(0x0100 + 2) == "done"


def test_typed_values_survive_a_failed_write(qtbot, window, service, clock, started, monkeypatch):
    from tests.conftest import advance

    advance(service, clock, started, "identity_consent")
    window.open_case(started)
    monkeypatch.setattr(service.store, "append", lambda *a, **k: (_ for _ in ()).throw(StoreFull("disk full")))
    complete(qtbot, window, "identity_consent", values=STEP_VALUES["identity_consent"])
    assert "NOT SAVED" in find(window, "step_message").text()
    assert window.case_screen.editor.form.values() == STEP_VALUES["identity_consent"]


def test_a_failed_alarm_acknowledgement_is_shown_too(qtbot, window, service, clock, started, monkeypatch):
    from tests.conftest import advance, mix_cement

    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)
    clock.advance(minutes=10)
    window.open_case(started)
    alarm = window.case_screen.banner.alarms[0]
    monkeypatch.setattr(service.store, "append", lambda *a, **k: (_ for _ in ()).throw(StoreLocked("busy")))
    click(qtbot, window, f"alarm.{alarm.id}.acknowledge")
    assert "NOT SAVED" in find(window, "alarm_message").text()
    assert alarm.id in [a.id for a in service.alarms(started)]  # still active: nothing was stored


def test_a_database_held_by_another_window_gives_a_message_and_exit_code_1(service, db_path, capsys):
    assert service.store.path == db_path.absolute()  # the test service holds the writer lock
    assert app.run(db_path, show_error_window=False) == 1
    err = capsys.readouterr().err
    assert err.startswith("checklist-app: error:") and "Traceback" not in err


def test_a_corrupt_database_is_reported_and_left_untouched(tmp_path, qapp, capsys):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    assert app.run(path) == 1  # offscreen: the message goes to stderr, no window waits for a click
    assert path.read_bytes() == b"this is not a database" * 100
    assert "not a checklist database" in capsys.readouterr().err


def test_the_start_up_error_window_is_a_plain_window_with_the_message(qtbot):
    window = app.startup_error_window("The database is read-only.")
    qtbot.addWidget(window)
    window.show()
    assert "The database is read-only." in find(window, "startup_error_message").text()
    click(qtbot, window, "startup_error_close")
    assert not window.isVisible()


def test_run_opens_the_window_resumes_the_case_and_releases_the_database(
    qapp, db_path, service, started, ui_settings, monkeypatch
):
    import sys

    from PySide6.QtCore import QTimer

    from checklist_app.store import open_store

    service.close()  # the previous session ended; run() opens the database itself
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs its own; restored after
    seen = []

    def look_then_quit():
        windows = [w for w in qapp.topLevelWidgets() if w.objectName() == "main_window" and w.isVisible()]
        seen.extend((w, w.case_screen.case_id, w.window_message.text()) for w in windows)
        qapp.quit()

    QTimer.singleShot(0, look_then_quit)
    assert app.run(db_path, settings=ui_settings) == 0
    assert [case_id for _w, case_id, _m in seen] == [started], seen
    seen[0][0].close()
    open_store(db_path).close()  # the writer lock was released
