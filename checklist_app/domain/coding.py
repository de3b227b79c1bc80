"""Billing and diagnosis codes for the note: CPT lines per treated level, ICD-10-CM in reporting order.

The tables are data (resources/codes.toml), read and checked here the way templates are. The rules
that apply them are this module's; docs/coding.md states each one with its published source:

- vertebroplasty (22510/22511 + 22512) and kyphoplasty (22513/22514 + 22515) are two families, each
  with its own primary code and its own add-ons; a level converted to vertebroplasty is coded as one;
- a family's primary code goes to its first completed level in spine order; an abandoned level takes
  it only when no level of that family was completed. An abandoned level is listed with the code it
  would have had (the planned procedure's), a modifier hint and the reason;
- cervical kyphoplasty has no code: the unlisted spine code, one line per level;
- the sacrum is one sacroplasty line per case (one side or both), whatever was planned or done;
- biopsy and imaging guidance at a treated level are included; a biopsy at an abandoned level gets a
  coder note naming the separate biopsy code, never a line;
- ICD-10-CM: a pathological fracture in neoplastic disease before the neoplasm; traumatic fractures by
  vertebra; "other" by region.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import Refusal
from .setup import ALL_LEVELS, INDICATIONS, PROCEDURES, SIDES, canonical_level, level_index

REGIONS = ("C", "T", "L", "S")
ABANDONED = "abandoned"
PERFORMED = (*PROCEDURES, ABANDONED)
REMISSIONS = ("not_in_remission", "in_remission", "in_relapse")
_TAKES_PRIMARY = "metastatic"  # the indication whose codes are followed by the primary neoplasm's
_CPT_KEYS = (*PROCEDURES, "sacrum", "separate_biopsy", "abandoned")
_SACRUM_FORBIDDEN = ("pedicle", "vertebral body")
_CPT_RE = re.compile(r"^\d{4}[0-9T]$")
_ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
# A primary malignant neoplasm (C00–C76, C4A, C7A, C81–C96), the unknown primary (C80.1), or the
# history of an excised or eradicated one (Z85.-). Secondary sites (C77–C79, C7B) are not a primary.
_PRIMARY_RE = re.compile(
    r"^(C(?:[0-6][0-9]|7[0-6]|4A|7A|8[1-9]|9[0-6])(?:\.[0-9A-Z]{1,4})?|C80\.1|Z85(?:\.[0-9A-Z]{1,4})?)$"
)
PRIMARY_NEOPLASM_DESCRIPTION = "Primary neoplasm, code as given at set-up"
# The fracture code is for vertebrae; ICD-10-CM also has a pelvis code the sacrum might take.
_SACRUM_AS_PELVIS = {"osteoporotic": "M80.0B-", "myeloma": "M84.550A", "metastatic": "M84.550A"}


class CodingError(ValueError):
    """A code table that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Code:
    """A code and the short words the note prints with it."""

    code: str
    description: str


@dataclass(frozen=True)
class LevelDone:
    """What happened at one level, as the coding rules need it.

    `planned` is the case's procedure; `performed` is kyphoplasty, vertebroplasty or "abandoned";
    `sides` are the sides accessed; `reason` says why a level was abandoned or converted.
    """

    level: str
    planned: str
    performed: str
    sides: tuple[str, ...]
    biopsy: bool = False
    reason: str = ""

    @property
    def abandoned(self) -> bool:
        return self.performed == ABANDONED

    @property
    def coded_as(self) -> str:
        """The procedure whose code the level takes: what was done, or what was planned if abandoned."""
        return self.planned if self.abandoned else self.performed


@dataclass(frozen=True)
class CptLine:
    """One CPT line. `add_on` marks a "+" code reported with its family's primary code; `levels` are
    every level the line covers (the sacrum: several segments); `modifier` is a hint for the coder;
    `note` is printed beside the line."""

    code: str
    description: str
    level: str
    add_on: bool
    levels: tuple[str, ...] = ()
    modifier: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.levels:
            object.__setattr__(self, "levels", (self.level,))


