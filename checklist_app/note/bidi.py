"""Right-to-left text inside the note's left-to-right lines: Unicode bidi levels (UAX #9, implicit rules) and order."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import groupby
from unicodedata import bidirectional

# Explicit embeddings, overrides and isolates are not applied: names refuse them (SPEC §5) and the
# note leaves them out of the drawing elsewhere, so every line is one left-to-right paragraph.
_EXPLICIT = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "BN"})
_STRONG = {"L": "L", "R": "R", "EN": "R", "AN": "R"}  # how N1 sees each type
NBSP = "\u00a0"
# The blocks that hold right-to-left letters and Arabic numbers (Hebrew to Arabic Extended,
# presentation forms, and the supplementary right-to-left blocks): text without any is left alone.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]")


def levels(text: str) -> list[int]:
    """The embedding level of each character of `text` as one line of a left-to-right paragraph (0, 1 or 2)."""
    types = _weak_types([bidirectional(ch) or "L" for ch in text])
    _neutral_types(types)
    return [0 if t == "L" else 1 if t == "R" else 2 for t in types]


def _weak_types(types: list[str]) -> list[str]:
    """Rules W1 to W7 (start of line and end of line are L)."""
    previous, last_strong = "L", "L"
    for i, t in enumerate(types):
        if t == "NSM":  # W1: a mark takes the type of what it marks
            t = "ON" if previous in _EXPLICIT else previous
        elif t in _EXPLICIT:
            t = "ON"
        if t in ("L", "R", "AL"):
            last_strong = t
        elif t == "EN" and last_strong == "AL":  # W2
            t = "AN"
        types[i] = previous = t
    types[:] = ["R" if t == "AL" else t for t in types]  # W3
    for i in range(1, len(types) - 1):  # W4
        before, after = types[i - 1], types[i + 1]
        if types[i] == "ES" and before == after == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    i = 0
    while i < len(types):  # W5: terminators next to a European number join it
        j = i
        while j < len(types) and types[j] == "ET":
            j += 1
        if j > i and ((i > 0 and types[i - 1] == "EN") or (j < len(types) and types[j] == "EN")):
            types[i:j] = ["EN"] * (j - i)
        i = max(j, i + 1)
    types[:] = ["ON" if t in ("ES", "ET", "CS") else t for t in types]  # W6
    last_strong = "L"
    for i, t in enumerate(types):  # W7
        if t in ("L", "R"):
            last_strong = t
        elif t == "EN" and last_strong == "L":
            types[i] = "L"
    return types


def _neutral_types(types: list[str]) -> None:
    """Rules N1 and N2: a run of neutrals between two same-direction strongs takes it, else left to right."""
    i = 0
    while i < len(types):
        if types[i] in _STRONG:
            i += 1
            continue
        j = i
        while j < len(types) and types[j] not in _STRONG:
            j += 1
        before = _STRONG[types[i - 1]] if i > 0 else "L"
        after = _STRONG[types[j]] if j < len(types) else "L"
        types[i:j] = [before if before == after else "L"] * (j - i)
        i = j


def visual_order(line_levels: list[int]) -> list[int]:
    """Indices of items in the order they are drawn, left to right (rule L2)."""
    order = list(range(len(line_levels)))
    if not line_levels:
        return order
    for level in range(max(line_levels), 0, -1):
        i = 0
        while i < len(order):
            if line_levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and line_levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j
    return order


def keep_rtl_together(text: str, fits: Callable[[str], bool] | None = None) -> str:
    """`text` with the spaces inside each right-to-left stretch made no-break, so a line never splits it.

    Lines break between words in logical order, but a right-to-left stretch is drawn reversed, so
    it must sit on one line to read right. One wider than a line (`fits` says so) is cut at spaces
    into pieces that fit, each on a line of its own, the first words on the first line.
    """
    if text.isascii() or not _RTL.search(text):
        return text
    return "\n".join(_keep_together(line, fits) for line in text.split("\n"))


def _keep_together(line: str, fits: Callable[[str], bool] | None) -> str:
    marks = levels(line)
    parts: list[str] = []
    for rtl, group in groupby(range(len(line)), key=lambda k: marks[k] > 0):
        indices = list(group)
        stretch = line[indices[0] : indices[-1] + 1]
        if not rtl or fits is None or fits(stretch):
            parts.append(stretch.replace(" ", NBSP) if rtl else stretch)
            continue
        pieces: list[list[str]] = [[]]
        for word in stretch.split(" "):
            if pieces[-1] and not fits(" ".join([*pieces[-1], word])):
                pieces.append([])
            pieces[-1].append(word)
        lead = "\n" if parts and parts[-1].strip() else ""  # the stretch starts a line of its own
        parts.append(lead + "\n".join(NBSP.join(piece) for piece in pieces))
    return "".join(parts)
