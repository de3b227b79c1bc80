"""Mixed-script words in reportlab Paragraphs: each word put in visual order and shaped, run by run, per font."""

from __future__ import annotations

import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedFragWord, ShapedStr, makeShapedFragWord
from reportlab.platypus import paragraph

from . import bidi
from .fonts import FACE_NAMES, needs_shaping
from .shaping import FIRST_STAND_IN, ShapingFont

STAND_IN = chr(FIRST_STAND_IN)

_lock = threading.Lock()
_stock = paragraph.shapeFragWord


def install() -> None:
    """Make Paragraphs whose style has `shaping` set shape their words here (once per process).

    reportlab's own shapeFragWord shapes a whole word with its first font and maps glyphs without
    a character to private-use code points, so a word in two fonts, an Arabic medial form or a
    Devanagari conjunct would print wrong or not read back. It is swapped, in the one module that
    calls it, for `shape_frag_word`, which hands any word it does not own back to reportlab's.
    """
    with _lock:
        paragraph.shapeFragWord = shape_frag_word


def shape_frag_word(word: list, features: object = None, force: bool = False) -> list:
    """A reportlab frag word ([width, (frag, text), ...]) as shaped runs in the order they are drawn."""
    if isinstance(word, ShapedFragWord):
        return word
    pieces = word[1:]
    if any(hasattr(f, "cbDefn") or f.fontName not in FACE_NAMES for f, _ in pieces):
        return _stock(word)
    text = "".join(s for _, s in pieces)
    if any(isinstance(s, ShapedStr) for _, s in pieces) or any(ch >= STAND_IN for ch in text):
        return word  # a piece of a word shaped already (split across lines): its glyphs, not characters
    if not needs_shaping(text):
        return word
    owner = [k for k, (_, s) in enumerate(pieces) for _ in s]
    marks = bidi.levels(text)
    runs: list[tuple[int, int]] = []  # (start, end) of each stretch of one frag at one level
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or owner[i] != owner[start] or marks[i] != marks[start]:
            runs.append((start, i))
            start = i
    shaped = makeShapedFragWord(word)([])
    width = 0.0
    for index in bidi.visual_order([marks[a] for a, _ in runs]):
        a, b = runs[index]
        frag = pieces[owner[a]][0]
        font = pdfmetrics.getFont(frag.fontName)
        assert isinstance(font, ShapingFont)
        glyphs, run_width = font.shape(text[a:b], frag.fontSize, rtl=marks[a] % 2 == 1)
        shaped.append((frag, glyphs))
        width += run_width
    shaped.insert(0, width)
    return shaped
