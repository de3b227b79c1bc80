"""Timers readable from two metres: case clock, skin-prep dry time, cement window, hardening, level time.

The panel only displays `Timer`s computed by the domain from stored events and the clock, so a
restart shows exactly the same countdowns.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..domain.present import duration, local_time
from ..domain.timers import Timer
from .names import name

WARN_BEFORE = timedelta(minutes=1)


def timer_object_name(timer_id: str) -> str:
    return "timer." + timer_id.replace(":", ".")


def describe(timer: Timer) -> tuple[str, str, str]:
    """(digits, note, state) for a timer; state is running, ready, warning, over or done."""
    if timer.end is None:
        if timer.stopped:
            return duration(timer.elapsed), f"stopped at {local_time(timer.now)} (patient out of room)", "done"
        return duration(timer.elapsed), f"since {local_time(timer.start)}", "running"
    remaining = timer.remaining or timedelta(0)
    kind = timer.id.split(":", 1)[0]
    if timer.finished:
        notes = {
            "skin_prep_dry": "Dry: draping may start",
            "hardening": "Set time reached: check the sample is hard",
            "working": "Working time OVER: do not inject",
        }
        return "0:00", notes.get(kind, "Finished"), "over" if kind == "working" else "done"
    digits = duration(remaining)
    if kind == "working" and timer.ready_at is not None:
        if timer.now < timer.ready_at:
            wait = duration(timer.ready_at - timer.now)
            return digits, f"Ready to inject at {local_time(timer.ready_at)} (in {wait})", "running"
        state = "warning" if remaining <= WARN_BEFORE else "ready"
        return digits, f"READY to inject · ends {local_time(timer.end)}", state
    return digits, f"until {local_time(timer.end)}", "running"


class TimerCard(QFrame):
    """One timer: what it is, big digits, and a line saying what the digits mean."""

    def __init__(self, timer_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        base = timer_object_name(timer_id)
        name(self, base, "Timer")
        self.setProperty("timer", "true")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 10, 8)
        layout.setSpacing(0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setProperty("role", "timer_label")
        self.digits = QLabel()
        name(self.digits, f"{base}.digits", "Timer value")
        self.digits.setProperty("role", "digits")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setProperty("role", "timer_note")
        for widget in (self.label, self.digits, self.note):
            layout.addWidget(widget)
        self._state = ""

    def show_timer(self, timer: Timer) -> None:
        digits, note, state = describe(timer)
        self.label.setText(timer.label)
        self.digits.setText(digits)
        self.note.setText(note)
        self.setAccessibleName(f"{timer.label}: {digits}, {note}")
        self.digits.setAccessibleName(f"{timer.label}: {digits}")
        if state != self._state:
            self._state = state
            self.setProperty("state", state)
            for widget in (self, self.label, self.digits, self.note):
                widget.style().unpolish(widget)
                widget.style().polish(widget)


class TimersPanel(QWidget):
    """The column of timers, refreshed every second from `service.timers`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "timers_panel", "Timers")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Timers")
        heading.setProperty("role", "section")
        outer.addWidget(heading)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.column = QVBoxLayout(body)
        self.column.setContentsMargins(0, 0, 4, 0)
        self.column.setSpacing(8)
        self.empty = QLabel("No timer running yet.\nThe case clock starts at “Patient in room”.")
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "muted")
        self.column.addWidget(self.empty)
        self.column.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.cards: dict[str, TimerCard] = {}

    def show_timers(self, timers: list[Timer]) -> None:
        ids = [t.id for t in timers]
        if ids != list(self.cards):
            self._rebuild(ids)
        for timer in timers:
            self.cards[timer.id].show_timer(timer)
        self.empty.setVisible(not timers)

    def _rebuild(self, ids: list[str]) -> None:
        for card in self.cards.values():
            card.hide()
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        for position, timer_id in enumerate(ids):
            card = TimerCard(timer_id)
            self.cards[timer_id] = card
            self.column.insertWidget(position + 1, card)
            card.show()
