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
        self._stand_ins: dict[tuple[int, str, int | None], int] = {}
        self.to_unicode: dict[int, str] = {}  # stand-in code point -> the text its glyph shows

    def units(self, value: float) -> float:
        """Font units as thousandths of the font size (PDF glyph space)."""
        return value * 1000 / self._upem

    def code_for(self, glyph: int, text: str, width: int | None = None) -> str:
        """A character that draws `glyph` and reads back as `text`: the text itself if the font maps it so.

        `width` (thousandths of an em) is the advance the PDF declares for it, if not the glyph's own.
        """
        if width is None and len(text) == 1 and self.face.charToGlyph.get(ord(text)) == glyph:
            return text
        key = (glyph, text, width)
        with self._stand_in_lock:
            code = self._stand_ins.get(key)
            if code is None:
                code = FIRST_STAND_IN + len(self._stand_ins)
                if code > LAST_STAND_IN:
                    raise RuntimeError("shaping: stand-in code points exhausted")
                self._stand_ins[key] = code
                self.to_unicode[code] = text
                self.face.charToGlyph[code] = glyph
                own = round(self.units(self._hb.get_glyph_h_advance(glyph)))
                self.face.charWidths[code] = own if width is None else width
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
        texts = self._glyph_texts(text, [(info.cluster, info.codepoint) for info in infos], rtl=rtl)
        chars: list[str] = []
        data: list[ShapeData] = []
        width = 0.0
        for info, pos, said_text in zip(infos, positions, texts, strict=True):
            cluster = info.cluster
            advance = self.units(pos.x_advance)
            # A glyph the font moves left (a Thai tone mark beside the tall stem of ป) is declared as
            # wide as the way back, so no rightward step follows it: pypdf reads such a step as a space.
            back = round(advance - self.units(pos.x_offset)) if pos.x_offset < 0 else None
            ch = self.code_for(info.codepoint, said_text, back)
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
        if data and data[0].y_offset:
            # reportlab 5.1 (textobject._formatText) fails with IndexError when a shaped string's
            # first glyph is raised or lowered (an Arabic shadda at the left end of a run): such a
            # run leads with an empty space that takes no room (drawn, then stepped back over).
            space = self.face.charToGlyph[32]
            chars.insert(0, self.code_for(space, ""))
            data.insert(0, ShapeData(data[0].cluster, 0, 0, 0, 0, self.face.charWidths[ord(chars[0])]))
        return ShapedStr("".join(chars), shapeData=data), width

    def _glyph_texts(self, text: str, glyphs: list[tuple[int, int]], *, rtl: bool) -> list[str]:
        """The text each glyph (cluster, glyph id; in drawing order) reads back as."""
        starts = sorted({cluster for cluster, _ in glyphs})
        ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
        members: dict[int, list[int]] = {}
        for k, (cluster, _) in enumerate(glyphs):
            members.setdefault(cluster, []).append(k)
        result = [""] * len(glyphs)
        for cluster, indices in members.items():
            whole = text[cluster : ends[cluster]].replace("\u00a0", " ")
            split = self._split_cluster(whole, [glyphs[k][1] for k in indices], rtl=rtl)
            for k, piece in zip(indices, split, strict=True):
                result[k] = piece
        return result

    def _split_cluster(self, whole: str, members: list[int], *, rtl: bool) -> list[str]:
        """Each glyph of a right-to-left cluster its own character where that keeps order, else all on the first.

        Only right-to-left clusters are split: one character per glyph lets pypdf put a letter and
        its shadda back in order (it takes a glyph that reads as several characters for a neutral).
        Left-to-right clusters keep their whole text on the first glyph: a Devanagari vowel sign is
        drawn before its consonant, and a Thai mark moved by the font must not read as a gap.
        """
        if not rtl or len(members) == 1:
            return [whole] + [""] * (len(members) - 1)
        remaining = list(whole)
        texts: list[str | None] = []
        for glyph in members:
            match = next((c for c in remaining if self.face.charToGlyph.get(ord(c)) == glyph), None)
            if match is not None:
                remaining.remove(match)
            texts.append(match)
        if None in texts:
            texts[texts.index(None)] = "".join(remaining)
            remaining = []
        split = [t or "" for t in texts]
        if not remaining and "".join(reversed(split) if rtl else split) == whole:
            return split
        return [whole] + [""] * (len(members) - 1)

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
