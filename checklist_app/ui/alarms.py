"""Alarms as medical alarm practice wants them: colour banner naming the source first, then sound.

Highest priority first; each alarm stays until someone acknowledges it (logged with who and when
by `service.acknowledge_alarm`), never repeats afterwards, and only one sound plays at a time.
Warnings (contraindications, values above limits) get a quieter strip with the same explicit
acknowledgement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import paths
from ..domain.timers import Alarm
from ..domain.warnings import Warning
from .names import name
from .widgets import MessageLabel, TextButton, attempt

PRIORITY_WORDS = {"high": "HIGH PRIORITY", "medium": "MEDIUM PRIORITY", "low": "LOW PRIORITY"}
# Sound repeats until acknowledged (IEC 60601-1-8 style): high often, medium less, low once.
REPEAT = {"high": timedelta(seconds=10), "medium": timedelta(seconds=25), "low": None}
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
        for priority in REPEAT:
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
    if not all(sound_path(p).is_file() for p in REPEAT):
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
    """Decides when to sound: the top alarm only, repeated by priority, silent once acknowledged."""

    def __init__(self, player: SoundPlayer) -> None:
        self.player = player
        self._played: dict[str, datetime] = {}
        self._sounding: str | None = None

    def update(self, alarms: list[Alarm], now: datetime) -> None:
        # Only alarms still raised are remembered: an acknowledged alarm never comes back, so a
        # long day of cases leaves nothing behind here.
        active = {alarm.id for alarm in alarms}
        self._played = {alarm_id: when for alarm_id, when in self._played.items() if alarm_id in active}
        if not alarms:
            if self._sounding is not None:
                self.player.stop()
                self._sounding = None
            return
        top = alarms[0]
        last = self._played.get(top.id)
        repeat = REPEAT[top.priority]
        if last is None or (repeat is not None and now - last >= repeat):
            self.player.stop()  # never two sounds at once
            self.player.play(top.priority)
            self._played[top.id] = now
            self._sounding = top.id


class AlarmBanner(QWidget):
    """Rows of active alarms, highest priority first, each with its Acknowledge button."""

    acknowledged = Signal(str)  # alarm id, after the acknowledgement is stored

    def __init__(self, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "alarm_banner", "Alarms")
        self.service = service
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
        done = attempt(lambda: self.service.acknowledge_alarm(case_id=self.case_id, alarm_id=alarm_id), self.message)
        if done is None:
            self.show()
            return False
        self.acknowledged.emit(alarm_id)
        return True

    def acknowledge_top(self) -> bool:
        return self.acknowledge(self.alarms[0].id) if self.alarms else False


class WarningStrip(QWidget):
    """Warnings still to acknowledge (contraindications, values above limits, antibiotic timing)."""

    acknowledged = Signal(str)  # warning id, after the acknowledgement is stored

    def __init__(self, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "warning_strip", "Warnings to acknowledge")
        self.service = service
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

    def show_warnings(self, warnings: list[Warning]) -> None:
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

    def _row(self, warning: Warning, total: int) -> QFrame:
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
        done = attempt(
            lambda: self.service.acknowledge_warning(case_id=self.case_id, warning_id=warning_id), self.message
        )
        if done is None:
            self.show()
            return False
        self.acknowledged.emit(warning_id)
        return True
