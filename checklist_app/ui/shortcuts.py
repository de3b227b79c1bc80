"""The room window's keyboard shortcuts: the main window binds them, the Help panel lists them."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

KEY_ALIASES = {"Ctrl+Enter": ("Ctrl+Return", "Ctrl+Enter")}  # the main Enter key is Return to Qt

# (action id, key sequence, what it does): the main window binds these, the panel lists them.
SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("complete_current", "Enter", "Complete the current step, when it needs no values (one tap milestones)"),
    ("confirm_editor", "Ctrl+Enter", "Save the step open in the editor with the values entered"),
    ("cancel", "Esc", "Close the open reason panel; otherwise go back to the current step"),
    ("acknowledge_alarm", "Ctrl+Shift+A", "Acknowledge the highest-priority alarm"),
    ("page_checklist", "Ctrl+1", "Checklist page"),
    ("page_implants", "Ctrl+2", "Cement & balloons page (batches, kits, barcode scans)"),
    ("page_staff", "Ctrl+3", "Staff / handover page"),
    ("page_signoff", "Ctrl+4", "Sign-off page"),
    ("page_note", "Ctrl+5", "Operative note page"),
    ("cases", "Ctrl+L", "Case list (start screen)"),
    ("new_case", "Ctrl+N", "New case"),
    ("toggle_theme", "Ctrl+T", "Switch between the light and dark theme"),
    ("help", "F1", "This help"),
)


def bind_shortcuts(window: QWidget, actions: Mapping[str, Callable[[], object]]) -> dict[str, QShortcut]:
    """Bind every listed shortcut that has an action in `actions` (Enter stays with text fields)."""
    bound: dict[str, QShortcut] = {}
    for action, keys, _what in SHORTCUTS:
        if action not in actions:
            continue
        for sequence in KEY_ALIASES.get(keys, (keys,)):
            shortcut = QShortcut(QKeySequence(sequence), window)
            shortcut.activated.connect(actions[action])
            bound[f"{action}:{sequence}"] = shortcut
    return bound
