"""The operative report's codes: suggested until the operator signs, then the codes the operator confirmed.

Until the operator signs, the CPT and ICD-10-CM codes are proposals (computed from the treated
levels and the indication, or the ICD-10-CM codes given at set-up) and say so. The operator's
signature carries the codes confirmed at sign-off (`values["codes"] = {"cpt": [...], "icd10": [...]}`);
a signed note prints those and never calls them suggested. A case signed before the signature
carried codes prints the codes derived from the record under a heading that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..domain.coding import CptLine
from ..domain.events import Event
from ..domain.state import CaseState
from .model import Block, Table, Text
from .tables import treated_levels
from .words import DASH, join_words, sentence, stamp

SUGGESTED, CONFIRMED, UNCONFIRMED = "suggested", "confirmed", "unconfirmed"
TITLES = {
    SUGGESTED: "Suggested codes — the operator confirms them at sign-off",
    CONFIRMED: "Codes confirmed by the operator at sign-off",
    UNCONFIRMED: "Codes (recorded before code confirmation existed)",
}


@dataclass(frozen=True)
class ConfirmedCodes:
    """The codes on the operator's signature: CPT as written ('+22515' for an add-on) and ICD-10-CM."""

    cpt: tuple[str, ...]
    icd10: tuple[str, ...]


@dataclass(frozen=True)
class NoteCodes:
    """The codes the operative report prints and how they stand (suggested, confirmed or unconfirmed)."""

    standing: str
    cpt: tuple[CptLine, ...]
    icd10: tuple[tuple[str, str], ...]
    signature: Event | None = None

    @property
    def title(self) -> str:
        return TITLES[self.standing]


def confirmed_codes(signature: Event | None) -> ConfirmedCodes | None:
    """The codes the operator confirmed at sign-off, or None when the signature carries none (older cases)."""
    return None if signature is None else confirmed_codes_of(signature.values)


def confirmed_codes_of(values: Mapping[str, Any]) -> ConfirmedCodes | None:
    """`values["codes"]` of a signature as confirmed codes; None when absent or not a mapping."""
    codes = values.get("codes")
    if not isinstance(codes, Mapping):
        return None
    return ConfirmedCodes(_code_list(codes.get("cpt")), _code_list(codes.get("icd10")))


def _code_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence):
        return ()
    return tuple(text for item in value if isinstance(item, str) and (text := item.strip()))


def note_codes(state: CaseState) -> NoteCodes:
    """The codes of the operative report, as they stand for this case."""
    signature = state.facts.signature("operator")
    derived_cpt, derived_icd = derived_cpt_lines(state), derived_icd10(state)
    if signature is None:
        return NoteCodes(SUGGESTED, tuple(derived_cpt), tuple(derived_icd))
    confirmed = confirmed_codes(signature)
    if confirmed is None:
        return NoteCodes(UNCONFIRMED, tuple(derived_cpt), tuple(derived_icd), signature)
    cpt = _confirmed_cpt(state, confirmed.cpt, derived_cpt)
    icd = tuple((code, state.coding.describe_icd10(code) or "") for code in confirmed.icd10)
    return NoteCodes(CONFIRMED, cpt, icd, signature)


def derived_cpt_lines(state: CaseState) -> list[CptLine]:
    """CPT lines the rules give for what was done at each level (SPEC §7.4)."""
    return state.facts.cpt_lines()


def derived_icd10(state: CaseState) -> list[tuple[str, str]]:
    """(code, description): the codes given at set-up, else those the rules give for the indication."""
    return [(code.code, code.description) for code in state.facts.icd10_codes()]


def _confirmed_cpt(state: CaseState, codes: tuple[str, ...], derived: list[CptLine]) -> tuple[CptLine, ...]:
    """The confirmed CPT codes, each with the levels and words of the derived line it matches (in order)."""
    unused = list(derived)
    lines = []
    for written in codes:
        code, add_on = written.lstrip("+").strip(), written.startswith("+")
        match = next((line for line in unused if line.code == code), None)
        if match is not None:
            unused.remove(match)
            lines.append(replace(match, add_on=add_on or match.add_on))
        else:
            lines.append(CptLine(code, _cpt_description(state, code), "", add_on))
    return tuple(lines)


