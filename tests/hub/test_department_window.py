"""The room window with a department hub: a calm status line fed by the worker thread, and the read-only
department list (another room's case viewed and its note saved, never edited). Real hub, real files."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from checklist_app.department import DepartmentCases, PushWorker
from checklist_app.ui.window import build_window
from tests.conftest import advance, setup_kwargs
from tests.hub.department_helpers import complete_case, joined_room, pusher, refused_config, room_config, until_settled


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
        qtbot.waitUntil(lambda: label.text() == "department: up to date", timeout=30_000)
        case_id = service.start_case(**setup_kwargs()).case_id
        window.case_events.announce(service.state(case_id))  # a stored change: the worker is woken
        qtbot.waitUntil(lambda: case_id in hub_a.heads("A"), timeout=30_000)
        qtbot.waitUntil(lambda: label.text() == "department: up to date", timeout=30_000)
    finally:
        assert worker.stop(timeout=30)


def test_with_the_hub_away_the_window_says_so_calmly_and_ticks_go_on(qtbot, room_service, tmp_path):
    service, clock = joined_room(room_service, "A")
    case_id = service.start_case(**setup_kwargs()).case_id
    window, worker = open_window(qtbot, service, tmp_path, refused_config("A"), clock=clock)
    try:
        label = window.department_status
        qtbot.waitUntil(lambda: "hub not reachable, kept here; 1 event waiting since" in label.text(), timeout=30_000)
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
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=30_000)
        assert page.model.case_id_at(0) == theirs
        index = page.model.index(0, 0)
        assert not page.model.flags(index) & page.model.flags(index).ItemIsEditable
        page.view_case(theirs)
        qtbot.waitUntil(lambda: page.save_button.isEnabled(), timeout=30_000)
        assert "Alba Example" in page.viewer.toPlainText() and page.viewer.isReadOnly()
        target = tmp_path / "their-note.pdf"
        page.save_note(target)
        qtbot.waitUntil(lambda: target.exists(), timeout=30_000)
        assert target.read_bytes().startswith(b"%PDF-")
        assert service.list_cases() == [], "nothing of another room is written here"
    finally:
        assert worker.stop(timeout=30)
        window.close()
