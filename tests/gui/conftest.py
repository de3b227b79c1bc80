"""Fixtures for the room window: a real database in tmp_path, UI settings in tmp_path, a recording sound.

Never the user's QSettings or database. The window is shown (offscreen) because clicks on tree rows
need a laid-out view; its explicit minimum size keeps the offscreen platform from warning.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.ui.window import build_window


class RecordingPlayer:
    """A sound player that remembers what it was asked to play (and never makes a noise)."""

    def __init__(self) -> None:
        self.played: list[str] = []
        self.stops = 0
        self.playing: str | None = None

    def play(self, priority: str) -> None:
        assert self.playing is None, "a sound started while another was still playing"
        self.played.append(priority)
        self.playing = priority

    def stop(self) -> None:
        self.stops += 1
        self.playing = None


@pytest.fixture
def service(db_path, clock):
    """The window's service over an empty staff directory (the staff screens' tests count who is on it);
    the tests that sign enrol the team themselves (tests.conftest.enrol_team)."""
    svc = ChecklistService(open_store(db_path), clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def ui_settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "ui-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def sound() -> RecordingPlayer:
    return RecordingPlayer()


@pytest.fixture
def make_window(qtbot, service, ui_settings, sound):
    """Build (and show) a room window over the test service; call again to 'reopen' the program."""

    def make(*, settings: QSettings | None = None):
        window = build_window(service, settings or ui_settings, sound_player=sound)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()
