"""The note's body as reportlab flowables: headings, prose, label/value grids and tables that wrap and split."""

from __future__ import annotations

import math
import re
from functools import partial
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable, KeepTogether

from . import bidi, fonts, model
from .model import Fields, Section, Text
from .styles import BOLD_FONT, GRID, HEAD_FILL, Styles, alert_fill, shaped

# A number and its unit never part at a line end: '44.6 Gy·cm²', '191 psi', '11 G'.
UNITS = ("mL", "psi", "mg", "mGy", "Gy·cm²", "mGy·cm", "min", "G", "°C", "×10⁹/L", "kg", "mm", "atm", "runs", "units")
_UNIT = re.compile(r"(\d) (?=(?:" + "|".join(map(re.escape, UNITS)) + r")(?!\w))")
_ASCII_UNIT = re.compile(r"(\d) (?=(?:" + "|".join(u for u in UNITS if u.isascii()) + r")(?!\w))")
KEEP_WITH_HEADING = 22 * mm  # room a heading needs below it: itself and a few lines or rows
KEEP_WITH_PROSE = 15 * mm  # a heading and two lines of prose
KEEP_TOGETHER = 70 * mm  # a heading with a first block up to this high, or a table as small, never splits
TALL_ROW = 130 * mm  # a row taller than this might not fit on a page: let it split
CELL_PADDING = 6  # points, left plus right, of every cell


def markup(text: str, *, bold: bool = False, fit: tuple[float, float] | None = None) -> str:
    """User text made safe for a Paragraph: XML-escaped, line breaks kept, each script in its font.

    `bold` says the text sits in bold (a bold style or <b>): a <font face> would otherwise reset it.
    `fit` (width, font size in points) lets a right-to-left stretch wider than the line be cut
    into lines at its spaces (bidi.keep_rtl_together).
    """
    if text.isascii():
        return _ASCII_UNIT.sub("\\1&#160;", escape(text)).replace("\n", "<br/>")
    text = _UNIT.sub(f"\\1{bidi.NBSP}", text)
    fits = None if fit is None else partial(_fits, width=fit[0], size=fit[1], bold=bold)
    parts = []
    for font, run in fonts.runs(bidi.keep_rtl_together(text, fits)):
        safe = escape(run).replace("\n", "<br/>")
        face = font.bold_name if bold else font.name
        parts.append(safe if font is fonts.PRIMARY else f'<font face="{face}">{safe}</font>')
    return "".join(parts)


def _fits(text: str, *, width: float, size: float, bold: bool) -> bool:
    """Whether `text` fits in `width` points, measured with each run's font (nominal widths, a margin)."""
    measured = sum(
        stringWidth(run, font.bold_name if bold else font.name, size)
        for font, run in fonts.runs(text.replace(" ", "\u00a0"))
    )
    return measured * 1.05 <= width


def is_bold(style: ParagraphStyle) -> bool:
    return style.fontName == BOLD_FONT


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of markup, shaped (HarfBuzz, bidi) when it holds more than plain text."""
    return Paragraph(text, shaped(style) if fonts.needs_shaping(text) else style)


FIELD_STYLE = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
]
GRID_STYLE = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
    ("GRID", (0, 0), (-1, -1), 0.25, GRID),
    ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


def section_flowables(section: Section, width: float, st: Styles) -> list[Flowable]:
    """A section's heading and blocks as flowables for a frame `width` points wide."""
    # A heading never ends a page, and stays on the page of its first block when that block is
    # small (a table is then never split); a long section starts right away instead of on a fresh page.
    blocks: list[list[Flowable]] = []
    for block in section.blocks:
        if isinstance(block, Text):
            blocks.append([_text(block, width, st)])
        elif isinstance(block, Fields):
            blocks.append([_fields(block, width, st)])
        else:
            blocks.append(_table(block, width, st))
    first = [f for f in blocks[0] if not isinstance(f, CondPageBreak)] if blocks else []
    heading = paragraph(markup(section.title, bold=True), st.heading)
    # Only the first flowable of the first block goes with the heading: a block of several tables
    # (implants, then devices) would otherwise leave the heading alone at the foot of a page.
    # Prose may start at the foot of a page (CondPageBreak leaves room for the heading and a few
    # lines); a table or a grid of fields moves whole to the next page with its heading when small.
    if section.blocks and isinstance(section.blocks[0], Text):
        flowables: list[Flowable] = [CondPageBreak(KEEP_WITH_PROSE), heading, *first]
    else:
        flowables = [CondPageBreak(KEEP_WITH_HEADING), KeepIfSmall([heading, *first[:1]]), *first[1:]]
    for rest in blocks[1:]:
        flowables += rest
    flowables.append(Spacer(1, 1 * mm))
    return flowables


class KeepIfSmall(KeepTogether):
    """Keeps its flowables on one page when together they are at most KEEP_TOGETHER high (moving them
    to the next page if need be); a taller group starts where it is and splits as usual."""

    def split(self, available_width, available_height):
        if getattr(self, "_wrapInfo", None) != (available_width, available_height):
            self.wrap(available_width, available_height)
        if self._H > KEEP_TOGETHER:
            return self._content[:]
        return super().split(available_width, available_height)


def _text(block: Text, width: float, st: Styles) -> Paragraph:
    style = {"alert": st.alert, "muted": st.muted}.get(block.tone, st.body)
    lead = f"<b>{markup(block.label, bold=True)}</b> " if block.label else ""
    return paragraph(lead + markup(block.text, bold=is_bold(style), fit=(width, style.fontSize)), style)


