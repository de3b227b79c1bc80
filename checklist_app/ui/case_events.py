"""The window's one change channel: every stored change, the outside world's status, new patients.

A use case is run through `run_use_case`; once it has stored its events (durable before displayed)
the channel emits `case_changed(changes, initiator)`, and every view subscribed once decides for
itself what to redo. Nothing else tells views that a case changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal


class Reporter(Protocol):
    """Runs a use case and shows why it was refused (an inline message, or errors under the inputs)."""

    def run(self, action: Callable[[], Any]) -> Any | None: ...


class CaseEvents(QObject):
    """Emits what changed after each stored use case (Anki's operation_did_execute, for this window)."""

    case_changed = Signal(object, object)  # (domain.changes.Changes, the view that asked, or None)
    sync_status_changed = Signal(object)  # the department hub / interfaces worker's status
    patients_changed = Signal()  # the hospital's patient list changed

    def run_use_case(self, action: Callable[[], Any], report: Reporter, initiator: object = None) -> Any | None:
        """Call `action` (one use case); on success tell every view what changed. None when refused."""
        result = report.run(action)
        changes = getattr(result, "changes", None)
        if changes is not None:
            self.case_changed.emit(changes, initiator)
        return result

    def announce(self, state: Any, initiator: object = None) -> None:
        """Tell every view about a change stored elsewhere (a script, another window's service)."""
        if getattr(state, "changes", None) is not None:
            self.case_changed.emit(state.changes, initiator)