@dataclass(frozen=True)
class Sacrum:
    """The sacroplasty codes: one line per sacrum, one side or both."""

    regions: frozenset[str]
    unilateral: Code
    bilateral: Code


@dataclass(frozen=True)
class Junction:
    """Two adjacent vertebrae either side of a region boundary, coded together to the junction region."""

    upper: str
    lower: str
    code: Code


@dataclass(frozen=True)
class CodingTables:
    """The code tables of codes.toml and the rules that apply them."""

    primary: Mapping[str, Mapping[str, Code]]  # procedure -> region -> primary code
    add_on: Mapping[str, Code]  # procedure -> add-on code
    unlisted: Mapping[str, Mapping[str, Code]]  # procedure -> region -> unlisted code (one line per level)
    sacrum: Sacrum
    separate_biopsy: Code
    abandoned_modifier: str
    icd10: Mapping[str, tuple[Code, ...]]  # indication -> fixed codes, in reporting order
    icd10_by_level: Mapping[str, Mapping[str, Code]]  # indication -> level -> code
    icd10_junctions: Mapping[str, tuple[Junction, ...]]  # indication -> junction codes
    remission: Mapping[str, Mapping[str, Code]]  # indication -> remission status -> code
    default_remission: Mapping[str, str]  # indication -> status coded when none is given

    # -- CPT ---------------------------------------------------------------------------------
    def procedure_codes(self, levels: Sequence[LevelDone]) -> list[CptLine]:
        """CPT lines for what was done: each family's primary line, then its add-ons, families in
        the spine order of their first level; the sacrum one line; cervical kyphoplasty one per level."""
        groups: dict[tuple[str, str], list[LevelDone]] = {}
        for item in checked_levels(levels):
            groups.setdefault(self._family(item), []).append(item)
        lines: list[CptLine] = []
        for (family, _level), members in groups.items():
            if family == "sacrum":
                lines.append(self._sacrum_line(members))
            elif family == "unlisted":
                (item,) = members
                lines.append(self._line(self.unlisted[item.coded_as][item.level[0]], item, add_on=False))
            else:
                lines += self._series(family, members)
        return lines

    def coder_notes(self, levels: Sequence[LevelDone]) -> list[str]:
        """What the coder should know beside the lines: included biopsy and guidance, a biopsy to
        report separately, abandoned levels, the unlisted and the sacral codes."""
        done = checked_levels(levels)
        lines = self.procedure_codes(done)
        by_level = {level: line for line in lines for level in line.levels}
        notes = ["Imaging guidance is included in every code above; it is not reported separately."]
        sacral = next((line for line in lines if line.code in self._sacrum_codes), None)
        for item in (i for i in done if i.biopsy):
            line = sacral if item.level[0] in self.sacrum.regions else by_level.get(item.level)
            if line is None or line.modifier is not None:
                notes.append(self._separate_biopsy_note(item))
            elif line.code in self._unlisted_codes:
                notes.append(f"Bone biopsy at {item.level}: part of the unlisted {line.code}, described in the report.")
            else:
                notes.append(f"Bone biopsy at {item.level}: included in {line.code}, not reported separately.")
        abandoned = [lv for line in lines if line.modifier for lv in line.levels]
        if abandoned:
            notes.append(
                f"Abandoned: {_join(abandoned)}, listed with the code the planned procedure would have had; "
                f"modifier {self.abandoned_modifier}. A completed level takes the primary code; an abandoned "
                "level takes it only when no level of its family was completed."
            )
        unlisted = [line.level for line in lines if line.code in self._unlisted_codes]
        if unlisted:
            codes = sorted({line.code for line in lines if line.code in self._unlisted_codes})
            notes.append(
                f"Cervical kyphoplasty ({_join(unlisted)}) has no CPT code: unlisted {_join(codes)}, one line "
                "per level, sent with the operative report."
            )
        if sacral is not None:
            notes.append(
                f"Sacrum ({_join(sacral.levels)}): {sacral.code}, one code per sacrum whatever the number of "
                f"segments ({self.sacrum.unilateral.code} one side, {self.sacrum.bilateral.code} both sides); "
                "imaging guidance and bone biopsy are included."
            )
        if len({self._family(item)[0] for item in done} & set(PROCEDURES)) > 1:
            notes.append(
                "Vertebroplasty and kyphoplasty in one session: each is reported with its own primary code "
                f"and its own add-on ({self.add_on['vertebroplasty'].code} with vertebroplasty, "
                f"{self.add_on['kyphoplasty'].code} with kyphoplasty)."
            )
        return notes

    def cpt_codes(
        self, procedure: str, levels: Iterable[str], sides: Mapping[str, Sequence[str]] | None = None
    ) -> list[CptLine]:
        """CPT lines when every level was done as planned (the older call): see `procedure_codes`.

        Without `sides` for a sacral level the one-side sacroplasty code is assumed, and said so."""
        if procedure not in PROCEDURES:
            raise Refusal("procedure", f"must be one of {', '.join(PROCEDURES)}")
        given = {canonical_level(level): tuple(s) for level, s in (sides or {}).items()}
        ordered = spine_order(levels)
        done = [LevelDone(lv, procedure, procedure, given.get(lv, (SIDES[0],))) for lv in ordered]
        lines = self.procedure_codes(done)
        if any(lv[0] in self.sacrum.regions and lv not in given for lv in ordered):
            assumed = "sides not recorded: one side assumed; the two-side code if both sides were injected"
            lines = [replace(ln, note=assumed) if ln.code == self.sacrum.unilateral.code else ln for ln in lines]
        return lines

    # -- ICD-10-CM ---------------------------------------------------------------------------
    def diagnosis_codes(
        self,
        indication: str,
        levels: Sequence[str],
        *,
        remission: str | None = None,
        primary_neoplasm: str | None = None,
    ) -> list[Code]:
        """ICD-10-CM codes in reporting order for the indication and the fractured levels."""
        ordered, status, primary = self._diagnosis_args(indication, levels, remission, primary_neoplasm)
        if indication in self.icd10_by_level:
            return self._by_level(indication, ordered)
        codes = list(self.icd10[indication])
        if indication in self.remission:
            codes.append(self.remission[indication][status or self.default_remission[indication]])
        if primary:
            codes.append(Code(primary, PRIMARY_NEOPLASM_DESCRIPTION))
        return codes

    def diagnosis_notes(
        self,
        indication: str,
        levels: Sequence[str],
        *,
        remission: str | None = None,
        primary_neoplasm: str | None = None,
    ) -> list[str]:
        """What the coder should add or check beside the diagnosis codes."""
        ordered, status, primary = self._diagnosis_args(indication, levels, remission, primary_neoplasm)
        regions = {level[0] for level in ordered}
        notes: list[str] = []
        if indication in self.remission and status is None:
            default = self.remission[indication][self.default_remission[indication]]
            others = ", ".join(f"{s.replace('_', ' ')} {c.code}" for s, c in self.remission[indication].items())
            notes.append(f"Remission status not recorded: {default.code} suggested; ask the operator ({others}).")
        if indication == _TAKES_PRIMARY and not primary:
            notes.append(
                "Add the primary neoplasm's code after the secondary: the primary site's code while it is "
                "present or treated, Z85.- if it was excised or eradicated with no further treatment, "
                "C80.1 if the primary site is unknown."
            )
        pelvis = _SACRUM_AS_PELVIS.get(indication)
        if pelvis and "S" in regions:
            fracture = self.icd10[indication][0].code
            notes.append(
                f"Sacrum: coded {fracture} with the vertebrae; ICD-10-CM also has a pelvis code ({pelvis}): "
                "the coder confirms which the sacrum takes."
            )
        if indication == "traumatic":
            if "C" in regions:
                notes.append(
                    "Cervical: no wedge compression code exists; other fracture, displaced (the tabular's "
                    "default when displacement is not documented); use the nondisplaced code if documented."
                )
            if "S" in regions:
                notes.append(
                    "Sacrum: unspecified fracture of sacrum, once; refine by zone (S32.11-S32.13) or type "
                    "(S32.14-S32.17) from the imaging report."
                )
            notes.append(
                "Add the external cause codes; several fractures are sequenced by severity (listed here in "
                "spine order). With known osteoporosis and trauma that would not break a healthy bone, code "
                "M80 (osteoporotic), not an injury code."
            )
        return notes

    def suggest_icd10(self, indication: str, levels: Iterable[str]) -> list[tuple[str, str]]:
        """(code, description) pairs in reporting order (the older call): see `diagnosis_codes`."""
        return [(c.code, c.description) for c in self.diagnosis_codes(indication, spine_order(levels))]

    def describe_icd10(self, code: str) -> str | None:
        """The words this table gives an ICD-10-CM code, or None if the table does not know it."""
        known = [
            *(c for codes in self.icd10.values() for c in codes),
            *(c for table in self.icd10_by_level.values() for c in table.values()),
            *(j.code for junctions in self.icd10_junctions.values() for j in junctions),
            *(c for table in self.remission.values() for c in table.values()),
        ]
        return next((c.description for c in known if c.code == code.strip().upper()), None)

    # -- rules ---------------------------------------------------------------------------------
    @property
    def _sacrum_codes(self) -> set[str]:
        return {self.sacrum.unilateral.code, self.sacrum.bilateral.code}

    @property
    def _unlisted_codes(self) -> set[str]:
        return {c.code for table in self.unlisted.values() for c in table.values()}

    def _family(self, item: LevelDone) -> tuple[str, str]:
        region = item.level[0]
        if region in self.sacrum.regions:
            return ("sacrum", "")
        if region in self.unlisted.get(item.coded_as, {}):
            return ("unlisted", item.level)
        return (item.coded_as, "")

    def _series(self, procedure: str, members: list[LevelDone]) -> list[CptLine]:
        completed = [m for m in members if not m.abandoned]
        first = (completed or members)[0]
        lines = [self._line(self.primary[procedure][first.level[0]], first, add_on=False)]
        lines += [self._line(self.add_on[procedure], m, add_on=True) for m in members if m is not first]
        return lines

    def _line(self, code: Code, item: LevelDone, *, add_on: bool) -> CptLine:
        modifier = self.abandoned_modifier if item.abandoned else None
        return CptLine(code.code, code.description, item.level, add_on, (item.level,), modifier, _level_note(item))

    def _sacrum_line(self, members: list[LevelDone]) -> CptLine:
        completed = [m for m in members if not m.abandoned]
        covered = completed or members
        sides = {side for m in covered for side in m.sides}
        code = self.sacrum.bilateral if len(sides) > 1 else self.sacrum.unilateral
        notes = [f"{m.level} {_level_note(m)}" for m in members if _level_note(m)]
        if completed and len(completed) < len(members):
            notes.append("an abandoned segment is covered by this once-per-sacrum code, not coded again")
        levels = tuple(m.level for m in covered)
        modifier = None if completed else self.abandoned_modifier
        return CptLine(code.code, code.description, levels[0], False, levels, modifier, "; ".join(notes))

    def _separate_biopsy_note(self, item: LevelDone) -> str:
        biopsy = self.separate_biopsy
        return (
            f"Bone biopsy at {item.level}, a level not treated (abandoned): it may be reported separately as "
            f"{biopsy.code} ({biopsy.description}), but not together with an augmentation code reported for "
            f"{item.level}. The coder decides."
        )

    def _by_level(self, indication: str, ordered: list[str]) -> list[Code]:
        chosen = {level: self.icd10_by_level[indication][level] for level in ordered}
        for junction in self.icd10_junctions.get(indication, ()):
            if junction.upper in chosen and junction.lower in chosen:
                chosen[junction.upper] = chosen[junction.lower] = junction.code
        return list(dict.fromkeys(chosen[level] for level in ordered))

    def _diagnosis_args(
        self, indication: str, levels: Sequence[str], remission: str | None, primary: str | None
    ) -> tuple[list[str], str | None, str | None]:
        if indication not in INDICATIONS:
            raise Refusal("indication", f"must be one of {', '.join(INDICATIONS)}")
        ordered = spine_order(levels)
        status = None if remission is None else _remission(remission)
        if status is not None and indication not in self.remission:
            raise Refusal("remission", f"applies to {', '.join(self.remission)} only, not to {indication}")
        code = None if primary is None else _primary_neoplasm(primary)
        if code is not None and indication != _TAKES_PRIMARY:
            raise Refusal("primary_neoplasm", f"applies to {_TAKES_PRIMARY} disease only, not to {indication}")
        return ordered, status, code


