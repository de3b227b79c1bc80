"""The operative note as plain data: sections of prose, label/value pairs and tables (no reportlab, no Qt).

Every string here is plain text exactly as it must print; the renderer escapes it.
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
    """Label/value pairs, printed as a two-column (or four-column when `pairs_per_row` is 2) grid."""

    rows: tuple[tuple[str, str], ...]
    pairs_per_row: int = 1


@dataclass(frozen=True)
class Table:
    """A table with a header row (repeated on every page it spans), rows and an optional totals row.

    `widths` are relative column widths; `flagged` lists row indexes to highlight (late entries, leaks).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    totals: tuple[str, ...] | None = None
    flagged: tuple[int, ...] = ()
    caption: str = ""


Block = Text | Fields | Table


@dataclass(frozen=True)
class Section:
    """A titled part of the note."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Header:
    """What every page repeats: who the note is about, where and when, and the document's status."""

    facility: str
    title: str
    patient_name: str
    mrn: str
    date_of_birth: str
    date_of_service: str
    record_id: str
    status: str
    status_detail: str


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
    """Everything the operative note says, in print order."""

    header: Header
    metadata: Metadata
    sections: tuple[Section, ...]
    cpt: tuple[CptLine, ...] = ()
    substantial_dose: bool = False

    @property
    def status(self) -> str:
        """DRAFT, FINAL or AMENDED."""
        return self.header.status

    def section(self, title: str) -> Section:
        """The section with this title (for tests and other consumers)."""
        for section in self.sections:
            if section.title == title:
                return section
        raise KeyError(title)

    def plain_text(self) -> str:
        """All the words of the note in order, one block per line (for search and tests)."""
        lines = [self.header.facility, self.header.title, self.header.patient_name, self.header.mrn]
        for section in self.sections:
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
