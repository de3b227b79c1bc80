"""The operative note: case state -> note content (plain data) -> PDF bytes -> an owner-only file.

The note is three documents, each starting on a new page under its own title: the operative
report the operator signs ("report"), the intraoperative nursing record ("nursing") and the audit
trail ("audit"). By default all three are in one PDF; any of them can be printed alone.

Public API::

    note_content(state, documents=DOCUMENTS, *, settings=None) -> NoteContent  # pure, no reportlab
    render_pdf(content) -> bytes                           # reportlab, reproducible bytes
    render_note(state, documents=DOCUMENTS) -> bytes       # both steps
    write_note(service, case_id, path, documents=DOCUMENTS) -> Path  # atomic, mode 0600; Refusal on bad input
    write_private(path, data)                              # the same safe write, for the window's Save PDF

`NoteContent.documents` holds each `Document` (key, title, sections); `content.document("report")`,
`content.section(title)` (any document) and `content.plain_text()` (all of them) read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..domain.state import CaseState
from .content import DOCUMENT_TITLES, DOCUMENTS, document_status, note_content
from .model import AMENDED, DRAFT, FINAL, Document, NoteContent
from .output import check_writable, database_files, write_private
from .render import render_pdf


def render_note(state: CaseState, documents: Iterable[str] = DOCUMENTS) -> bytes:
    """The note of a case (all three documents, or those named) as PDF bytes."""
    return render_pdf(note_content(state, documents))


def write_note(service, case_id: str, path: os.PathLike[str] | str, documents: Iterable[str] = DOCUMENTS) -> Path:
    """Render the note of `case_id` (all three documents, or those named) and write it to `path`
    atomically, readable by the owner only."""
    target = Path(path)
    protected = database_files(service)
    check_writable(target, protected=protected)  # before rendering: a wrong path fails fast
    state = service.state(case_id)  # Refusal for an unknown case
    write_private(target, render_note(state, documents), protected=protected)
    return target


__all__ = [
    "AMENDED",
    "DOCUMENTS",
    "DOCUMENT_TITLES",
    "DRAFT",
    "FINAL",
    "Document",
    "NoteContent",
    "check_writable",
    "document_status",
    "note_content",
    "render_note",
    "render_pdf",
    "write_note",
    "write_private",
]