def _fields(block: Fields, width: float, st: Styles) -> Table:
    per_row = max(1, block.pairs_per_row)
    flat = [cell for pair in block.rows for cell in pair]
    flat += [""] * (-len(flat) % (2 * per_row))
    texts = [flat[i : i + 2 * per_row] for i in range(0, len(flat), 2 * per_row)]
    label_share = block.label_share or (0.27 if per_row == 1 else 0.7 / per_row)
    widths = [width * (label_share if i % 2 == 0 else (1 / per_row - label_share)) for i in range(2 * per_row)]
    styles = [st.label if i % 2 == 0 else st.cell for i in range(2 * per_row)]
    rows = [[_cell(t, styles[i], widths[i]) for i, t in enumerate(row)] for row in texts]
    fonts = [("FONT", (i, 0), (i, -1), s.fontName, s.fontSize, s.leading) for i, s in enumerate(styles)]
    return _grid(rows, texts, widths, FIELD_STYLE + fonts, st.cell.fontSize)


def _table(block: model.Table, width: float, st: Styles) -> list[Flowable]:
    """A table; a table with sub-heading rows (`groups`) prints as one table per group, each under
    its sub-heading as a caption, with the column headings repeated."""
    if not block.groups:
        return _one_table(block, width, st)
    cuts = [0, *sorted(g + 1 for g in block.groups if 0 <= g < len(block.rows)), len(block.rows) + 1]
    flowables: list[Flowable] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        caption = block.caption if start == 0 else block.rows[start - 1][0]
        rows = block.rows[start : end - 1] if end <= len(block.rows) else block.rows[start:]
        flagged = tuple(i - start for i in block.flagged if start <= i < start + len(rows))
        last = end > len(block.rows)
        part = model.Table(block.header, rows, block.widths, block.totals if last else None, flagged, caption)
        if rows or part.totals:
            flowables += _one_table(part, width, st)
    return flowables


def _one_table(block: model.Table, width: float, st: Styles) -> list[Flowable]:
    total = sum(block.widths) or 1
    widths = [width * w / total for w in block.widths]
    texts = [list(block.header), *map(list, block.rows), *([list(block.totals)] if block.totals else [])]
    bold = {0, len(texts) - 1} if block.totals else {0}
    styles = [st.th if i in bold else st.td for i in range(len(texts))]
    rows = [[_cell(c, styles[i], widths[j]) for j, c in enumerate(row)] for i, row in enumerate(texts)]
    commands = GRID_STYLE + [("BACKGROUND", (0, i + 1), (-1, i + 1), alert_fill()) for i in block.flagged]
    commands += [("FONT", (0, i), (-1, i), s.fontName, s.fontSize, s.leading) for i, s in enumerate(styles)]
    if block.totals:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), HEAD_FILL))
    table = _grid(rows, texts, widths, commands, st.td.fontSize, repeat_rows=1)
    if not block.caption:
        return [KeepIfSmall([table]), Spacer(1, 1.5 * mm)]
    caption = paragraph(markup(block.caption, bold=True), st.caption)
    return [CondPageBreak(KEEP_WITH_HEADING), KeepIfSmall([caption, table]), Spacer(1, 1.5 * mm)]


def _cell(text: str, style: ParagraphStyle, width: float) -> str | Paragraph:
    """One-line text as a plain string (drawn as is, nothing to escape, fast); anything longer as a Paragraph."""
    plain = "\n" not in text and not fonts.needs_shaping(text)
    if plain and stringWidth(text, style.fontName, style.fontSize) <= width - CELL_PADDING:
        return text
    return paragraph(markup(text, bold=is_bold(style), fit=(width - CELL_PADDING, style.fontSize)), style)


def _grid(rows, texts, widths, commands, font_size: float, *, repeat_rows: int = 0) -> Table:
    """A table whose rows stay whole on a page, unless a row may be too tall for any page (then it splits)."""
    tall = any(_row_height(cells, row, widths, font_size) > TALL_ROW for cells, row in zip(rows, texts, strict=True))
    table = Table(rows, colWidths=widths, repeatRows=repeat_rows, splitInRow=1 if tall else 0)
    table.setStyle(TableStyle(commands))
    return table


def _row_height(cells: list, texts: list[str], widths: list[float], font_size: float) -> float:
    """A row's height in points: guessed from its characters, and measured (wrapping its paragraphs)
    whenever the guess is within reach of a tall row. The guess alone can be out by a factor of two
    or more (CJK and emoji are wider than Latin letters, and long words leave lines half empty), and a
    row taller than the page that is not allowed to split stops the whole note (LayoutError)."""
    guess = _estimated_height(texts, widths, font_size)
    if guess <= TALL_ROW / 8:
        return guess
    measured = 0.0
    for cell, width in zip(cells, widths, strict=False):
        if isinstance(cell, Paragraph):
            measured = max(measured, cell.wrap(width - CELL_PADDING, 1e7)[1])
    return max(guess, measured)


def _estimated_height(row: list[str], widths: list[float], font_size: float) -> float:
    """A generous guess of a row's height in points: wrapped lines times the leading."""
    lines = 0
    for text, width in zip(row, widths, strict=False):
        per_line = max(1.0, (width - 6) / (font_size * 0.62))
        lines = max(lines, sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n")))
    return lines * font_size * 1.25