def _cpt_description(state: CaseState, code: str) -> str:
    tables = state.coding
    known = [
        *(c for by_region in tables.primary.values() for c in by_region.values()),
        *tables.add_on.values(),
        *(c for by_region in tables.unlisted.values() for c in by_region.values()),
        tables.sacrum.unilateral,
        tables.sacrum.bilateral,
        tables.separate_biopsy,
    ]
    return next((c.description for c in known if c.code == code), "")


# -- the section ------------------------------------------------------------------------------------
def codes_blocks(state: CaseState, codes: NoteCodes) -> tuple[Block, ...]:
    """The CPT and ICD-10-CM tables with the words that say how the codes stand."""
    blocks: list[Block] = []
    if codes.standing == CONFIRMED and codes.signature is not None:
        who = str(codes.signature.values.get("name", codes.signature.actor))
        blocks.append(Text(f"Confirmed by {who} when signing at {stamp(codes.signature.recorded_time)}.", tone="muted"))
    elif codes.standing == UNCONFIRMED:
        blocks.append(Text("Signed before signatures carried the codes: derived from the record.", tone="muted"))
    cpt_rows = tuple(
        (
            f"+{code}" if add_on else code,
            join_words(lv for lv in levels if lv) or DASH,
            description or DASH,
            ("Add-on" if add_on else "Primary")
            + (f" ×{len(levels)}" if len(levels) > 1 and code not in _per_case(state) else "")
            + (f", modifier {modifier}" if modifier else ""),
        )
        for (code, add_on, description, modifier), levels in _units(codes.cpt).items()
    )
    if cpt_rows:
        blocks.append(Table(("CPT", "Level", "Description", "Reporting"), cpt_rows, (0.7, 0.6, 4.8, 1.0)))
    else:
        blocks.append(Text("No CPT code was confirmed.", tone="alert"))
    icd_rows = tuple((code, text or DASH) for code, text in codes.icd10)
    if icd_rows:
        blocks.append(Table(("ICD-10-CM", "Description"), icd_rows, (0.9, 6.2)))
    else:
        blocks.append(Text("No ICD-10-CM code was confirmed.", tone="alert"))
    return (*blocks, *_coding_notes(state, codes))


def _per_case(state: CaseState) -> set[str]:
    """Codes reported once however many levels they cover (sacroplasty)."""
    return {state.coding.sacrum.unilateral.code, state.coding.sacrum.bilateral.code}


def _units(lines: tuple[CptLine, ...]) -> dict[tuple[str, bool, str, str | None], list[str]]:
    """The CPT lines with the same code reported once, with its levels (an add-on code: one unit per level)."""
    grouped: dict[tuple[str, bool, str, str | None], list[str]] = {}
    for line in lines:
        grouped.setdefault((line.code, line.add_on, line.description, line.modifier), []).extend(
            line.levels or (line.level,)
        )
    return grouped


def _coding_notes(state: CaseState, codes: NoteCodes) -> tuple[Block, ...]:
    assert state.setup is not None
    setup = state.setup
    notes: list[Block] = []
    if codes.standing == SUGGESTED:
        origin = "given at set-up" if setup.icd10 else "proposed from the indication"
        notes.append(Text(f"ICD-10-CM {origin}.", tone="muted"))
    notes += [Text(text, tone="muted") for text in state.coding.coder_notes(state.facts.levels_done())]
    notes += [  # 'abandoned: reason' said of its level(s): 'L2 abandoned: reason.'
        Text(sentence(f"{join_words(lv for lv in (line.levels or (line.level,)) if lv)} {line.note}"), tone="muted")
        for line in codes.cpt
        if line.note
    ]
    if not setup.icd10:
        notes += [
            Text(text, tone="muted")
            for text in state.coding.diagnosis_notes(
                setup.indication,
                list(setup.level_names),
                remission=setup.myeloma_remission or None,
                primary_neoplasm=setup.primary_neoplasm or None,
            )
        ]
    # The coder's notes read as one paragraph (each is a sentence), not a line each.
    muted = [n for n in notes if isinstance(n, Text) and n.tone == "muted"]
    if len(muted) > 1:
        notes = [Text(" ".join(n.text for n in muted), tone="muted"), *(n for n in notes if n not in muted)]
    treated = treated_levels(state)
    if not treated:
        notes.append(Text("No cement injection recorded yet: codes shown for the planned levels.", tone="alert"))
    return tuple(notes)


__all__ = [
    "CONFIRMED",
    "SUGGESTED",
    "TITLES",
    "UNCONFIRMED",
    "NoteCodes",
    "confirmed_codes",
    "confirmed_codes_of",
    "note_codes",
]
