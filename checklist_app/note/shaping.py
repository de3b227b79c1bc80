"""Shaping one run of text with HarfBuzz into glyphs reportlab can draw, each glyph mapped back to its text."""

from __future__ import annotations

import threading

import uharfbuzz as hb
from reportlab.pdfbase.ttfonts import SUBSETN, ShapeData, ShapedStr, TTFont

# Plain HarfBuzz defaults plus kerning: what a word processor would do, no discretionary ligatures.
FEATURES = {"kern": True, "liga": True}
# Glyphs that no character maps to (an Arabic medial form, a Devanagari conjunct, a reordered
# vowel) are given stand-in code points in the supplementary private use planes: reportlab then
# draws them like any character, and the PDF's ToUnicode maps each back to the text it shows.
# The stand-ins never reach the PDF (reportlab numbers a subset's codes itself), so the same text
# gives the same bytes whatever was printed before in the process.
FIRST_STAND_IN, LAST_STAND_IN = 0xF0000, 0x10FFFD
RESET_AFTER = 20_000  # stand-ins kept per font before the table is started again (between notes)


class ShapingFont(TTFont):
    """A TrueType font that can shape runs with HarfBuzz and writes a ToUnicode map of whole clusters."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename)
        with open(filename, "rb") as handle:
            self._hb = hb.Font(hb.Face(hb.Blob(handle.read())))
        self._upem = self.face.unitsPerEm
        self._stand_in_lock = threading.Lock()
        self._base_chars = frozenset(self.face.charToGlyph)
        self._stand_ins: dict[tuple[int, str], int] = {}
        self.to_unicode: dict[int, str] = {}  # stand-in code point -> the text its glyph shows

    def units(self, value: float) -> float:
        """Font units as thousandths of the font size (PDF glyph space)."""
        return value * 1000 / self._upem

    def code_for(self, glyph: int, text: str) -> str:
        """A character that draws `glyph` and reads back as `text`: the text itself if the font maps it so."""
        if len(text) == 1 and self.face.charToGlyph.get(ord(text)) == glyph:
            return text
        key = (glyph, text)
        with self._stand_in_lock:
            code = self._stand_ins.get(key)
            if code is None:
                code = FIRST_STAND_IN + len(self._stand_ins)
                if code > LAST_STAND_IN:
                    raise RuntimeError("shaping: stand-in code points exhausted")
                self._stand_ins[key] = code
                self.to_unicode[code] = text
                self.face.charToGlyph[code] = glyph
                self.face.charWidths[code] = round(self.units(self._hb.get_glyph_h_advance(glyph)))
        return chr(code)

    def forget_stand_ins(self) -> None:
        """Drop the stand-ins once there are many (only between documents: codes in use must stay)."""
        with self._stand_in_lock:
            if len(self._stand_ins) < RESET_AFTER:
                return
            for code in self.to_unicode:
                self.face.charToGlyph.pop(code, None)
                self.face.charWidths.pop(code, None)
            self._stand_ins.clear()
            self.to_unicode.clear()

    def shape(self, text: str, size: float, *, rtl: bool) -> tuple[ShapedStr, float]:
        """`text` shaped as one run (glyphs left to right as drawn) and its width in points."""
        buffer = hb.Buffer()
        buffer.add_codepoints([ord(ch) for ch in text])
        buffer.guess_segment_properties()
        buffer.direction = "rtl" if rtl else "ltr"
        hb.shape(self._hb, buffer, FEATURES)
        infos, positions = buffer.glyph_infos, buffer.glyph_positions
        starts = sorted({info.cluster for info in infos})
        ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
        said: set[int] = set()
        chars: list[str] = []
        data: list[ShapeData] = []
        width = 0.0
        for info, pos in zip(infos, positions, strict=True):
            cluster = info.cluster
            # The first glyph drawn of a cluster carries its whole text (a conjunct, a ligature, a
            # letter with its marks); the others read as nothing, so extraction gives the text once.
            said_text = "" if cluster in said else text[cluster : ends[cluster]].replace("\u00a0", " ")
            said.add(cluster)
            ch = self.code_for(info.codepoint, said_text)
            advance = self.units(pos.x_advance)
            nominal = self.face.charWidths.get(ord(ch), advance)
            data.append(
                ShapeData(
                    cluster,
                    advance,
                    self.units(pos.y_advance),
                    self.units(pos.x_offset),
                    self.units(pos.y_offset),
                    nominal,
                )
            )
            chars.append(ch)
            width += advance * size / 1000
        return ShapedStr("".join(chars), shapeData=data), width

    def addObjects(self, doc) -> None:
        """Embed the subsets as reportlab does, then rewrite their ToUnicode maps to name stand-ins' text."""
        state = self.state.get(doc)
        subsets = [list(s) for s in state.subsets] if state is not None else []
        super().addObjects(doc)
        for n, subset in enumerate(subsets):
            if not any(code > 0xFFFF for code in subset):
                continue  # reportlab's own map is right (and unchanged, so plain notes keep their bytes)
            base = (b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX))).decode("pdfdoc")
            stream = doc.idToObject["toUnicodeCMap:" + base]
            stream.content = _to_unicode_cmap(base, [self.to_unicode.get(code, chr(code)) for code in subset])


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _to_unicode_cmap(name: str, texts: list[str]) -> str:
    """A ToUnicode CMap mapping code i of a subset to texts[i] (several characters, or none)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        f"/CIDSystemInfo << /Registry ({name}) /Ordering ({name}) /Supplement 0 >> def",
        f"/CMapName /{name} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(texts) - 1:02X}>",
        "endcodespacerange",
    ]
    pairs = [f"<{i:02X}> <{_utf16_hex(t)}>" for i, t in enumerate(texts)]
    for start in range(0, len(pairs), 100):  # at most 100 entries a block (PDF 32000-1, 9.10.3)
        chunk = pairs[start : start + 100]
        lines += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines)