def checked_levels(levels: Sequence[LevelDone]) -> list[LevelDone]:
    """Levels in canonical form and spine order; refuses none, a repeat, or an unknown value."""
    if isinstance(levels, LevelDone):
        levels = [levels]
    items: list[LevelDone] = []
    for item in levels:
        if not isinstance(item, LevelDone):
            raise Refusal("levels", "each level must be a LevelDone")
        if item.planned not in PROCEDURES:
            raise Refusal("procedure", f"must be one of {', '.join(PROCEDURES)}")
        if item.performed not in PERFORMED:
            raise Refusal("performed", f"must be one of {', '.join(PERFORMED)}")
        sides = tuple(item.sides) if isinstance(item.sides, (tuple, list)) else ()
        if not sides or len(set(sides)) != len(sides) or not set(sides) <= set(SIDES):
            raise Refusal("sides", f"{item.level}: give one or both of {', '.join(SIDES)}, each once")
        reason = item.reason.strip() if isinstance(item.reason, str) else ""
        ordered_sides = tuple(s for s in SIDES if s in sides)
        items.append(replace(item, level=canonical_level(item.level), sides=ordered_sides, reason=reason))
    names = [item.level for item in items]
    spine_order(names)  # refuses none and repeats
    return sorted(items, key=lambda item: level_index(item.level))


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


