"""People's names where they bind a signature: NFKC-normalised, and look-alike characters refused (SPEC §6).

A signer is found in the staff directory by name. A name that only *looks* like a colleague's (a
Cyrillic А for a Latin A, a no-break or zero-width space) must never reach the directory or a
signature, or someone could sign as that colleague without their PIN.
"""

from __future__ import annotations

import unicodedata

# Scripts whose letters are mistaken for one another: a word mixing them is refused.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
# The look-alikes of Latin letters in those scripts (Unicode confusables.txt, the common ones): a
# name whose skeleton equals a colleague's is refused when added, even if written in one script.
_SKELETON = str.maketrans(
    "АВСЕНІЈКМОРЅТХУаеһіјорѕсухԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοιν",
    "ABCEHIJKMOPSTXYaehijopscyxdqwABEZHIKMNOPTYXoiv",
)


_LOOKALIKES = frozenset(chr(c) for c in _SKELETON)  # Cyrillic and Greek letters that look Latin
_LATIN_TWINS = frozenset(chr(c) for c in _SKELETON.values() if isinstance(c, int))  # the Latin letters they pass for


def normal(name: str) -> str:
    """The form names are stored and compared in: Unicode NFKC."""
    return unicodedata.normalize("NFKC", name)


def look_alike_problem(name: str) -> str | None:
    """Why `name` could pass for someone else's name, or None.

    Refused: any space but the plain one (no-break, thin, ideographic...), invisible format
    characters (zero-width space, joiners, soft hyphen...), and a word mixing Latin, Cyrillic or
    Greek letters.
    """
    for ch in name:
        category = unicodedata.category(ch)
        if (category == "Zs" and ch != " ") or category == "Cf":
            what = unicodedata.name(ch, f"U+{ord(ch):04X}").lower()
            return f"contains an invisible or look-alike character ({what}, U+{ord(ch):04X}): type the name plainly"
    for word in name.split(" "):
        problem = _mixed_look_alike(word)
        if problem:
            return problem
    return None


def _mixed_look_alike(word: str) -> str | None:
    """A word written mostly in one of Latin, Cyrillic or Greek with a look-alike letter of another.

    (A word may mix scripts for real, "Ωmega"; what is refused is a letter that passes for one of
    the word's own script, a Cyrillic а in "Dаna" or a Latin a in "Жаннa".)
    """
    letters = [(ch, _script(ch)) for ch in word if ch.isalpha() and _script(ch) in _CONFUSABLE_SCRIPTS]
    scripts = {script for _, script in letters}
    if len(scripts) < 2:
        return None
    main = max(scripts, key=lambda script: sum(1 for _, s in letters if s == script))
    for ch, script in letters:
        if script == main:
            continue
        disguised = ch in _LOOKALIKES if main == "LATIN" else ch in _LATIN_TWINS
        if disguised:
            return (
                f"mixes {' and '.join(s.title() for s in sorted(scripts))} letters in '{word}' (the "
                f"{script.title()} '{ch}' looks like a {main.title()} letter): type it in one alphabet"
            )
    return None


def skeleton(name: str) -> str:
    """What a name looks like: NFKC, case-folded, look-alike letters mapped to Latin, spaces collapsed."""
    return " ".join(normal(name).translate(_SKELETON).casefold().split())


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]
