"""The note's font fallback chain: which embedded font draws each character, each font registered on first use."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics

from .. import paths
from .shaping import FIRST_STAND_IN, ShapingFont

Ranges = tuple[tuple[int, int], ...]

ARABIC: Ranges = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
HEBREW: Ranges = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
DEVANAGARI: Ranges = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))
THAI: Ranges = ((0x0E00, 0x0E7F),)
# Han and kana: every CJK Unified Ideograph of the basic block (U+4E00-U+9FFF; the font draws
# 20,902 of them: all of Unicode 1.1's unified block, which holds GB 2312, Big5, JIS X 0208/0212 and
# KS X 1001 hanja, so the rare characters parents pick for names too), the compatibility ideographs
# names still use (U+F900-U+FAFF, e.g. U+FA11 in Yamazaki), CJK symbols (U+3005, the iteration mark
# in Sasaki), hiragana, katakana with its phonetic extension, and half- and full-width forms.
# Not kept: Extension A and beyond (U+3400 and up), rare even in names, to keep the wheel small.
HAN_KANA: Ranges = (
    (0x3000, 0x303F),
    (0x3040, 0x309F),
    (0x30A0, 0x30FF),
    (0x31F0, 0x31FF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
)
# Hangul: all 11,172 precomposed syllables, the conjoining jamo (and their extensions) and the
# compatibility jamo, so any modern Korean name, typed precomposed or decomposed, prints.
HANGUL: Ranges = ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
# Spaces and punctuation, kept in every script font (where the font has them): between two words of
# one script they go to that script's font, so a name such as "לוי-כהן" is one run, shaped together
# and read back in order (pypdf puts right-to-left text back in order one text operator at a time).
NEUTRALS: Ranges = (
    (0x0020, 0x002F),
    (0x003A, 0x0040),
    (0x005B, 0x0060),
    (0x007B, 0x007E),
    (0x00A0, 0x00A0),
    (0x00AB, 0x00AB),
    (0x00BB, 0x00BB),
    (0x2010, 0x2027),
)
# Also kept: joiners and directional marks (Persian and Indic names use ZWNJ/ZWJ) and the dotted
# circle that shapers draw under a mark with no base.
COMMON: Ranges = (*NEUTRALS, (0x200C, 0x200F), (0x25CC, 0x25CC))


@dataclass(frozen=True)
class ChainFont:
    """One font of the chain: its reportlab names, its files in resources/fonts and the ranges it draws."""

    name: str
    regular: str
    bold: str | None  # None: bold text in this script prints in the regular face
    ranges: Ranges  # the script this font is preferred for (the primary font: empty, it takes the rest)

    @property
    def bold_name(self) -> str:
        return f"{self.name}-Bold" if self.bold else self.name


PRIMARY = ChainFont("NoteSans", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", ())
CHAIN = (
    PRIMARY,  # Latin, Greek, Cyrillic (and Vietnamese), symbols
    ChainFont("NoteArabic", "NotoSansArabic-Regular.subset.ttf", "NotoSansArabic-Bold.subset.ttf", ARABIC),
    ChainFont("NoteHebrew", "NotoSansHebrew-Regular.subset.ttf", "NotoSansHebrew-Bold.subset.ttf", HEBREW),
    ChainFont(
        "NoteDevanagari", "NotoSansDevanagari-Regular.subset.ttf", "NotoSansDevanagari-Bold.subset.ttf", DEVANAGARI
    ),
    ChainFont("NoteThai", "NotoSansThai-Regular.subset.ttf", "NotoSansThai-Bold.subset.ttf", THAI),
    ChainFont("NoteHanKana", "DroidSansFallback-HanKana.subset.ttf", None, HAN_KANA),
    ChainFont("NoteHangul", "NotoSansCJKkr-Hangul.subset.ttf", None, HANGUL),
)
FACE_NAMES = frozenset(n for f in CHAIN for n in (f.name, f.bold_name))
# Invisible format characters no font draws (bidi embeddings, isolates, soft hyphen, BOM...): they
# are left out of the drawing rather than shown as a box. Joiners and marks the fonts map are kept.
# Bidi embeddings, overrides and isolates: the note lays right-to-left text out by the implicit
# rules only (bidi.py), so these are not drawn (names refuse them; other text may hold them).
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_lock = threading.RLock()


def register(font: ChainFont) -> None:
    """Register both faces of `font` with reportlab (once per process)."""
    with _lock:
        if font.name in pdfmetrics.getRegisteredFontNames():
            return
        folder = paths.resources_dir() / "fonts"
        pdfmetrics.registerFont(ShapingFont(font.name, str(folder / font.regular)))
        if font.bold:
            pdfmetrics.registerFont(ShapingFont(font.bold_name, str(folder / font.bold)))
        bold = font.bold_name
        pdfmetrics.registerFontFamily(font.name, normal=font.name, bold=bold, italic=font.name, boldItalic=bold)


def forget_stand_ins() -> None:
    """Let each registered font prune its shaping stand-ins (call between documents only)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name in FACE_NAMES & registered:
        font = pdfmetrics.getFont(name)
        if isinstance(font, ShapingFont):
            font.forget_stand_ins()


