"""Disk faults seen from the room window: the tick says NOT SAVED, the row stays pending, a retry saves.

The window is the real one (`checklist_app.ui.window.build_window`), offscreen; the tick is a QTest
click on `primary_action` after filling the step's inputs, as a nurse would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.state import PENDING
from checklist_app.service import ChecklistService
from checklist_app.store import Store
from tests.conftest import START

from .harness import held_by_another_program, raw, saved_case
from .ledger import LEDGER
from .window_helpers import tap_current_step, window_builder, window_on


@pytest.fixture(autouse=True)
def _window_available() -> None:
    window_builder()


def assert_shows_not_saved(window, service: ChecklistService, case_id: str, key: tuple, stored: int) -> str:
    editor = window.case_screen.editor
    assert editor.message.isVisible()
    text = editor.message.text()
    assert "NOT SAVED" in text, text
    assert service.state(case_id).instance(*key).status == PENDING
    assert len(service.store.events(case_id)) == stored
    LEDGER.add("faults.window_not_saved_shown")
    return text


def test_read_only_database_tick_says_not_saved_and_saves_in_a_writable_window(
    db_path: Path, tmp_path: Path, qtbot
) -> None:
    case_id, stored = saved_case(db_path)
    service = ChecklistService(Store(db_path, readonly=True), clock=FakeClock(START.replace(hour=9)))
    try:
        with window_on(service, qtbot, tmp_path) as window:
            key, shown_done = tap_current_step(window, service, case_id)
            assert not shown_done
            assert "read-only" in assert_shows_not_saved(window, service, case_id, key, stored)
    finally:
        service.close()
    service = ChecklistService(Store(db_path), clock=FakeClock(START.replace(hour=9)))
    try:
        with window_on(service, qtbot, tmp_path) as window:
            again, shown_done = tap_current_step(window, service, case_id)
            assert again == key and shown_done
            assert len(service.store.events(case_id)) == stored + 1
    finally:
        service.close()


def test_full_disk_tick_says_not_saved_and_the_same_tap_saves_once_space_is_freed(
    db_path: Path, tmp_path: Path, qtbot
) -> None:
    case_id, _ = saved_case(db_path, steps_done=1)
    with raw(db_path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    service = ChecklistService(Store(db_path, max_page_count=pages), clock=FakeClock(START.replace(hour=9)))
    try:
        with window_on(service, qtbot, tmp_path) as window:
            for _ in range(15):
                stored = len(service.store.events(case_id))
                key, shown_done = tap_current_step(window, service, case_id)
                if not shown_done:
                    break
            else:
                raise AssertionError("the size limit was never reached")
            assert "disk is full" in assert_shows_not_saved(window, service, case_id, key, stored)
            service.store._reader().execute("PRAGMA max_page_count = 1000000")  # test-only: space freed
            again, shown_done = tap_current_step(window, service, case_id)
            assert again == key and shown_done
            assert len(service.store.events(case_id)) == stored + 1
    finally:
        service.close()


def test_locked_database_tick_says_not_saved_and_the_same_tap_saves_after_release(
    db_path: Path, tmp_path: Path, qtbot
) -> None:
    case_id, stored = saved_case(db_path)
    service = ChecklistService(Store(db_path), clock=FakeClock(START.replace(hour=9)))
    try:
        with window_on(service, qtbot, tmp_path) as window:
            with held_by_another_program(db_path, tmp_path) as holder:
                key, shown_done = tap_current_step(window, service, case_id)
                assert not shown_done
                assert "busy" in assert_shows_not_saved(window, service, case_id, key, stored)
                holder.finish()
            again, shown_done = tap_current_step(window, service, case_id)
            assert again == key and shown_done
            assert len(service.store.events(case_id)) == stored + 1
    finally:
        service.close()
