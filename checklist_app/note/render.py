"""The operative note as PDF bytes: reportlab platypus, an embedded Unicode font, reproducible output."""

from __future__ import annotations

import io
import threading
from datetime import UTC
from functools import partial

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from . import fonts, model
from .layout import markup, paragraph, section_flowables
from .model import NoteContent
from .styles import BODY_FONT, BOLD_FONT, GRID, Styles, styles

MARGIN = 15 * mm
FOOTER_HEIGHT = 12 * mm
_BUILD_LOCK = threading.Lock()  # reportlab keeps some global state; one build at a time


def render_pdf(content: NoteContent, *, pagesize: tuple[float, float] = A4) -> bytes:
    """The note as PDF bytes; the same content always gives the same bytes."""
    # One note at a time from here: shaping (in wrap) hands out stand-in code points that must
    # live until the build has written them, and the table of them is pruned only in between.
    with _BUILD_LOCK:
        fonts.forget_stand_ins()
        return _render(content, pagesize)


def _render(content: NoteContent, pagesize: tuple[float, float]) -> bytes:
    st = styles()
    width = pagesize[0] - 2 * MARGIN
    headers = {doc.key: _header_table(content.header, doc.title, width, st) for doc in content.documents}
    header_height = max(header.wrap(width, pagesize[1])[1] for header in headers.values())
    story: list[Flowable] = []
    for index, document in enumerate(content.documents):
        if index:  # each document starts on a page of its own, under its own title
            story += [NextPageTemplate(document.key), PageBreak()]
        story.append(_DocumentStart(document.key, document.title))
        story += [flowable for section in document.sections for flowable in section_flowables(section, width, st)]
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + header_height + 4 * mm,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=content.metadata.title,
        author=content.metadata.author,
        subject=content.metadata.subject,
        creator=content.metadata.creator,
        keywords=content.metadata.keywords,
        invariant=1,
        lang="en",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates(
        [
            PageTemplate(
                id=key,
                frames=[frame],
                onPage=partial(_decorate_page, key=key, header=header, header_height=header_height, content=content),
            )
            for key, header in headers.items()
        ]
    )
    maker = partial(_NumberedCanvas, content=content)
    a85, rl_config.useA85 = rl_config.useA85, 0  # binary (compressed) streams: smaller and faster
    try:
        doc.build(story, canvasmaker=maker)
    finally:
        rl_config.useA85 = a85
    return buffer.getvalue()


# -- page furniture ---------------------------------------------------------------------------
class _FixedStamp:
    """A creation time for reportlab's document info, taken from the case instead of the clock."""

    def __init__(self, moment) -> None:
        utc = moment.astimezone(UTC)
        self.t = utc.timestamp()
        self.YMDhms = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
        self.dhh = self.dmm = 0
        self.tzname = "UTC"


class _DocumentStart(Flowable):
    """Takes no room: marks where a document begins, as a bookmark in the PDF's outline."""

    def __init__(self, key: str, title: str) -> None:
        super().__init__()
        self.key, self.title = key, title
        self.width = self.height = 0

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self) -> None:
        self.canv._note_bookmark = (self.key, self.title)  # set in `save`, when the page is really written


class _NumberedCanvas(Canvas):
    """Holds every page until the end so each footer can say 'Page X of Y' of its own document;
    dates and id come from the case."""

    def __init__(self, *args, content: NoteContent, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._note = content
        self._pages: list[dict] = []
        self._note_document = content.documents[0].key
        self._note_bookmark: tuple[str, str] | None = None
        self._doc._timeStamp = _FixedStamp(content.metadata.created)
        self._doc.updateSignature(content.metadata.document_id)

    def showPage(self) -> None:
        """Keep the finished page; it is written out in `save` once the page counts are known."""
        self._pages.append(dict(self.__dict__))
        self._note_bookmark = None
        self._startPage()

    def save(self) -> None:
        """Draw each page's footer ('Page X of Y', counted within its document) and write the PDF."""
        totals: dict[str, int] = {}
        for page in self._pages:
            totals[page["_note_document"]] = totals.get(page["_note_document"], 0) + 1
        numbers: dict[str, int] = {}
        for page in self._pages:
            key = page["_note_document"]
            numbers[key] = numbers.get(key, 0) + 1
            self.__dict__.update(page)
            if page["_note_bookmark"] is not None:
                self.bookmarkPage(page["_note_bookmark"][0])
                self.addOutlineEntry(page["_note_bookmark"][1], page["_note_bookmark"][0], level=0)
            _footer(self, self._note, numbers[key], totals[key])
            super().showPage()
        if self._note.documents[1:]:
            self.showOutline()
        super().save()


def _footer(canvas: Canvas, content: NoteContent, number: int, total: int) -> None:
    width, _ = canvas._pagesize
    head = content.header
    y = MARGIN + FOOTER_HEIGHT - 5 * mm
    canvas.saveState()
    canvas.setStrokeColor(GRID)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y + 9, width - MARGIN, y + 9)
    canvas.setFont(BODY_FONT, 7.5)
    canvas.setFillColor(colors.black)
    canvas.drawString(MARGIN, y, f"Record {head.reference or head.record_id}")
    canvas.setFont(BOLD_FONT, 7.5)
    training = "TRAINING, not a clinical record. " if head.training else ""
    canvas.drawCentredString(width / 2, y, f"{training}{head.status}: {head.status_detail}")
    canvas.setFont(BODY_FONT, 7.5)
    canvas.drawRightString(width - MARGIN, y, f"Page {number} of {total}")
    canvas.restoreState()


def _decorate_page(canvas: Canvas, doc, *, key: str, header: Table, header_height: float, content: NoteContent) -> None:
    """Watermark (under the text) and the identifying header with the document's title, on every page."""
    canvas._note_document = key  # the footer counts this page within its document
    width, height = canvas._pagesize
    canvas.saveState()
    canvas.setFillColor(
        colors.Color(0.85, 0.85, 0.85) if content.status == model.DRAFT else colors.Color(0.93, 0.93, 0.93)
    )
    canvas.setFont(BOLD_FONT, 96 if content.status != model.AMENDED else 80)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, -30, content.status)
    canvas.restoreState()
    header.drawOn(canvas, MARGIN, height - MARGIN - header_height)
    canvas.saveState()
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.8)
    y = height - MARGIN - header_height - 1.5 * mm
    canvas.line(MARGIN, y, width - MARGIN, y)
    canvas.restoreState()


def _header_table(head: model.Header, title: str, width: float, st: Styles) -> Table:
    widths = [width * f for f in (0.43, 0.23, 0.17, 0.17)]

    def cell(label: str, value: str, column: int) -> Paragraph:
        fit = (widths[column] - 4, st.cell.fontSize)  # less the right padding
        value_markup = markup(value, bold=True, fit=fit)
        return paragraph(f'<font size="6.5" color="#555555">{markup(label)}</font><br/><b>{value_markup}</b>', st.cell)

    rows = [
        [
            paragraph(markup(head.facility, bold=True), st.facility),
            paragraph(f"{markup(title, bold=True)}<br/>{_subtitle(head.title)}", st.title),
            "",
            "",
        ],
        [
            cell("Patient", head.patient_name, 0),
            cell("MRN", head.mrn, 1),
            cell("Date of birth", head.date_of_birth, 2),
            cell("Date of service", head.date_of_service, 3),
        ],
    ]
    table = Table(rows, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("SPAN", (1, 0), (3, 0)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _subtitle(procedure: str) -> str:
    return f'<font name="{BODY_FONT}" size="8">{markup(procedure)}</font>'


__all__ = ["markup", "render_pdf"]
