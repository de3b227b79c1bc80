"""The CPT and ICD-10-CM rules of SPEC §7.4, table-driven (docs/coding.md gives each rule's source).

Every expected code below is written from the rules, as a literal table, never computed by the code
under test.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from checklist_app.domain.coding import CodingError, LevelDone, load_coding_tables, parse_coding_tables
from checklist_app.domain.errors import Refusal
from checklist_app.site import shipped_coding_tables

TABLES = load_coding_tables(shipped_coding_tables())
SHIPPED = tomllib.loads(shipped_coding_tables().read_text(encoding="utf-8"))
KYPHO, VERTEBRO, ABANDONED = "kyphoplasty", "vertebroplasty", "abandoned"
LEFT, RIGHT, BOTH = ("left",), ("right",), ("left", "right")
MODIFIER = "52 or 53 (the coder decides)"

# -- CPT, one level ------------------------------------------------------------------------------
# level: (vertebroplasty one side, vertebroplasty both sides, kyphoplasty one side, kyphoplasty both)
# Vertebroplasty 22510 cervicothoracic, 22511 lumbosacral; kyphoplasty 22513 thoracic, 22514 lumbar;
# cervical kyphoplasty unlisted 22899; the sacrum 0200T one side, 0201T both, whatever the procedure.
ONE_LEVEL_CPT = {
    "C1": ("22510", "22510", "22899", "22899"),
    "C2": ("22510", "22510", "22899", "22899"),
    "C3": ("22510", "22510", "22899", "22899"),
    "C4": ("22510", "22510", "22899", "22899"),
    "C5": ("22510", "22510", "22899", "22899"),
    "C6": ("22510", "22510", "22899", "22899"),
    "C7": ("22510", "22510", "22899", "22899"),
    "T1": ("22510", "22510", "22513", "22513"),
    "T2": ("22510", "22510", "22513", "22513"),
    "T3": ("22510", "22510", "22513", "22513"),
    "T4": ("22510", "22510", "22513", "22513"),
    "T5": ("22510", "22510", "22513", "22513"),
    "T6": ("22510", "22510", "22513", "22513"),
    "T7": ("22510", "22510", "22513", "22513"),
    "T8": ("22510", "22510", "22513", "22513"),
    "T9": ("22510", "22510", "22513", "22513"),
    "T10": ("22510", "22510", "22513", "22513"),
    "T11": ("22510", "22510", "22513", "22513"),
    "T12": ("22510", "22510", "22513", "22513"),
    "L1": ("22511", "22511", "22514", "22514"),
    "L2": ("22511", "22511", "22514", "22514"),
    "L3": ("22511", "22511", "22514", "22514"),
    "L4": ("22511", "22511", "22514", "22514"),
    "L5": ("22511", "22511", "22514", "22514"),
    "S1": ("0200T", "0201T", "0200T", "0201T"),
    "S2": ("0200T", "0201T", "0200T", "0201T"),
    "S3": ("0200T", "0201T", "0200T", "0201T"),
    "S4": ("0200T", "0201T", "0200T", "0201T"),
    "S5": ("0200T", "0201T", "0200T", "0201T"),
}
ONE_LEVEL_CASES = [
    pytest.param(
        level, procedure, sides, codes[column], id=f"{level}-{procedure}-{'both' if len(sides) > 1 else sides[0]}"
    )
    for level, codes in ONE_LEVEL_CPT.items()
    for column, (procedure, sides) in enumerate([(VERTEBRO, LEFT), (VERTEBRO, BOTH), (KYPHO, RIGHT), (KYPHO, BOTH)])
]


def done(level: str, planned: str, performed: str | None = None, sides=BOTH, biopsy=False, reason="") -> LevelDone:
    return LevelDone(level, planned, performed or planned, tuple(sides), biopsy, reason)


def lines(*levels: LevelDone) -> list[tuple[str, str, bool]]:
    return [(line.code, line.level, line.add_on) for line in TABLES.procedure_codes(list(levels))]


@pytest.mark.parametrize(("level", "procedure", "sides", "code"), ONE_LEVEL_CASES)
def test_every_level_alone_takes_its_procedures_primary_code(level, procedure, sides, code):
    (line,) = TABLES.procedure_codes([done(level, procedure, sides=sides)])
    assert (line.code, line.level, line.add_on, line.levels, line.modifier, line.note) == (
        code,
        level,
        False,
        (level,),
        None,
        "",
    )


# -- CPT, several levels ---------------------------------------------------------------------------
def test_vertebroplasty_levels_take_one_primary_and_an_add_on_each_whatever_the_region():
    assert lines(done("L2", VERTEBRO), done("T12", VERTEBRO), done("L1", VERTEBRO)) == [
        ("22510", "T12", False),
        ("22512", "L1", True),
        ("22512", "L2", True),
    ]
    assert lines(done("C6", VERTEBRO), done("L4", VERTEBRO)) == [("22510", "C6", False), ("22512", "L4", True)]
    assert lines(done("C7", VERTEBRO), done("T1", VERTEBRO)) == [("22510", "C7", False), ("22512", "T1", True)]


def test_kyphoplasty_thoracic_and_lumbar_levels_take_one_primary_and_an_add_on_each():
    assert lines(done("T11", KYPHO), done("T12", KYPHO), done("L1", KYPHO)) == [
        ("22513", "T11", False),
        ("22515", "T12", True),
        ("22515", "L1", True),
    ]
    assert lines(done("L3", KYPHO), done("L4", KYPHO)) == [("22514", "L3", False), ("22515", "L4", True)]


def test_cervical_kyphoplasty_is_one_unlisted_line_per_level_and_never_an_add_on():
    assert lines(done("C5", KYPHO), done("C6", KYPHO)) == [("22899", "C5", False), ("22899", "C6", False)]


def test_cervical_kyphoplasty_stands_apart_from_the_thoracolumbar_primary_and_add_ons():
    assert lines(done("L2", KYPHO), done("C6", KYPHO), done("T8", KYPHO)) == [
        ("22899", "C6", False),
        ("22513", "T8", False),
        ("22515", "L2", True),
    ]


def test_a_lumbar_level_beside_the_sacrum_keeps_its_own_primary():
    assert lines(done("L5", KYPHO), done("S1", KYPHO, sides=LEFT)) == [("22514", "L5", False), ("0200T", "S1", False)]
    assert lines(done("L5", VERTEBRO), done("S1", VERTEBRO)) == [("22511", "L5", False), ("0201T", "S1", False)]


# -- the sacrum --------------------------------------------------------------------------------------
def test_sacrum_is_one_sacroplasty_code_per_case_not_per_segment():
    (line,) = TABLES.procedure_codes([done(s, KYPHO, sides=LEFT) for s in ("S3", "S1", "S2")])
    assert (line.code, line.level, line.levels, line.add_on, line.modifier) == (
        "0200T",
        "S1",
        ("S1", "S2", "S3"),
        False,
        None,
    )


@pytest.mark.parametrize(
    ("sides", "code"),
    [
        ((LEFT, LEFT), "0200T"),
        ((RIGHT, RIGHT), "0200T"),
        ((LEFT, BOTH), "0201T"),  # any bilateral segment
        ((BOTH, BOTH), "0201T"),
        ((LEFT, RIGHT), "0201T"),  # one side at one segment, the other at another: both sides injected
    ],
)
def test_sacroplasty_is_bilateral_when_both_sides_of_the_sacrum_were_injected(sides, code):
    (line,) = TABLES.procedure_codes([done("S1", VERTEBRO, sides=sides[0]), done("S2", VERTEBRO, sides=sides[1])])
    assert line.code == code


def test_sacroplasty_code_is_the_same_whether_kyphoplasty_or_vertebroplasty_was_planned_or_done():
    for planned, performed in ((KYPHO, KYPHO), (VERTEBRO, VERTEBRO), (KYPHO, VERTEBRO)):
        (line,) = TABLES.procedure_codes([done("S2", planned, performed, sides=BOTH)])
        assert line.code == "0201T"


def test_sacroplasty_wording_fits_the_sacrum():
    for sides in (LEFT, BOTH):
        (line,) = TABLES.procedure_codes([done("S1", KYPHO, sides=sides)])
        words = line.description.lower()
        assert "sacroplasty" in words and "pedicle" not in words and "vertebral body" not in words


def test_an_abandoned_sacral_segment_is_named_on_the_one_sacrum_line_when_another_was_treated():
    (line,) = TABLES.procedure_codes(
        [done("S1", KYPHO, sides=LEFT), done("S2", KYPHO, ABANDONED, sides=BOTH, reason="cement leak")]
    )
    assert (line.code, line.levels, line.modifier) == ("0200T", ("S1",), None)  # sides of what was treated
    assert "S2 abandoned: cement leak" in line.note


def test_a_sacrum_abandoned_everywhere_is_one_line_with_the_modifier_hint():
    (line,) = TABLES.procedure_codes(
        [done("S1", VERTEBRO, ABANDONED, sides=LEFT, reason="a"), done("S2", VERTEBRO, ABANDONED, sides=RIGHT)]
    )
    assert (line.code, line.levels, line.modifier) == ("0201T", ("S1", "S2"), MODIFIER)


# -- conversions ---------------------------------------------------------------------------------------
def test_a_level_converted_to_vertebroplasty_is_coded_as_vertebroplasty():
    (line,) = TABLES.procedure_codes([done("T12", KYPHO, VERTEBRO, reason="balloon failed")])
    assert (line.code, line.add_on, line.note) == ("22510", False, "converted to vertebroplasty: balloon failed")
    (lumbar,) = TABLES.procedure_codes([done("L3", KYPHO, VERTEBRO)])
    assert (lumbar.code, lumbar.note) == ("22511", "converted to vertebroplasty")


def test_converted_and_kyphoplasty_levels_each_get_their_own_primary_and_add_ons():
    assert lines(done("T12", KYPHO, VERTEBRO), done("L1", KYPHO)) == [("22510", "T12", False), ("22514", "L1", False)]
    assert lines(done("T10", KYPHO), done("T11", KYPHO, VERTEBRO), done("T12", KYPHO, VERTEBRO), done("L1", KYPHO)) == [
        ("22513", "T10", False),
        ("22515", "L1", True),
        ("22510", "T11", False),
        ("22512", "T12", True),
    ]


def test_a_cervical_kyphoplasty_converted_to_vertebroplasty_has_a_code_not_the_unlisted_one():
    assert lines(done("C6", KYPHO, VERTEBRO), done("C7", KYPHO)) == [("22510", "C6", False), ("22899", "C7", False)]


# -- abandoned levels ------------------------------------------------------------------------------
def test_an_abandoned_level_is_listed_with_the_code_it_would_have_had_the_modifier_hint_and_the_reason():
    (line,) = TABLES.procedure_codes([done("T12", KYPHO, ABANDONED, reason="pedicle too narrow")])
    assert (line.code, line.level, line.add_on, line.modifier, line.note) == (
        "22513",
        "T12",
        False,
        MODIFIER,
        "abandoned: pedicle too narrow",
    )
    (unlisted,) = TABLES.procedure_codes([done("C5", KYPHO, ABANDONED)])
    assert (unlisted.code, unlisted.modifier, unlisted.note) == ("22899", MODIFIER, "abandoned (no reason recorded)")


def test_a_completed_level_takes_the_primary_slot_before_an_abandoned_one():
    found = TABLES.procedure_codes([done("T12", KYPHO, ABANDONED, reason="x"), done("L1", KYPHO)])
    assert [(ln.code, ln.level, ln.add_on, ln.modifier) for ln in found] == [
        ("22514", "L1", False, None),
        ("22515", "T12", True, MODIFIER),
    ]
    found = TABLES.procedure_codes([done("T8", VERTEBRO, ABANDONED), done("T9", VERTEBRO), done("T10", VERTEBRO)])
    assert [(ln.code, ln.level, ln.add_on, ln.modifier) for ln in found] == [
        ("22510", "T9", False, None),
        ("22512", "T8", True, MODIFIER),
        ("22512", "T10", True, None),
    ]


def test_abandoned_levels_take_the_primary_only_when_no_level_of_the_family_was_completed():
    found = TABLES.procedure_codes(
        [done("L1", KYPHO, ABANDONED), done("L2", KYPHO, ABANDONED), done("T12", KYPHO, VERTEBRO)]
    )
    assert [(ln.code, ln.level, ln.add_on, ln.modifier) for ln in found] == [
        ("22510", "T12", False, None),
        ("22514", "L1", False, MODIFIER),
        ("22515", "L2", True, MODIFIER),
    ]


# -- biopsy and guidance ---------------------------------------------------------------------------
def test_biopsy_and_imaging_guidance_at_a_treated_level_are_included():
    levels = [done("T12", KYPHO, biopsy=True), done("L1", KYPHO)]
    notes = TABLES.coder_notes(levels)
    assert "Bone biopsy at T12: included in 22513, not reported separately." in notes
    assert any("Imaging guidance is included" in n for n in notes)
    assert [ln.code for ln in TABLES.procedure_codes(levels)] == ["22513", "22515"]


def test_a_biopsy_at_an_abandoned_level_is_a_coder_note_naming_20225_never_a_line():
    levels = [done("T12", KYPHO, ABANDONED, biopsy=True, reason="x"), done("L1", KYPHO)]
    assert "20225" not in [ln.code for ln in TABLES.procedure_codes(levels)]
    (note,) = [n for n in TABLES.coder_notes(levels) if "Bone biopsy at T12" in n]
    assert "20225" in note and "not treated" in note and "coder decides" in note


def test_a_biopsy_at_an_abandoned_cervical_kyphoplasty_level_is_also_a_separate_biopsy_note():
    (note,) = [n for n in TABLES.coder_notes([done("C5", KYPHO, ABANDONED, biopsy=True)]) if "Bone biopsy" in n]
    assert "20225" in note
    treated = " ".join(TABLES.coder_notes([done("C4", KYPHO, biopsy=True)]))
    assert "Bone biopsy at C4: part of the unlisted 22899" in treated


def test_vertebroplasty_and_kyphoplasty_together_get_a_note_on_their_separate_add_ons():
    assert any("own add-on" in n for n in TABLES.coder_notes([done("T12", KYPHO, VERTEBRO), done("L1", KYPHO)]))
    assert not any("own add-on" in n for n in TABLES.coder_notes([done("T12", KYPHO), done("L1", KYPHO)]))


def test_a_biopsy_at_an_abandoned_sacral_segment_is_included_when_the_sacrum_was_treated():
    levels = [done("S1", VERTEBRO), done("S2", VERTEBRO, ABANDONED, biopsy=True)]
    assert "Bone biopsy at S2: included in 0201T, not reported separately." in TABLES.coder_notes(levels)


def test_coder_notes_explain_the_abandoned_the_unlisted_and_the_sacral_lines():
    notes = " ".join(
        TABLES.coder_notes([done("C5", KYPHO), done("T12", KYPHO, ABANDONED), done("L1", KYPHO), done("S1", KYPHO)])
    )
    assert "Abandoned: T12" in notes and MODIFIER in notes
    assert "Cervical kyphoplasty (C5) has no CPT code: unlisted 22899" in notes
    assert "Sacrum (S1): 0201T, one code per sacrum" in notes


# -- the older call ----------------------------------------------------------------------------------
def test_cpt_codes_wrapper_codes_each_level_as_planned_and_done():
    assert [(ln.code, ln.level) for ln in TABLES.cpt_codes(KYPHO, ["L1", "T12"])] == [("22513", "T12"), ("22515", "L1")]
    (sacral,) = TABLES.cpt_codes(VERTEBRO, ["S1", "S2"], sides={"S1": ["left", "right"]})
    assert sacral.code == "0201T" and sacral.levels == ("S1", "S2")
    (assumed,) = TABLES.cpt_codes(KYPHO, ["S1"])
    assert assumed.code == "0200T" and "sides not recorded" in assumed.note


# -- what the rules refuse ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([], "levels"),
        ([done("T12", KYPHO), done("t-12", KYPHO)], "levels"),
        ([done("T13", KYPHO)], "levels"),
        ([done("T12", "sacroplasty")], "procedure"),
        ([done("T12", KYPHO, "converted")], "performed"),
        ([done("T12", KYPHO, sides=())], "sides"),
        ([done("T12", KYPHO, sides=("left", "left"))], "sides"),
        ([done("T12", KYPHO, sides=("up",))], "sides"),
    ],
)
def test_procedure_codes_refuse_what_is_not_a_recorded_level(levels, field):
    with pytest.raises(Refusal) as refused:
        TABLES.procedure_codes(levels)
    assert refused.value.field == field


# -- ICD-10-CM ---------------------------------------------------------------------------------------
def codes(indication: str, levels: list[str], **kwargs: Any) -> list[str]:
    return [c.code for c in TABLES.diagnosis_codes(indication, levels, **kwargs)]


# level: (traumatic, other) for one fractured level. Traumatic: wedge compression, closed, initial,
# naming the vertebra (S22.0x T1..T11-T12, S32.0x L1..L5); cervical other fracture, displaced (no
# wedge code); sacrum unspecified (coded by zone, not segment). Other: collapsed vertebra NEC by region.
ONE_LEVEL_ICD10 = {
    "C1": ("S12.090A", "M48.51XA"),
    "C2": ("S12.190A", "M48.51XA"),
    "C3": ("S12.290A", "M48.52XA"),
    "C4": ("S12.390A", "M48.52XA"),
    "C5": ("S12.490A", "M48.52XA"),
    "C6": ("S12.590A", "M48.52XA"),
    "C7": ("S12.690A", "M48.52XA"),
    "T1": ("S22.010A", "M48.54XA"),
    "T2": ("S22.020A", "M48.54XA"),
    "T3": ("S22.030A", "M48.54XA"),
    "T4": ("S22.040A", "M48.54XA"),
    "T5": ("S22.050A", "M48.54XA"),
    "T6": ("S22.050A", "M48.54XA"),
    "T7": ("S22.060A", "M48.54XA"),
    "T8": ("S22.060A", "M48.54XA"),
    "T9": ("S22.070A", "M48.54XA"),
    "T10": ("S22.070A", "M48.54XA"),
    "T11": ("S22.080A", "M48.54XA"),
    "T12": ("S22.080A", "M48.54XA"),
    "L1": ("S32.010A", "M48.56XA"),
    "L2": ("S32.020A", "M48.56XA"),
    "L3": ("S32.030A", "M48.56XA"),
    "L4": ("S32.040A", "M48.56XA"),
    "L5": ("S32.050A", "M48.56XA"),
    "S1": ("S32.10XA", "M48.58XA"),
    "S2": ("S32.10XA", "M48.58XA"),
    "S3": ("S32.10XA", "M48.58XA"),
    "S4": ("S32.10XA", "M48.58XA"),
    "S5": ("S32.10XA", "M48.58XA"),
}


@pytest.mark.parametrize(("level", "traumatic", "other"), [(lv, *c) for lv, c in ONE_LEVEL_ICD10.items()])
def test_every_level_alone_takes_its_indications_codes(level, traumatic, other):
    assert codes("osteoporotic", [level]) == ["M80.08XA"]
    assert codes("myeloma", [level]) == ["M84.58XA", "C90.00"]
    assert codes("metastatic", [level]) == ["M84.58XA", "C79.51"]
    assert codes("traumatic", [level]) == [traumatic]
    assert codes("other", [level]) == [other]


# indication x region, two levels of the region each (C3 C5, T7 T8, L2 L4, S1 S2).
REGION_LEVELS = {"C": ["C5", "C3"], "T": ["T8", "T7"], "L": ["L4", "L2"], "S": ["S2", "S1"]}
BY_REGION_ICD10 = {
    ("osteoporotic", "C"): ["M80.08XA"],
    ("osteoporotic", "T"): ["M80.08XA"],
    ("osteoporotic", "L"): ["M80.08XA"],
    ("osteoporotic", "S"): ["M80.08XA"],
    ("myeloma", "C"): ["M84.58XA", "C90.00"],
    ("myeloma", "T"): ["M84.58XA", "C90.00"],
    ("myeloma", "L"): ["M84.58XA", "C90.00"],
    ("myeloma", "S"): ["M84.58XA", "C90.00"],
    ("metastatic", "C"): ["M84.58XA", "C79.51"],
    ("metastatic", "T"): ["M84.58XA", "C79.51"],
    ("metastatic", "L"): ["M84.58XA", "C79.51"],
    ("metastatic", "S"): ["M84.58XA", "C79.51"],
    ("traumatic", "C"): ["S12.290A", "S12.490A"],
    ("traumatic", "T"): ["S22.060A"],  # T7 and T8 share one code
    ("traumatic", "L"): ["S32.020A", "S32.040A"],
    ("traumatic", "S"): ["S32.10XA"],  # the sacrum once
    ("other", "C"): ["M48.52XA"],
    ("other", "T"): ["M48.54XA"],
    ("other", "L"): ["M48.56XA"],
    ("other", "S"): ["M48.58XA"],
}


@pytest.mark.parametrize(("indication", "region"), list(BY_REGION_ICD10))
def test_every_indication_in_every_region_is_coded_in_reporting_order(indication, region):
    assert codes(indication, REGION_LEVELS[region]) == BY_REGION_ICD10[(indication, region)]


def test_pathological_fracture_code_comes_before_the_neoplasm():
    assert codes("myeloma", ["L1"])[0] == "M84.58XA"
    assert codes("metastatic", ["L1"])[:2] == ["M84.58XA", "C79.51"]


@pytest.mark.parametrize(
    ("remission", "code"),
    [
        (None, "C90.00"),  # multiple myeloma NOS is coded C90.00
        ("not_in_remission", "C90.00"),
        ("not in remission", "C90.00"),
        ("in_remission", "C90.01"),
        ("In remission", "C90.01"),
        ("in_relapse", "C90.02"),
        ("in relapse", "C90.02"),
    ],
)
def test_myeloma_is_coded_by_remission_status(remission, code):
    assert codes("myeloma", ["T10"], remission=remission) == ["M84.58XA", code]


def test_an_unrecorded_remission_status_asks_the_coder_to_check():
    assert any("Remission status not recorded" in n for n in TABLES.diagnosis_notes("myeloma", ["T10"]))
    assert not any("Remission" in n for n in TABLES.diagnosis_notes("myeloma", ["T10"], remission="in_relapse"))


@pytest.mark.parametrize("primary", ["C50.911", "c50.911 ", "C34.90", "C61", "C80.1", "Z85.3", "C7A.010"])
def test_metastasis_is_followed_by_the_primary_neoplasm_when_given(primary):
    assert codes("metastatic", ["L3"], primary_neoplasm=primary) == ["M84.58XA", "C79.51", primary.strip().upper()]
    assert not any(
        "primary neoplasm" in n for n in TABLES.diagnosis_notes("metastatic", ["L3"], primary_neoplasm=primary)
    )


def test_metastasis_without_its_primary_gets_a_coder_note_to_add_it():
    assert codes("metastatic", ["L3"]) == ["M84.58XA", "C79.51"]
    (note,) = [n for n in TABLES.diagnosis_notes("metastatic", ["L3"]) if "primary neoplasm" in n]
    assert "Z85" in note and "C80.1" in note


@pytest.mark.parametrize("primary", ["C79.51", "C78.00", "C7B.03", "M84.58XA", "breast", "C50.9111X", ""])
def test_a_primary_neoplasm_must_be_a_primary_malignancy_code(primary):
    with pytest.raises(Refusal) as refused:
        TABLES.diagnosis_codes("metastatic", ["L3"], primary_neoplasm=primary)
    assert refused.value.field == "primary_neoplasm"


@pytest.mark.parametrize(
    ("indication", "kwargs", "field"),
    [
        ("myeloma", {"primary_neoplasm": "C50.911"}, "primary_neoplasm"),
        ("osteoporotic", {"remission": "in_remission"}, "remission"),
        ("myeloma", {"remission": "cured"}, "remission"),
        ("degenerative", {}, "indication"),
    ],
)
def test_diagnosis_codes_refuse_what_does_not_belong_to_the_indication(indication, kwargs, field):
    with pytest.raises(Refusal) as refused:
        TABLES.diagnosis_codes(indication, ["L1"], **kwargs)
    assert refused.value.field == field


def test_osteoporotic_fractures_are_m80_never_injury_codes():
    every = list(ONE_LEVEL_ICD10)
    assert codes("osteoporotic", every) == ["M80.08XA"]
    assert not any(code.startswith("S") for code in codes("osteoporotic", every))


def test_traumatic_codes_name_each_vertebra_once_in_spine_order():
    assert codes("traumatic", ["L1", "T12", "T11"]) == ["S22.080A", "S32.010A"]
    assert codes("traumatic", ["S3", "S1", "S2", "L5"]) == ["S32.050A", "S32.10XA"]
    assert codes("traumatic", ["C6", "T1", "L2"]) == ["S12.590A", "S22.010A", "S32.020A"]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["C7", "T1"], ["M48.53XA"]),  # cervicothoracic
        (["T12", "L1"], ["M48.55XA"]),  # thoracolumbar
        (["L5", "S1"], ["M48.57XA"]),  # lumbosacral
        (["T11", "T12", "L1"], ["M48.54XA", "M48.55XA"]),
        (["T12", "L2"], ["M48.54XA", "M48.56XA"]),  # not adjacent across the junction
        (["T8", "L3", "S2"], ["M48.54XA", "M48.56XA", "M48.58XA"]),
        (["C2", "C3"], ["M48.51XA", "M48.52XA"]),
        (["C6", "C7", "T1", "T2"], ["M48.52XA", "M48.53XA", "M48.54XA"]),
    ],
)
def test_other_collapse_is_coded_per_region_and_a_junction_pair_to_its_junction_region(levels, expected):
    assert codes("other", levels) == expected


def test_descriptions_come_with_every_diagnosis_code():
    for indication in ("osteoporotic", "myeloma", "metastatic", "traumatic", "other"):
        assert all(c.description for c in TABLES.diagnosis_codes(indication, list(ONE_LEVEL_ICD10)))
    assert (
        TABLES.describe_icd10("s22.080a")
        == "Wedge compression fracture of T11-T12 vertebra, initial encounter for closed fracture"
    )
    assert TABLES.describe_icd10("C90.02") == "Multiple myeloma in relapse"
    assert TABLES.describe_icd10("Z99.9") is None


def test_traumatic_notes_mention_external_causes_the_cervical_default_and_the_sacral_zone():
    notes = " ".join(TABLES.diagnosis_notes("traumatic", ["C5", "S1"]))
    assert "external cause" in notes and "displaced" in notes and "zone" in notes


# -- the tables: checked on load, naming the entry -------------------------------------------------
def damaged(change) -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    change(data)
    return data


def by_level(data: dict[str, Any], indication: str) -> list[dict[str, Any]]:
    return data["icd10"][indication]["by_level"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda d: by_level(d, "traumatic")[11]["levels"].append("T13"),
            r"\[icd10.traumatic\] by_level entry 12 \(S22.050A\): 'T13' is not a level",
        ),
        (
            lambda d: by_level(d, "traumatic")[0]["levels"].append("C2"),
            r"\[icd10.traumatic\] by_level entry 2 \(S12.190A\): C2 is given twice \(entry 1 has it\)",
        ),
        (lambda d: by_level(d, "other")[4]["levels"].remove("S5"), r"\[icd10.other\] by_level: S5 not covered"),
        (
            lambda d: by_level(d, "traumatic")[14].update(code="S22.08000"),
            r"\[icd10.traumatic\] by_level entry 15: 'S22.08000' is not a valid code",
        ),
        (
            lambda d: d["icd10"]["other"]["junctions"][1].update(levels=["T12", "L2"]),
            r"junctions entry 2 \(M48.55XA\): give two adjacent levels",
        ),
        (
            lambda d: d["icd10"]["myeloma"]["by_remission"].pop("in_relapse"),
            r"\[icd10.myeloma\] by_remission must give exactly",
        ),
        (lambda d: d["icd10"]["myeloma"].update(default_remission="cured"), r"default_remission must be one of"),
        (lambda d: d["icd10"]["other"].update(by_levels=[]), r"\[icd10.other\]: unknown key 'by_levels'"),
        (
            lambda d: d["cpt"]["kyphoplasty"]["primary"].pop(),
            r"\[cpt.kyphoplasty\]: the primary codes must cover .*: L is not covered",
        ),
        (
            lambda d: d["cpt"]["kyphoplasty"].pop("unlisted"),
            r"\[cpt.kyphoplasty\]: the primary codes must cover .*: C is not covered",
        ),
        (
            lambda d: d["cpt"]["vertebroplasty"]["primary"][1]["regions"].append("S"),
            r"\[cpt.vertebroplasty\]: .*S is given twice",
        ),
        (
            lambda d: d["cpt"]["sacrum"]["bilateral"].update(description="Sacroplasty via both pedicles"),
            r"\[cpt.sacrum\] bilateral 0201T: a sacral description must not say 'pedicle'",
        ),
        (
            lambda d: d["cpt"]["sacrum"]["unilateral"].update(code="200T"),
            r"\[cpt.sacrum\] unilateral: '200T' is not a valid code",
        ),
        (lambda d: d["cpt"].pop("separate_biopsy"), r"\[cpt\] must give exactly"),
        (lambda d: d["cpt"]["abandoned"].update(modifier=""), r"\[cpt.abandoned\] 'modifier'"),
    ],
)
def test_a_malformed_code_table_entry_is_refused_naming_the_entry(change, words):
    with pytest.raises(CodingError, match=r"^codes\.toml: .*" + words):
        parse_coding_tables(damaged(change), "codes.toml")


def test_a_malformed_code_file_is_refused_naming_the_file(tmp_path: Path):
    path = tmp_path / "codes.toml"
    text = shipped_coding_tables().read_text(encoding="utf-8").replace('levels = ["L3"]', 'levels = ["L33"]')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodingError) as refused:
        load_coding_tables(path)
    assert str(refused.value).startswith(
        f"{path}: [icd10.traumatic] by_level entry 18 (S32.030A): 'L33' is not a level"
    )