def _level_note(item: LevelDone) -> str:
    if item.abandoned:
        return f"abandoned: {item.reason}" if item.reason else "abandoned (no reason recorded)"
    if item.performed != item.planned:
        return f"converted to {item.performed}: {item.reason}" if item.reason else f"converted to {item.performed}"
    return ""


def _remission(text: str) -> str:
    key = re.sub(r"[\s-]+", "_", text.strip().lower()) if isinstance(text, str) else ""
    if key not in REMISSIONS:
        raise Refusal("remission", f"must be one of {', '.join(r.replace('_', ' ') for r in REMISSIONS)}")
    return key


def _primary_neoplasm(text: str) -> str:
    code = text.strip().upper() if isinstance(text, str) else ""
    if not _ICD10_RE.match(code) or not _PRIMARY_RE.match(code):
        raise Refusal(
            "primary_neoplasm",
            f"'{text}' is not an ICD-10-CM code of a primary malignant neoplasm (C00–C76, C81–C96, C80.1 "
            "when the primary site is unknown) or of its history (Z85.-)",
        )
    return code


def _join(words: Iterable[str]) -> str:
    return ", ".join(words)


# -- loading -------------------------------------------------------------------------------------
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
    _exactly(cpt, _CPT_KEYS, f"{source}: [cpt]")
    sacrum = _sacrum(_table(cpt, "sacrum", f"{source}: [cpt]"), f"{source}: [cpt.sacrum]")
    primary: dict[str, dict[str, Code]] = {}
    add_on: dict[str, Code] = {}
    unlisted: dict[str, dict[str, Code]] = {}
    for procedure in PROCEDURES:
        where = f"{source}: [cpt.{procedure}]"
        rule = _table(cpt, procedure, f"{source}: [cpt]")
        _known(rule, ("add_on", "primary", "unlisted"), where)
        add_on[procedure] = _code(_table(rule, "add_on", where), f"{where} add_on", _CPT_RE)
        primary[procedure] = _by_region(_list(rule, "primary", where), f"{where} primary")
        unlisted[procedure] = _by_region([rule["unlisted"]], f"{where} unlisted") if "unlisted" in rule else {}
        _cover_regions([*primary[procedure], *unlisted[procedure], *sorted(sacrum.regions)], where)
    biopsy = _code(_table(cpt, "separate_biopsy", f"{source}: [cpt]"), f"{source}: [cpt.separate_biopsy]", _CPT_RE)
    abandoned = _table(cpt, "abandoned", f"{source}: [cpt]").get("modifier")
    if not isinstance(abandoned, str) or not abandoned.strip():
        raise CodingError(f"{source}: [cpt.abandoned] 'modifier' must be the hint printed for an abandoned level")
    return CodingTables(primary, add_on, unlisted, sacrum, biopsy, abandoned.strip(), *_icd10(icd, source))


