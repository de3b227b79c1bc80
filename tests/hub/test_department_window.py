"""The room window with a department hub: a calm status line fed by the worker thread, and the read-only
department list (another room's case viewed and its note saved, never edited). Real hub, real files."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from checklist_app.department import DepartmentCases, PushWorker
from checklist_app.ui.window import build_window
from tests.conftest import advance, setup_kwargs
from tests.hub.department_helpers import complete_case, joined_room, pusher, refused_config, room_config, until_settled


def until(condition, timeout: float = 30.0) -> None:
    """Wait for `condition` while the push worker's real thread runs.

    qtbot.waitUntil spins QTest.qWait, which holds the GIL inside Qt (a Python thread then barely
    runs; the program's own event loop, app.exec(), releases it). So: process the window's events,
    then block on an Event for a few milliseconds (releasing the GIL), until the condition holds.
    """
    deadline, idle = time.monotonic() + timeout, threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        QApplication.processEvents()
        idle.wait(0.02)


def open_window(qtbot, service, tmp_path, config, **worker_options):
    window = build_window(service, QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    worker = PushWorker(service.store.path, config, **worker_options)
    window.attach_department(DepartmentCases(config, service.site), worker.wake, lambda: worker.status)
    window.show()
    qtbot.waitExposed(window)
    return window, worker.start()


def test_the_status_line_follows_the_worker_and_a_tick_wakes_it(qtbot, env, room_service, tmp_path, hub_a):
    service, clock = joined_room(room_service, "A")
    window, worker = open_window(qtbot, service, tmp_path, room_config(env, "A"), clock=clock)
    try:
        label = window.department_status
        until(lambda: label.text() == "department: up to date")
        case_id = service.start_case(**setup_kwargs()).case_id
        window.case_events.announce(service.state(case_id))  # a stored change: the worker is woken
        until(lambda: case_id in hub_a.heads("A"))
        until(lambda: label.text() == "department: up to date")
    finally:
        assert worker.stop(timeout=30)


def test_with_the_hub_away_the_window_says_so_calmly_and_ticks_go_on(qtbot, room_service, tmp_path):
    service, clock = joined_room(room_service, "A")
    case_id = service.start_case(**setup_kwargs()).case_id
    window, worker = open_window(qtbot, service, tmp_path, refused_config("A"), clock=clock)
    try:
        label = window.department_status
        until(lambda: "hub not reachable, kept here; 1 event waiting since" in label.text())
        assert label.property("role") == "muted", "an outage is not an alarm"
        advance(service, clock, case_id, until="identity_consent")  # ticks are stored while the hub is away
        assert len(service.store.events(case_id)) == 2
    finally:
        assert worker.stop(timeout=30)


def test_another_rooms_case_is_viewed_and_its_note_saved_never_edited(qtbot, env, room_service, tmp_path):
    other, other_clock = joined_room(room_service, "B")
    theirs = complete_case(other, other_clock)
    assert until_settled(pusher(other, room_config(env, "B"), other_clock)).state == "in_step"
    service, clock = joined_room(room_service, "A")
    window, worker = open_window(qtbot, service, tmp_path, room_config(env, "A"), clock=clock)
    try:
        window.show_department()
        page = window.department_page
        until(lambda: page.model.rowCount() == 1)
        assert page.model.case_id_at(0) == theirs
        index = page.model.index(0, 0)
        assert not page.model.flags(index) & page.model.flags(index).ItemIsEditable
        page.view_case(theirs)
        until(lambda: page.save_button.isEnabled())
        assert "Alba Example" in page.viewer.toPlainText() and page.viewer.isReadOnly()
        target = tmp_path / "their-note.pdf"
        page.save_note(target)
        until(lambda: target.exists())
        assert target.read_bytes().startswith(b"%PDF-")
        assert service.list_cases() == [], "nothing of another room is written here"
    finally:
        assert worker.stop(timeout=30)
        window.close()
