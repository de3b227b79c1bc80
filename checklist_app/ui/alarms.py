"""Alarms as medical alarm practice wants them: colour banner naming the source first, then sound.

Highest priority first; each alarm stays until someone acknowledges it (logged with who and when
by `service.acknowledge_alarm`), never repeats afterwards, and only one sound plays at a time.
Warnings (contraindications, values above limits) get a quieter strip with the same explicit
acknowledgement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import paths
from ..domain.advisories import Advisory
from ..domain.alarms import PRIORITIES, Alarm, AlarmPolicy, Sounding
from .case_events import CaseEvents
from .names import name
from .ports import RoomService
from .widgets import Inline, MessageLabel, TextButton

PRIORITY_WORDS = {"high": "HIGH PRIORITY", "medium": "MEDIUM PRIORITY", "low": "LOW PRIORITY"}
MAX_ROWS = 3


class SoundPlayer(Protocol):
    """Plays the tone pattern of one priority; `play` replaces whatever was playing."""

    def play(self, priority: str) -> None: ...

    def stop(self) -> None: ...


class BeepPlayer:
    """Where there is no audio device or no QtMultimedia: the system beep."""

    def play(self, priority: str) -> None:
        QApplication.beep()

    def stop(self) -> None:
        pass


class QtSoundPlayer:
    """The generated WAV tone patterns (resources/sounds) through QSoundEffect, one at a time."""

    def __init__(self) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        self.effects = {}
        for priority in PRIORITIES:
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(sound_path(priority))))
            effect.setVolume(1.0)
            self.effects[priority] = effect

    def play(self, priority: str) -> None:
        self.stop()
        self.effects[priority].play()

    def stop(self) -> None:
        for effect in self.effects.values():
            effect.stop()


def sound_path(priority: str):
    return paths.resources_dir() / "sounds" / f"alarm_{priority}.wav"


def default_player() -> SoundPlayer:
    """QSoundEffect when an audio output and the sound files exist, otherwise the system beep."""
    if not all(sound_path(p).is_file() for p in PRIORITIES):
        return BeepPlayer()
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:  # QtMultimedia or its audio libraries are not installed
        return BeepPlayer()
    if not QMediaDevices.audioOutputs():
        return BeepPlayer()
    return QtSoundPlayer()


class FirstUsePlayer:
    """The `default_player()`, chosen when the first alarm sounds rather than when the window opens."""

    # Loading QtMultimedia (its media backend) and asking the audio server for outputs need not
    # delay the window; it happens once, just after the first alarm is already on screen.
    def __init__(self) -> None:
        self.player: SoundPlayer | None = None

    def play(self, priority: str) -> None:
        if self.player is None:
            self.player = default_player()
        self.player.play(priority)

    def stop(self) -> None:
        if self.player is not None:  # nothing has sounded yet, so nothing to stop
            self.player.stop()


class AlarmSound:
    """Plays what the domain's sounding rule decides (ui never decides when an alarm sounds)."""

    def __init__(self, player: SoundPlayer, policy: AlarmPolicy) -> None:
        self.player = player
        self.rule = Sounding(policy)

    def update(self, alarms: list[Alarm], now: datetime) -> None:
        action, priority = self.rule.next(alarms, now)
        if action == "stop":
            self.player.stop()
        elif action == "play" and priority is not None:
            self.player.stop()  # never two sounds at once
            self.player.play(priority)


