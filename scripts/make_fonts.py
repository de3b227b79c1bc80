"""Rebuild the note's fallback fonts in resources/fonts from Debian's font packages, with fontTools.

Run on a Debian 12 machine (as root):
    apt-get install -y fonts-noto-core fonts-noto-cjk fonts-droid-fallback
    pip install fonttools
    python scripts/make_fonts.py [--check]

Each output is a subset of one Debian font file to the Unicode ranges its font claims in the note's
fallback chain (checklist_app/note/fonts.py: CHAIN, plus COMMON spaces and punctuation), with every OpenType
layout feature kept (Arabic joining, Indic reordering, mark positioning) and hinting dropped (the
PDF and the window render unhinted at print sizes). Noto Sans CJK ships CFF outlines, which
reportlab's TTFont cannot read, so its Hangul subset is converted to TrueType (quadratic) outlines.
`--check` rebuilds into a scratch folder and fails if any committed file differs.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from checklist_app.note import fonts as chain  # noqa: E402 - the ranges come from the chain itself

NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DROID = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
OUT = Path(__file__).resolve().parent.parent / "resources" / "fonts"


@dataclass(frozen=True)
class Source:
    """One committed subset: the Debian file it is cut from; its ranges are its chain font's plus COMMON."""

    output: str
    source: Path
    collection_index: int | None = None  # a face of a .ttc
    to_truetype: bool = False  # CFF outlines converted to TrueType

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        font = next(f for f in chain.CHAIN if self.output in (f.regular, f.bold))
        return font.ranges + chain.COMMON


FONTS = (
    Source("NotoSansArabic-Regular.subset.ttf", NOTO / "NotoSansArabic-Regular.ttf"),
    Source("NotoSansArabic-Bold.subset.ttf", NOTO / "NotoSansArabic-Bold.ttf"),
    Source("NotoSansHebrew-Regular.subset.ttf", NOTO / "NotoSansHebrew-Regular.ttf"),
    Source("NotoSansHebrew-Bold.subset.ttf", NOTO / "NotoSansHebrew-Bold.ttf"),
    Source("NotoSansDevanagari-Regular.subset.ttf", NOTO / "NotoSansDevanagari-Regular.ttf"),
    Source("NotoSansDevanagari-Bold.subset.ttf", NOTO / "NotoSansDevanagari-Bold.ttf"),
    Source("NotoSansThai-Regular.subset.ttf", NOTO / "NotoSansThai-Regular.ttf"),
    Source("NotoSansThai-Bold.subset.ttf", NOTO / "NotoSansThai-Bold.ttf"),
    Source("DroidSansFallback-HanKana.subset.ttf", DROID),
    Source("NotoSansCJKkr-Hangul.subset.ttf", NOTO_CJK, collection_index=1, to_truetype=True),
)


def build(source: Source, folder: Path) -> Path:
    """Write one subset into `folder` and return its path."""
    font = TTCollection(source.source)[source.collection_index] if source.collection_index is not None else None
    font = font or TTFont(source.source)
    options = subset.Options()
    options.layout_features = ["*"]
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]  # keep the copyright, licence and version strings
    options.name_languages = ["*"]
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for first, last in source.ranges for c in range(first, last + 1)])
    subsetter.subset(font)
    if source.to_truetype:
        _to_truetype(font)
    font["head"].modified = font["head"].created  # no build time in the file: rebuilds are identical
    font.recalcTimestamp = False
    path = folder / source.output
    font.save(path, reorderTables=True)
    return path


def _to_truetype(font: TTFont) -> None:
    """Replace CFF outlines with quadratic TrueType ones (within 1 unit of the 1000-unit em)."""
    glyph_set, order = font.getGlyphSet(), font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs"):
        setattr(maxp, field, 0)
    for field in ("maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0  # no glyph names: smaller, and nothing reads them
    font.sfntVersion = "\0\1\0\0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild in a scratch folder and compare")
    args = parser.parse_args(argv)
    missing = [str(s.source) for s in FONTS if not s.source.exists()]
    if missing:
        print("missing Debian font files (install fonts-noto-core fonts-noto-cjk fonts-droid-fallback):", *missing)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) if args.check else OUT
        different = []
        for source in FONTS:
            path = build(source, folder)
            print(f"{path.name}: {path.stat().st_size:,} bytes")
            if args.check and not filecmp.cmp(path, OUT / source.output, shallow=False):
                different.append(source.output)
    if different:
        print("differs from the committed file:", *different)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