_Icd10Tables = tuple[
    dict[str, tuple[Code, ...]],
    dict[str, dict[str, Code]],
    dict[str, tuple[Junction, ...]],
    dict[str, dict[str, Code]],
    dict[str, str],
]


def _icd10(icd: Mapping[str, Any], source: str) -> _Icd10Tables:
    _exactly(icd, INDICATIONS, f"{source}: [icd10]")
    fixed: dict[str, tuple[Code, ...]] = {}
    by_level: dict[str, dict[str, Code]] = {}
    junctions: dict[str, tuple[Junction, ...]] = {}
    remission: dict[str, dict[str, Code]] = {}
    default: dict[str, str] = {}
    for indication in INDICATIONS:
        where = f"{source}: [icd10.{indication}]"
        rule = _table(icd, indication, f"{source}: [icd10]")
        _known(rule, ("codes", "by_level", "junctions", "by_remission", "default_remission"), where)
        if ("codes" in rule) == ("by_level" in rule):
            raise CodingError(f"{where}: give either 'codes' (a fixed list) or 'by_level' (one code per level)")
        if "by_level" in rule:
            by_level[indication] = _per_level(_list(rule, "by_level", where), where)
            if "junctions" in rule:
                junctions[indication] = _junctions(_list(rule, "junctions", where), where)
        elif "junctions" in rule:
            raise CodingError(f"{where}: 'junctions' needs 'by_level'")
        else:
            fixed[indication] = tuple(
                _code(c, f"{where} codes entry {i}", _ICD10_RE) for i, c in enumerate(_list(rule, "codes", where), 1)
            )
        if ("by_remission" in rule) != ("default_remission" in rule):
            raise CodingError(f"{where}: 'by_remission' and 'default_remission' go together")
        if "by_remission" in rule:
            table = _table(rule, "by_remission", where)
            _exactly(table, REMISSIONS, f"{where} by_remission")
            remission[indication] = {s: _code(table[s], f"{where} by_remission.{s}", _ICD10_RE) for s in REMISSIONS}
            if rule["default_remission"] not in REMISSIONS:
                raise CodingError(f"{where}: default_remission must be one of {', '.join(REMISSIONS)}")
            default[indication] = rule["default_remission"]
    return fixed, by_level, junctions, remission, default


