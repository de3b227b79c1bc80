"""The room window over a service: fonts registered, the main window built (what every start path shares)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .alarms import SoundPlayer
from .main_window import MainWindow
from .theme import load_fonts


def build_window(service, settings: QSettings | None = None, *, sound_player: SoundPlayer | None = None) -> MainWindow:
    """The room window over `service`. Tests pass a QSettings in tmp_path and a fake sound player."""
    load_fonts()
    return MainWindow(service, settings if settings is not None else QSettings(), sound_player=sound_player)
