"""The operative note as plain data: documents of sections of prose, label/value pairs and tables.

The note is three documents (SPEC §7): the operative report the operator signs, the intraoperative
nursing record and the audit trail. Each starts on a new page with its own title; they may be
printed together or one at a time. No reportlab, no Qt: every string here is plain text exactly as
it must print, and the renderer escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.coding import CptLine

DRAFT, FINAL, AMENDED = "DRAFT", "FINAL", "AMENDED"


@dataclass(frozen=True)
class Text:
    """A paragraph of prose, with an optional bold lead-in; `tone` is normal, alert or muted."""

    text: str
    label: str = ""
    tone: str = "normal"


@dataclass(frozen=True)
class Fields:
    """Label/value pairs, printed as a two-column (or four-column when `pairs_per_row` is 2) grid.

    `label_share` is the part of the line each label takes (0: the renderer's default for the layout).
    """

    rows: tuple[tuple[str, str], ...]
    pairs_per_row: int = 1
    label_share: float = 0.0


@dataclass(frozen=True)
class Table:
    """A table with a header row (repeated on every page it spans), rows and an optional totals row.

    `widths` are relative column widths; `flagged` lists row indexes to highlight (late entries, leaks);
    `groups` lists row indexes that are sub-headings: their first cell spans the whole row.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    totals: tuple[str, ...] | None = None
    flagged: tuple[int, ...] = ()
    caption: str = ""
    groups: tuple[int, ...] = ()


Block = Text | Fields | Table


@dataclass(frozen=True)
class Section:
    """A titled part of the note."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """One of the note's documents: `key` is report, nursing or audit; `title` heads each of its pages."""

    key: str
    title: str
    sections: tuple[Section, ...]

    def section(self, title: str) -> Section:
        """The section of this document with this title."""
        for section in self.sections:
            if section.title == title:
                return section
        raise KeyError(title)


@dataclass(frozen=True)
class Header:
    """What every page repeats: who the note is about, where and when, and the document's status.

    `title` is the procedure ("Balloon kyphoplasty"); each page shows its document's title above it.
    """

    facility: str
    title: str
    patient_name: str
    mrn: str
    date_of_birth: str
    date_of_service: str
    record_id: str
    status: str
    status_detail: str
    # SPEC §6 anchoring: `case:seq:hash-prefix` of the last event the note was made from, printed in
    # every page footer so `checklist-app verify --reference` can check the paper against the file.
    reference: str = ""
    training: bool = False  # a demo's simulated case: every page says so


@dataclass(frozen=True)
class Metadata:
    """PDF document information; `created` and `document_id` come from the case, so output is reproducible."""

    title: str
    author: str
    subject: str
    creator: str
    keywords: str
    created: datetime
    document_id: str


@dataclass(frozen=True)
class NoteContent:
    """Everything the note says: its documents in print order, and what other consumers read.

    `cpt` holds the CPT lines the operative report prints (confirmed by the operator when signed).
    """

    header: Header
    metadata: Metadata
    documents: tuple[Document, ...]
    cpt: tuple[CptLine, ...] = ()
    substantial_dose: bool = False

    @property
    def status(self) -> str:
        """DRAFT, FINAL or AMENDED."""
        return self.header.status

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every section of every document, in print order."""
        return tuple(section for document in self.documents for section in document.sections)

    def document(self, key: str) -> Document:
        """The document `key` (report, nursing or audit)."""
        for document in self.documents:
            if document.key == key:
                return document
        raise KeyError(key)

    def section(self, title: str) -> Section:
        """The first section with this title, whichever document holds it (for tests and other consumers)."""
        for section in self.sections:
            if section.title == title:
                return section
        raise KeyError(title)

    def plain_text(self) -> str:
        """All the words of the note in order, one block per line (for search and tests)."""
        lines = [self.header.facility, self.header.title, self.header.patient_name, self.header.mrn]
        for document in self.documents:
            lines.append(document.title)
            for section in document.sections:
                lines.append(section.title)
                lines += [_block_text(block) for block in section.blocks]
        return "\n".join(lines)


def _block_text(block: Block) -> str:
    if isinstance(block, Text):
        return f"{block.label} {block.text}".strip()
    if isinstance(block, Fields):
        return "\n".join(f"{label}: {value}" for label, value in block.rows)
    rows = [block.header, *block.rows, *([block.totals] if block.totals else [])]
    return "\n".join(" | ".join(row) for row in rows)
