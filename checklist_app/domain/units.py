"""Units of the values the nurse types: conversion within a dimension and parsing of "17 atm"-style text."""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

PSI_PER_ATM = Fraction("14.696")  # SPEC §3: 1 atm = 14.696 psi (balloon inflators show either)


class UnitError(ValueError):
    """A unit that is unknown, a conversion between different kinds of quantity, or an unusable number."""


# canonical unit -> (dimension, size in the dimension's first unit). Fractions keep conversions exact
# until the single final rounding to float.
_UNITS: dict[str, tuple[str, Fraction]] = {
    "psi": ("pressure", Fraction(1)),
    "atm": ("pressure", PSI_PER_ATM),
    "Gy·cm²": ("kerma-area product", Fraction(1)),
    "dGy·cm²": ("kerma-area product", Fraction(1, 10)),
    "cGy·cm²": ("kerma-area product", Fraction(1, 100)),
    "mGy·cm²": ("kerma-area product", Fraction(1, 1000)),
    "µGy·m²": ("kerma-area product", Fraction(1, 100)),  # 1e-6 Gy × 1e4 cm²
    "mGy": ("air kerma", Fraction(1)),
    "Gy": ("air kerma", Fraction(1000)),
    "min": ("time", Fraction(1)),
    "s": ("time", Fraction(1, 60)),
    "mL": ("volume", Fraction(1)),
    "mg": ("mass", Fraction(1)),
    "g": ("mass", Fraction(1000)),
    "kg": ("mass", Fraction(1_000_000)),
    "mGy·cm": ("dose-length product", Fraction(1)),
    "Gy·cm": ("dose-length product", Fraction(1000)),
    # Units with nothing to convert to; known so that typos are still caught.
    "%": ("percentage", Fraction(1)),
    "ratio": ("ratio", Fraction(1)),
    "×10⁹/L": ("cell count", Fraction(1)),
    "°C": ("temperature", Fraction(1)),
    "G": ("gauge", Fraction(1)),
    "runs": ("count", Fraction(1)),
    "/10": ("score", Fraction(1)),
}

# Other spellings people and devices use (ASCII from keyboards, scanners and DICOM exports).
# Case does not matter unless it tells units apart ("G" gauge, "g" gram).
_ALIASES = {
    "Gy*cm2": "Gy·cm²",
    "mGy*cm": "mGy·cm",
    "dGy*cm2": "dGy·cm²",
    "cGy*cm2": "cGy·cm²",
    "mGy*cm2": "mGy·cm²",
    "uGy*m2": "µGy·m²",
    "cc": "mL",
    "sec": "s",
    "seconds": "s",
    "mins": "min",
    "minutes": "min",
    "x10^9/L": "×10⁹/L",
    "10^9/L": "×10⁹/L",
    "G/L": "×10⁹/L",  # giga per litre, the usual European spelling
    "C": "°C",
}


def _key(unit: str) -> str:
    """A spelling-insensitive key: compatibility-normalised (², µ), without spaces or product signs."""
    text = unicodedata.normalize("NFKC", unit).replace("×", "x").replace("μ", "u")
    return re.sub(r"[\s·⋅*.^]", "", text)


_EXACT: dict[str, str] = {}
_FOLDED: dict[str, str | None] = {}  # None: differs only by case from another unit
for _name in (*_UNITS, *_ALIASES):
    _canonical = _ALIASES.get(_name, _name)
    _EXACT[_key(_name)] = _canonical
    _folded = _key(_name).casefold()
    _FOLDED[_folded] = _canonical if _FOLDED.get(_folded, _canonical) == _canonical else None


def canonical_unit(unit: str) -> str:
    """The canonical spelling of `unit` ('atm', 'Gy·cm²'...), accepting aliases like 'uGy*m2' or 'ml'."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError("no unit given")
    key = _key(unit)
    found = _EXACT.get(key) or _FOLDED.get(key.casefold())
    if found is None:
        raise UnitError(f"unknown unit '{unit}'")
    return found


def dimension(unit: str) -> str:
    """What `unit` measures ('pressure', 'kerma-area product', ...)."""
    return _UNITS[canonical_unit(unit)][0]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit` expressed in `to_unit`, e.g. convert(17, "atm", "psi") == 249.832."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnitError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise UnitError(f"{value} is not a finite number")
    source, target = canonical_unit(from_unit), canonical_unit(to_unit)
    (kind_from, size_from), (kind_to, size_to) = _UNITS[source], _UNITS[target]
    if kind_from != kind_to:
        raise UnitError(f"cannot convert {source} ({kind_from}) to {target} ({kind_to})")
    if source == target:
        return float(value)
    return float(Fraction(value) * size_from / size_to)


# A plain decimal (no exponent, no thousands separator), then a unit that does not start with a digit.
_QUANTITY = re.compile(r"^\s*([+-]?(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+))(?!\s*[0-9.,])\s*(.*?)\s*$")


_CLOCK = re.compile(r"^\s*([0-9]{1,3}):([0-5][0-9])\s*$")


def parse_quantity(text: str, default_unit: str | None = None) -> tuple[float, str]:
    """'17 atm' -> (17.0, 'atm'); '250psi' -> (250.0, 'psi'); '1,5 mL' -> (1.5, 'mL'); '4:30' -> (4.5, 'min').

    A comma is a decimal separator. '1,500' is refused as ambiguous (1.5 or 1500?) rather than
    guessed. Without a unit in the text, `default_unit` is used, if given. Minutes and seconds
    ("mm:ss", as fluoroscopy displays show the time) are read as minutes.
    """
    if not isinstance(text, str):
        raise UnitError(f"{text!r} is not text")
    clock = _CLOCK.match(unicodedata.normalize("NFKC", text))
    if clock is not None:
        return int(clock.group(1)) + int(clock.group(2)) / 60, "min"
    match = _QUANTITY.match(unicodedata.normalize("NFKC", text))
    if match is None:
        raise UnitError(f"'{text.strip()}' is not a number with a unit (e.g. 17 atm, 1.5 mL)")
    number, unit = match.groups()
    whole, _, fraction = number.replace(",", ".").partition(".")
    if "," in number and len(fraction) == 3 and whole.lstrip("+-") not in ("", "0"):
        raise UnitError(f"'{number}' is ambiguous: write {whole}.{fraction.rstrip('0') or '0'} or {whole}{fraction}")
    if not unit:
        if default_unit is None:
            raise UnitError(f"'{text.strip()}' has no unit")
        unit = default_unit
    value = float(number.replace(",", "."))
    return value, canonical_unit(unit)
