"""The room window's keyboard shortcuts: the main window binds them, the Help panel lists them."""

from __future__ import annotations

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
