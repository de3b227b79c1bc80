"""The note's embedded fonts (a fallback chain, see fonts.py) and paragraph styles (built once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle

from . import fonts, textrun

BODY_FONT, BOLD_FONT = fonts.PRIMARY.name, fonts.PRIMARY.bold_name
GRID = colors.Color(0.6, 0.6, 0.6)
HEAD_FILL = colors.Color(0.9, 0.9, 0.9)
MUTED = colors.Color(0.33, 0.33, 0.33)
ALERT = colors.Color(0.65, 0.0, 0.0)
_lock = threading.Lock()
_cache: dict[str, Styles] = {}
_shaped: dict[str, ParagraphStyle] = {}


@dataclass(frozen=True)
class Styles:
    """Every paragraph style the note uses."""

    body: ParagraphStyle
    alert: ParagraphStyle
    muted: ParagraphStyle
    heading: ParagraphStyle
    caption: ParagraphStyle
    label: ParagraphStyle
    cell: ParagraphStyle
    th: ParagraphStyle
    td: ParagraphStyle
    facility: ParagraphStyle
    title: ParagraphStyle


def register_fonts() -> None:
    """Register the primary font family with reportlab (once per process); the others come on first use."""
    with _lock:
        _register()


def _register() -> None:
    fonts.register(fonts.PRIMARY)
    textrun.install()


def shaped(style: ParagraphStyle) -> ParagraphStyle:
    """`style` with shaping on: for text in other scripts (plain text keeps reportlab's faster path)."""
    with _lock:
        if style.name not in _shaped:
            _shaped[style.name] = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
        return _shaped[style.name]


def styles() -> Styles:
    """The note's styles, built on first use."""
    with _lock:
        if "note" not in _cache:
            _register()
            _cache["note"] = _build()
        return _cache["note"]


def _build() -> Styles:
    base = ParagraphStyle("body", fontName=BODY_FONT, fontSize=8.5, leading=10.5, spaceAfter=2, splitLongWords=1)
    small = ParagraphStyle("cell", parent=base, fontSize=8, leading=9.6, spaceAfter=0)
    return Styles(
        body=base,
        alert=ParagraphStyle("alert", parent=base, textColor=ALERT, fontName=BOLD_FONT),
        muted=ParagraphStyle("muted", parent=base, fontSize=8, leading=10, textColor=MUTED),
        heading=ParagraphStyle(
            "heading",
            parent=base,
            fontName=BOLD_FONT,
            fontSize=11,
            leading=14,
            spaceBefore=4,
            spaceAfter=3,
        ),
        caption=ParagraphStyle("caption", parent=small, fontName=BOLD_FONT, spaceBefore=2, spaceAfter=2),
        label=ParagraphStyle("label", parent=small, fontName=BOLD_FONT),
        cell=small,
        th=ParagraphStyle("th", parent=small, fontName=BOLD_FONT, fontSize=7.5, leading=9),
        td=ParagraphStyle("td", parent=small, fontSize=7.5, leading=9),
        facility=ParagraphStyle("facility", parent=base, fontName=BOLD_FONT, fontSize=10, leading=12),
        title=ParagraphStyle("title", parent=base, fontName=BOLD_FONT, fontSize=10, leading=12, alignment=TA_RIGHT),
    )


def alert_fill() -> colors.Color:
    """Background of a flagged table row (late entry, leak, balloon problem)."""
    return colors.Color(1.0, 0.93, 0.85)
