"""The Help panel: keyboard shortcuts and how the room window works (an inline page, never a dialog)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from .names import name
from .shortcuts import SHORTCUTS
from .widgets import TextButton

GUIDE = (
    "The current step is the first one still to do: it is highlighted in the list and opens in the "
    "editor. Any step still to do can be ticked out of order: tap it in the list.",
    "A step is shown as done only once it is saved on disk. If saving fails, the editor says NOT SAVED "
    "and the step stays to do.",
    "Ticking late? Tap “Late entry…”, set the time it happened, and choose why it is entered late "
    "(needed after 5 minutes, or as the site set it).",
    "A wrong entry is never erased: open the step, tap Correct… or Retract… and give the reason. The "
    "original stays in the record, struck through.",
    "Hard stops (time-out before the first cannula, cement hardening before cannula removal) show "
    "HARD STOP before you tap. An override needs a reason, which is printed in the note.",
    "Alarms appear as a coloured banner naming their source, then sound. They stop only when "
    "acknowledged; who acknowledged and when is recorded.",
    "Closing the window loses nothing: the case in progress opens again where it was, timers included.",
)


class HelpPanel(QWidget):
    """Shortcuts and the few rules worth knowing, shown in place of the current page."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        top = QHBoxLayout()
        title = QLabel("Help")
        title.setObjectName("help_title")
        back = TextButton("Back", "help_back", primary=True)
        back.clicked.connect(self.closed)
        top.addWidget(title, 1)
        top.addWidget(back)
        layout.addLayout(top)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        text = QLabel(self.html())
        name(text, "help_text", "Keyboard shortcuts and how to use the room window")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll.setWidget(text)
        layout.addWidget(scroll, 1)

    @staticmethod
    def html() -> str:
        rows = "".join(
            f"<tr><td valign='middle' style='padding:6px 24px 6px 0'><b>{html.escape(key)}</b></td>"
            f"<td valign='middle' style='padding:6px 0'>{html.escape(what)}</td></tr>"
            for _action, key, what in SHORTCUTS
        )
        guide = "".join(f"<li style='margin-bottom:8px'>{html.escape(line)}</li>" for line in GUIDE)
        return f"<h2>Keyboard shortcuts</h2><table>{rows}</table><h2>How it works</h2><ul>{guide}</ul>"