def _cmap(font: ChainFont) -> dict[int, int]:
    register(font)
    return pdfmetrics.getFont(font.name).face.charToGlyph


@lru_cache(maxsize=4096)
def font_for(ch: str) -> ChainFont | None:
    """The font that draws `ch`: the script's own font, else the primary font, else any that has it."""
    code = ord(ch)
    if code >= FIRST_STAND_IN:
        return None  # private use planes: the fonts' shaping stand-ins live there, no real glyph
    claimed = [f for f in CHAIN[1:] if any(a <= code <= b for a, b in f.ranges)]
    for font in (*claimed, PRIMARY, *CHAIN[1:]):
        if code in _cmap(font):
            return font
    return None


def is_attached(ch: str) -> bool:
    """A mark or joiner: it belongs to the character before it and is shaped with it."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u200c\u200d" or "\ufe00" <= ch <= "\ufe0f"


def needs_shaping(text: str) -> bool:
    """True if `text` has anything the primary font cannot print as plain characters (other scripts, marks)."""
    if text.isascii():
        return False
    return any(_complex(ch) for ch in set(text) if not ch.isascii())


@lru_cache(maxsize=4096)
def _complex(ch: str) -> bool:
    return font_for(ch) is not PRIMARY or is_attached(ch) or ch in BIDI_CONTROLS


def placeholder(ch: str) -> str:
    """What prints for a character no embedded font has: its code point, readable, never a box."""
    if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") and ch not in "\n\t":
        return ""
    return f"[U+{ord(ch):04X}]"


def runs(text: str) -> list[tuple[ChainFont, str]]:
    """`text` cut into runs, each drawn by one font of the chain (marks stay with their base)."""
    if not needs_shaping(text):
        return [(PRIMARY, text)]  # the common case, character by character below is slow
    owners: list[ChainFont] = []
    chars: list[str] = []
    for ch in text:
        if ch in BIDI_CONTROLS:
            continue
        font = PRIMARY if ch.isascii() else font_for(ch)
        if is_attached(ch) and owners and code_in(owners[-1], ch):
            font = owners[-1]
        if font is None:
            for part in placeholder(ch):
                owners.append(PRIMARY)
                chars.append(part)
            continue
        owners.append(font)
        chars.append(ch)
    _neutrals_join_runs(chars, owners)
    result: list[tuple[ChainFont, str]] = []
    for font, ch in zip(owners, chars, strict=True):
        if result and result[-1][0] is font:
            result[-1] = (font, result[-1][1] + ch)
        else:
            result.append((font, ch))
    return result


def code_in(font: ChainFont, ch: str) -> bool:
    return ord(ch) in _cmap(font)


_NEUTRAL_CHARS = frozenset(chr(c) for a, b in NEUTRALS for c in range(a, b + 1))


def _neutral(ch: str) -> bool:
    return ch in _NEUTRAL_CHARS


def _neutrals_join_runs(chars: list[str], owners: list[ChainFont]) -> None:
    """Spaces and punctuation between two runs of the same script font join them into one run."""
    for i, ch in enumerate(chars):
        if owners[i] is not PRIMARY or not _neutral(ch):
            continue
        left = next((owners[j] for j in range(i - 1, -1, -1) if not _neutral(chars[j])), None)
        right = next((owners[j] for j in range(i + 1, len(chars)) if not _neutral(chars[j])), None)
        if left is not None and left is right and left is not PRIMARY and code_in(left, ch):
            owners[i] = left
