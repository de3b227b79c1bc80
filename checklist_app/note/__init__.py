"""The operative note: case state -> note content (plain data) -> PDF bytes -> an owner-only file.

Public API::

    note_content(state, *, settings=None) -> NoteContent   # pure, no reportlab
    render_pdf(content) -> bytes                           # reportlab, reproducible bytes
    render_note(state) -> bytes                            # both steps
    write_note(service, case_id, path) -> Path             # atomic, mode 0600; Refusal on bad input
    write_private(path, data)                              # the same safe write, for the window's Save PDF
"""

from __future__ import annotations

import os
from pathlib import Path

from ..domain.state import CaseState
from .content import document_status, note_content
from .model import AMENDED, DRAFT, FINAL, NoteContent
from .output import check_writable, database_files, write_private
from .render import render_pdf


def render_note(state: CaseState) -> bytes:
    """The operative note of a case as PDF bytes."""
    return render_pdf(note_content(state))


def write_note(service, case_id: str, path: os.PathLike[str] | str) -> Path:
    """Render the note of `case_id` and write it to `path` atomically, readable by the owner only."""
    target = Path(path)
    protected = database_files(service)
    check_writable(target, protected=protected)  # before rendering: a wrong path fails fast
    state = service.state(case_id)  # Refusal for an unknown case
    write_private(target, render_note(state), protected=protected)
    return target


__all__ = [
    "AMENDED",
    "DRAFT",
    "FINAL",
    "NoteContent",
    "check_writable",
    "document_status",
    "note_content",
    "render_note",
    "render_pdf",
    "write_note",
    "write_private",
]