def _sacrum(rule: Mapping[str, Any], where: str) -> Sacrum:
    _exactly(rule, ("regions", "unilateral", "bilateral"), where)
    regions = _list(rule, "regions", where)
    if any(r not in REGIONS for r in regions) or len(set(regions)) != len(regions):
        raise CodingError(f"{where}: regions must be among {', '.join(REGIONS)}, each once")
    codes = {side: _code(_table(rule, side, where), f"{where} {side}", _CPT_RE) for side in ("unilateral", "bilateral")}
    for side, code in codes.items():
        wrong = [word for word in _SACRUM_FORBIDDEN if word in code.description.lower()]
        if wrong:
            raise CodingError(f"{where} {side} {code.code}: a sacral description must not say '{wrong[0]}'")
    return Sacrum(frozenset(regions), codes["unilateral"], codes["bilateral"])


def _by_region(entries: list[Any], where: str) -> dict[str, Code]:
    table: dict[str, Code] = {}
    for number, entry in enumerate(entries, 1):
        here = f"{where} entry {number}"
        code = _code(entry, here, _CPT_RE)
        for region in _list(entry, "regions", here):
            if region not in REGIONS or region in table:
                raise CodingError(f"{here} ({code.code}): region {region!r} unknown or given twice")
            table[region] = code
    return table


