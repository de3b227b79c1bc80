"""Billing and diagnosis codes for the note: CPT lines per treated level and ICD-10-CM suggestions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import Refusal
from .setup import INDICATIONS, PROCEDURES, canonical_level, level_index


@dataclass(frozen=True)
class CptLine:
    """One CPT code for one vertebral body; `add_on` marks a "+" code reported with the primary."""

    code: str
    description: str
    level: str
    add_on: bool


# Short descriptions written for the note (not the AMA long descriptors). Biopsy at a treated level and
# all imaging guidance are included in these codes.
_VP = "Percutaneous vertebroplasty, one vertebral body, including imaging guidance"
_KP = (
    "Percutaneous vertebral augmentation with cavity creation (kyphoplasty), one vertebral body, "
    "including imaging guidance"
)
# procedure -> ({region group: (primary code, description)}, add-on code, add-on description). SPEC §7.4.
_CPT: dict[str, tuple[dict[str, tuple[str, str]], str, str]] = {
    "vertebroplasty": (
        {"CT": ("22510", f"{_VP}; cervicothoracic"), "LS": ("22511", f"{_VP}; lumbosacral")},
        "22512",
        "Percutaneous vertebroplasty, each additional cervicothoracic or lumbosacral vertebral body",
    ),
    "kyphoplasty": (
        {"CT": ("22513", f"{_KP}; thoracic"), "LS": ("22514", f"{_KP}; lumbar")},
        "22515",
        "Percutaneous vertebral augmentation (kyphoplasty), each additional thoracic or lumbar vertebral body",
    ),
}


def _spine_order(levels: Iterable[str]) -> list[str]:
    if isinstance(levels, str):
        levels = [levels]
    names = [canonical_level(level) for level in levels]
    if not names:
        raise Refusal("levels", "plan at least one level")
    duplicates = sorted({name for name in names if names.count(name) > 1}, key=level_index)
    if duplicates:
        raise Refusal("levels", f"{duplicates[0]} is listed twice")
    return sorted(names, key=level_index)


def cpt_codes(procedure: str, levels: Iterable[str]) -> list[CptLine]:
    """CPT lines: the primary code for the first level in spine order, an add-on for each further level.

    Kyphoplasty codes are thoracic (22513, also used for cervical levels) or lumbar (22514, also
    used for sacral levels); vertebroplasty codes are cervicothoracic (22510) or lumbosacral (22511).
    """
    if procedure not in _CPT:
        raise Refusal("procedure", f"must be one of {', '.join(PROCEDURES)}")
    primary, add_on_code, add_on_text = _CPT[procedure]
    ordered = _spine_order(levels)
    first = ordered[0]
    code, description = primary["CT" if first[0] in "CT" else "LS"]
    lines = [CptLine(code, description, first, add_on=False)]
    lines.extend(CptLine(add_on_code, add_on_text, level, add_on=True) for level in ordered[1:])
    return lines


_M84_58XA = (
    "M84.58XA",
    "Pathological fracture in neoplastic disease, other specified site, initial encounter for fracture",
)
_ICD10: dict[str, list[tuple[str, str]]] = {
    "osteoporotic": [
        (
            "M80.08XA",
            "Age-related osteoporosis with current pathological fracture, vertebra(e), initial encounter for fracture",
        ),
    ],
    "myeloma": [("C90.00", "Multiple myeloma not having achieved remission"), _M84_58XA],
    "metastatic": [("C79.51", "Secondary malignant neoplasm of bone"), _M84_58XA],
    "other": [
        ("M48.50XA", "Collapsed vertebra, not elsewhere classified, site unspecified, initial encounter for fracture")
    ],
}
# Traumatic fractures are coded by region: one code for each region that has a treated level.
_TRAUMA = {
    "C": ("S12.9XXA", "Fracture of neck, unspecified, initial encounter"),
    "T": (
        "S22.000A",
        "Wedge compression fracture of unspecified thoracic vertebra, initial encounter for closed fracture",
    ),
    "L": (
        "S32.000A",
        "Wedge compression fracture of unspecified lumbar vertebra, initial encounter for closed fracture",
    ),
    "S": ("S32.10XA", "Unspecified fracture of sacrum, initial encounter for closed fracture"),
}


def suggest_icd10(indication: str, levels: Iterable[str]) -> list[tuple[str, str]]:
    """ICD-10-CM codes (code, description) to suggest for the indication; the operator confirms them."""
    if indication not in INDICATIONS:
        raise Refusal("indication", f"must be one of {', '.join(INDICATIONS)}")
    ordered = _spine_order(levels)
    if indication == "traumatic":
        regions = dict.fromkeys(level[0] for level in ordered)
        return [_TRAUMA[region] for region in regions]
    return list(_ICD10[indication])