class AlarmBanner(QWidget):
    """Rows of active alarms, highest priority first, each with its Acknowledge button."""

    def __init__(self, service: RoomService, events: CaseEvents, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "alarm_banner", "Alarms")
        self.service, self.events = service, events
        self.case_id = ""
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)
        self.message = MessageLabel("alarm_message")
        self.layout_.addWidget(self.message)
        self.more = QLabel()
        self.more.setProperty("role", "muted")
        self.layout_.addWidget(self.more)
        self.rows: dict[str, QFrame] = {}
        self.alarms: list[Alarm] = []
        self.hide()

    def set_case(self, case_id: str) -> None:
        self.case_id = case_id
        self.show_alarms([])

    def show_alarms(self, alarms: list[Alarm]) -> None:
        self.alarms = list(alarms)
        shown = alarms[:MAX_ROWS]
        if [a.id for a in shown] != list(self.rows):
            self._rebuild(shown)
        hidden = len(alarms) - len(shown)
        self.more.setText(f"and {hidden} more alarm(s) below these" if hidden else "")
        self.more.setVisible(hidden > 0)
        self.setVisible(bool(alarms) or self.message.isVisible())

    def _rebuild(self, alarms: list[Alarm]) -> None:
        for row in self.rows.values():
            row.hide()
            row.setParent(None)
            row.deleteLater()
        self.rows = {}
        for position, alarm in enumerate(alarms):
            row = self._row(alarm)
            self.rows[alarm.id] = row
            self.layout_.insertWidget(position, row)
            row.show()

    def _row(self, alarm: Alarm) -> QFrame:
        row = QFrame()
        name(row, "alarm_row", f"{PRIORITY_WORDS[alarm.priority]} alarm from {alarm.source}: {alarm.message}")
        row.setProperty("priority", alarm.priority)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(14, 2, 4, 2)
        text = QLabel(f"{PRIORITY_WORDS[alarm.priority]} · {alarm.source}: {alarm.message}")
        text.setObjectName(f"alarm.{alarm.id}.text")
        text.setProperty("role", "alarm_text")
        text.setWordWrap(True)
        button = TextButton("Acknowledge", f"alarm.{alarm.id}.acknowledge")
        button.setAccessibleName(f"Acknowledge alarm: {alarm.source}: {alarm.message}")
        button.clicked.connect(lambda _=False, a=alarm.id: self.acknowledge(a))
        layout.addWidget(text, 1)
        layout.addWidget(button)
        return row

    def acknowledge(self, alarm_id: str) -> bool:
        done = self.events.run_use_case(
            lambda: self.service.acknowledge_alarm(case_id=self.case_id, alarm_id=alarm_id), Inline(self.message), self
        )
        if done is None:
            self.show()
            return False
        return True

    def acknowledge_top(self) -> bool:
        return self.acknowledge(self.alarms[0].id) if self.alarms else False


class WarningStrip(QWidget):
    """Warnings still to acknowledge (contraindications, values above limits, antibiotic timing)."""

    def __init__(self, service: RoomService, events: CaseEvents, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "warning_strip", "Warnings to acknowledge")
        self.service, self.events = service, events
        self.case_id = ""
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)
        self.message = MessageLabel("warning_message")
        self.layout_.addWidget(self.message)
        self.rows: dict[str, QFrame] = {}
        self.hide()

    def set_case(self, case_id: str) -> None:
        self.case_id = case_id
        self.show_warnings([])

    def show_warnings(self, warnings: list[Advisory]) -> None:
        shown = warnings[:MAX_ROWS]
        if [w.id for w in shown] != list(self.rows):
            for row in self.rows.values():
                row.hide()
                row.setParent(None)
                row.deleteLater()
            self.rows = {}
            for position, warning in enumerate(shown):
                self.rows[warning.id] = self._row(warning, len(warnings))
                self.layout_.insertWidget(position, self.rows[warning.id])
                self.rows[warning.id].show()
        self.setVisible(bool(warnings) or self.message.isVisible())

    def _row(self, warning: Advisory, total: int) -> QFrame:
        row = QFrame()
        name(row, "warning_row", f"Warning from {warning.source}: {warning.message}")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(14, 2, 4, 2)
        more = f"  (1 of {total})" if total > MAX_ROWS else ""
        text = QLabel(f"WARNING · {warning.source}: {warning.message}{more}")
        text.setWordWrap(True)
        button = TextButton("Acknowledge", f"warning.{warning.id}.acknowledge")
        button.setAccessibleName(f"Acknowledge warning: {warning.message}")
        button.clicked.connect(lambda _=False, w=warning.id: self.acknowledge(w))
        layout.addWidget(text, 1)
        layout.addWidget(button)
        return row

    def acknowledge(self, warning_id: str) -> bool:
        done = self.events.run_use_case(
            lambda: self.service.acknowledge_warning(case_id=self.case_id, warning_id=warning_id),
            Inline(self.message),
            self,
        )
        if done is None:
            self.show()
            return False
        return True