def _cover_regions(covered: list[str], where: str) -> None:
    missing = [r for r in REGIONS if r not in covered]
    twice = sorted({r for r in covered if covered.count(r) > 1}, key=REGIONS.index)
    if missing or twice:
        problem = f"{missing[0]} is not covered" if missing else f"{twice[0]} is given twice"
        raise CodingError(
            f"{where}: the primary codes must cover the regions {', '.join(REGIONS)} once each "
            f"(with the unlisted and [cpt.sacrum] regions): {problem}"
        )


def _per_level(entries: list[Any], where: str) -> dict[str, Code]:
    table: dict[str, Code] = {}
    first: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        here = f"{where} by_level entry {number}"
        code = _code(entry, here, _ICD10_RE)
        for level in _levels(entry, f"{here} ({code.code})"):
            if level in table:
                raise CodingError(f"{here} ({code.code}): {level} is given twice (entry {first[level]} has it)")
            table[level], first[level] = code, number
    missing = [level for level in ALL_LEVELS if level not in table]
    if missing:
        raise CodingError(f"{where} by_level: {', '.join(missing)} not covered (every level C1–S5 needs a code)")
    return table


def _junctions(entries: list[Any], where: str) -> tuple[Junction, ...]:
    found: list[Junction] = []
    for number, entry in enumerate(entries, 1):
        here = f"{where} junctions entry {number}"
        code = _code(entry, here, _ICD10_RE)
        levels = _levels(entry, f"{here} ({code.code})")
        if len(levels) != 2 or level_index(levels[1]) - level_index(levels[0]) != 1 or levels[0][0] == levels[1][0]:
            raise CodingError(f'{here} ({code.code}): give two adjacent levels of two regions, e.g. ["T12", "L1"]')
        if any(level in (j.upper, j.lower) for j in found for level in levels):
            raise CodingError(f"{here} ({code.code}): a level is in two junctions")
        found.append(Junction(levels[0], levels[1], code))
    return tuple(found)


def _levels(entry: Any, where: str) -> list[str]:
    levels = _list(entry, "levels", where)
    for level in levels:
        if level not in ALL_LEVELS:
            raise CodingError(f"{where}: {level!r} is not a level (write C1–C7, T1–T12, L1–L5, S1–S5)")
    return levels


def _exactly(table: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    if set(table) != set(keys):
        extra = sorted(set(table) - set(keys))
        detail = f" ({', '.join(extra)} is not one)" if extra else ""
        raise CodingError(f"{where} must give exactly {', '.join(keys)}{detail}")


def _known(table: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise CodingError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(keys)})")


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
