"""Billing and diagnosis codes for the note: CPT lines per treated level and ICD-10-CM suggestions.

The tables are data (resources/codes.toml), read and checked here the way templates are; the rules
that apply them (primary code for the first level in spine order, add-on codes after it, one
trauma code per region) are this module's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Refusal
from .setup import INDICATIONS, PROCEDURES, canonical_level, level_index

REGIONS = ("C", "T", "L", "S")
_CPT_RE = re.compile(r"^\d{4}[0-9T]$")
_ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class CodingError(ValueError):
    """A code table that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Code:
    """A code and the short words the note prints with it."""

    code: str
    description: str


@dataclass(frozen=True)
class CptLine:
    """One CPT code for one vertebral body; `add_on` marks a "+" code reported with the primary."""

    code: str
    description: str
    level: str
    add_on: bool


@dataclass(frozen=True)
class CodingTables:
    """CPT by procedure (primary code per region, add-on code) and ICD-10-CM by indication."""

    primary: Mapping[str, Mapping[str, Code]]  # procedure -> region -> primary code
    add_on: Mapping[str, Code]  # procedure -> add-on code
    icd10: Mapping[str, tuple[Code, ...]]  # indication -> codes, in the order they are listed
    icd10_by_region: Mapping[str, Mapping[str, Code]]  # indication -> region -> code (traumatic)

    def cpt_codes(self, procedure: str, levels: Iterable[str]) -> list[CptLine]:
        """CPT lines: the primary code for the first level in spine order, an add-on for each further level."""
        if procedure not in self.primary:
            raise Refusal("procedure", f"must be one of {', '.join(PROCEDURES)}")
        ordered = spine_order(levels)
        first = ordered[0]
        primary, add_on = self.primary[procedure][first[0]], self.add_on[procedure]
        lines = [CptLine(primary.code, primary.description, first, add_on=False)]
        lines += [CptLine(add_on.code, add_on.description, level, add_on=True) for level in ordered[1:]]
        return lines

    def suggest_icd10(self, indication: str, levels: Iterable[str]) -> list[tuple[str, str]]:
        """ICD-10-CM codes (code, description) to suggest for the indication; the operator confirms them."""
        if indication not in INDICATIONS:
            raise Refusal("indication", f"must be one of {', '.join(INDICATIONS)}")
        ordered = spine_order(levels)
        if indication in self.icd10_by_region:
            regions = dict.fromkeys(level[0] for level in ordered)
            table = self.icd10_by_region[indication]
            return [(table[r].code, table[r].description) for r in regions]
        return [(c.code, c.description) for c in self.icd10[indication]]


def spine_order(levels: Iterable[str]) -> list[str]:
    """Levels in canonical form, head to tail; refuses none, an unknown level or a repeat."""
    if isinstance(levels, str):
        levels = [levels]
    names = [canonical_level(level) for level in levels]
    if not names:
        raise Refusal("levels", "plan at least one level")
    duplicates = sorted({name for name in names if names.count(name) > 1}, key=level_index)
    if duplicates:
        raise Refusal("levels", f"{duplicates[0]} is listed twice")
    return sorted(names, key=level_index)


def load_coding_tables(path: Path) -> CodingTables:
    """Read and check a code table file (see resources/codes.toml for its layout)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodingError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CodingError(f"{path}: not valid TOML: {exc}") from exc
    return parse_coding_tables(data, str(path))


def parse_coding_tables(data: Mapping[str, Any], source: str) -> CodingTables:
    cpt, icd = _table(data, "cpt", source), _table(data, "icd10", source)
    if set(cpt) != set(PROCEDURES):
        raise CodingError(f"{source}: [cpt] must give exactly {', '.join(PROCEDURES)}")
    primary: dict[str, dict[str, Code]] = {}
    add_on: dict[str, Code] = {}
    for procedure, rule in cpt.items():
        where = f"{source}: [cpt.{procedure}]"
        add_on[procedure] = _code(_table(rule, "add_on", where), where, _CPT_RE)
        primary[procedure] = {}
        for entry in _list(rule, "primary", where):
            code = _code(entry, where, _CPT_RE)
            for region in _list(entry, "regions", where):
                if region not in REGIONS or region in primary[procedure]:
                    raise CodingError(f"{where}: region {region!r} unknown or given twice")
                primary[procedure][region] = code
        if set(primary[procedure]) != set(REGIONS):
            raise CodingError(f"{where}: the primary codes must cover the regions {', '.join(REGIONS)}")
    return CodingTables(primary, add_on, *_icd10(icd, source))


def _icd10(icd: Mapping[str, Any], source: str) -> tuple[dict[str, tuple[Code, ...]], dict[str, dict[str, Code]]]:
    if set(icd) != set(INDICATIONS):
        raise CodingError(f"{source}: [icd10] must give exactly {', '.join(INDICATIONS)}")
    fixed: dict[str, tuple[Code, ...]] = {}
    by_region: dict[str, dict[str, Code]] = {}
    for indication, rule in icd.items():
        where = f"{source}: [icd10.{indication}]"
        if "by_region" in _table_or_empty(rule):
            table = _table(rule, "by_region", where)
            if set(table) != set(REGIONS):
                raise CodingError(f"{where}: by_region must give {', '.join(REGIONS)}")
            by_region[indication] = {r: _code(table[r], f"{where} {r}", _ICD10_RE) for r in REGIONS}
        else:
            fixed[indication] = tuple(_code(c, where, _ICD10_RE) for c in _list(rule, "codes", where))
    return fixed, by_region


def _table_or_empty(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _table(data: Any, key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, Mapping):
        raise CodingError(f"{where}: '{key}' must be a table")
    return value


def _list(data: Any, key: str, where: str) -> list[Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, list) or not value:
        raise CodingError(f"{where}: '{key}' must be a non-empty list")
    return value


def _code(entry: Any, where: str, pattern: re.Pattern[str]) -> Code:
    if not isinstance(entry, Mapping):
        raise CodingError(f"{where}: each code must be a table with 'code' and 'description'")
    code, description = entry.get("code"), entry.get("description")
    if not isinstance(code, str) or not pattern.match(code):
        raise CodingError(f"{where}: {code!r} is not a valid code")
    if not isinstance(description, str) or not description.strip():
        raise CodingError(f"{where}: code {code} needs a description")
    return Code(code, description.strip())
