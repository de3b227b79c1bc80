"""Reading a rendered note's fonts back: what each text operator draws, in drawing order, and with which glyph."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

_BLOCK = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


@dataclass(frozen=True)
class Drawn:
    """One code drawn by a text operator: the font's PDF name, the code, its glyph and the text it reads as."""

    font: str
    code: int
    glyph: int | None  # None: the font is not embedded
    text: str


def drawn(pdf: bytes) -> list[Drawn]:
    """Every code the note draws, page by page, in the order the content streams draw them."""
    reader = PdfReader(io.BytesIO(pdf))
    result: list[Drawn] = []
    for page in reader.pages:
        fonts = {name: _Font(ref.get_object()) for name, ref in page["/Resources"]["/Font"].items()}
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = fonts[operands[0]]
            elif operator in (b"Tj", b"TJ") and current is not None:
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for item in strings:
                    if isinstance(item, bytes | str):
                        raw = item.original_bytes if hasattr(item, "original_bytes") else bytes(item)
                        result += [current.draw(code) for code in raw]
    return result


def drawn_text(pdf: bytes) -> str:
    """The text of every drawn code, concatenated in drawing order (left to right within a line)."""
    return "".join(d.text for d in drawn(pdf))


class _Font:
    """A simple TrueType font of the PDF: its ToUnicode map and its embedded font's code-to-glyph map."""

    def __init__(self, font) -> None:
        self.name = str(font["/BaseFont"])
        self.to_unicode: dict[int, str] = {}
        if "/ToUnicode" in font:
            for block in _BLOCK.findall(font["/ToUnicode"].get_object().get_data()):
                for code, text in _BFCHAR.findall(block):
                    self.to_unicode[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
        descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else {}
        self.glyphs: dict[int, int] | None = None
        if "/FontFile2" in descriptor:
            embedded = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
            order = embedded.getGlyphOrder()
            cmap = embedded["cmap"].getcmap(1, 0) or embedded["cmap"].getcmap(3, 0) or embedded["cmap"].tables[0]
            self.glyphs = {code: order.index(name) for code, name in cmap.cmap.items()}

    def draw(self, code: int) -> Drawn:
        glyph = None if self.glyphs is None else self.glyphs.get(code, 0)
        return Drawn(self.name, code, glyph, self.to_unicode.get(code, ""))
