"""CPT lines per treated level (SPEC §7.4) and ICD-10-CM suggestions per indication."""

from __future__ import annotations

import pytest

from checklist_app.domain.coding import CptLine, load_coding_tables
from checklist_app.domain.errors import Refusal
from checklist_app.site import shipped_coding_tables

TABLES = load_coding_tables(shipped_coding_tables())
cpt_codes, suggest_icd10 = TABLES.cpt_codes, TABLES.suggest_icd10


def codes(procedure: str, levels: list[str]) -> list[tuple[str, str, bool]]:
    return [(line.code, line.level, line.add_on) for line in cpt_codes(procedure, levels)]


def test_kyphoplasty_one_thoracic_level_bills_22513() -> None:
    assert codes("kyphoplasty", ["T12"]) == [("22513", "T12", False)]


def test_kyphoplasty_one_lumbar_level_bills_22514() -> None:
    assert codes("kyphoplasty", ["L1"]) == [("22514", "L1", False)]


def test_kyphoplasty_two_lumbar_levels_bill_primary_and_add_on() -> None:
    assert codes("kyphoplasty", ["L2", "L1"]) == [("22514", "L1", False), ("22515", "L2", True)]


def test_kyphoplasty_mixed_thoracic_and_lumbar_uses_the_first_level_in_spine_order_as_primary() -> None:
    assert codes("kyphoplasty", ["L1", "T12", "T11"]) == [
        ("22513", "T11", False),
        ("22515", "T12", True),
        ("22515", "L1", True),
    ]


def test_kyphoplasty_cervical_level_is_unlisted_and_the_sacrum_is_sacroplasty() -> None:
    assert codes("kyphoplasty", ["C7"]) == [("22899", "C7", False)]
    assert codes("kyphoplasty", ["S1"]) == [("0200T", "S1", False)]


def test_vertebroplasty_one_thoracic_level_bills_cervicothoracic_22510() -> None:
    assert codes("vertebroplasty", ["T8"]) == [("22510", "T8", False)]
    assert codes("vertebroplasty", ["C6"]) == [("22510", "C6", False)]


def test_vertebroplasty_one_lumbar_level_bills_lumbosacral_22511() -> None:
    assert codes("vertebroplasty", ["L4"]) == [("22511", "L4", False)]
    assert codes("vertebroplasty", ["S1"]) == [("0200T", "S1", False)]  # the sacrum is sacroplasty


def test_vertebroplasty_three_levels_bill_one_primary_and_two_add_ons() -> None:
    assert codes("vertebroplasty", ["L2", "T12", "L1"]) == [
        ("22510", "T12", False),
        ("22512", "L1", True),
        ("22512", "L2", True),
    ]


def test_vertebroplasty_two_lumbar_levels_bill_primary_and_add_on() -> None:
    assert codes("vertebroplasty", ["L3", "L4"]) == [("22511", "L3", False), ("22512", "L4", True)]


def test_cpt_lines_describe_the_code_and_accept_loosely_written_levels() -> None:
    (primary, add_on) = cpt_codes("kyphoplasty", ["t12", "L-1"])
    assert isinstance(primary, CptLine)
    assert primary.level == "T12" and "thoracic" in primary.description and "kyphoplasty" in primary.description
    assert add_on.level == "L1" and "each additional" in add_on.description
    (vp,) = cpt_codes("vertebroplasty", ["L5"])
    assert "vertebroplasty" in vp.description and "lumbosacral" in vp.description


@pytest.mark.parametrize(
    ("procedure", "levels", "field"),
    [
        ("sacroplasty", ["L1"], "procedure"),
        ("kyphoplasty", [], "levels"),
        ("kyphoplasty", ["L6"], "levels"),
        ("kyphoplasty", ["L1", "l1"], "levels"),
    ],
)
def test_cpt_codes_refuse_unknown_procedures_and_bad_levels(procedure: str, levels: list[str], field: str) -> None:
    with pytest.raises(Refusal) as refused:
        cpt_codes(procedure, levels)
    assert refused.value.field == field


def test_osteoporotic_fracture_suggests_age_related_osteoporosis_with_vertebral_fracture() -> None:
    assert [code for code, _ in suggest_icd10("osteoporotic", ["L1"])] == ["M80.08XA"]
    ((_, description),) = suggest_icd10("osteoporotic", ["L1"])
    assert "osteoporosis" in description and "vertebra" in description


def test_myeloma_suggests_the_pathological_fracture_then_the_neoplasm() -> None:
    assert [code for code, _ in suggest_icd10("myeloma", ["T10"])] == ["M84.58XA", "C90.00"]


def test_metastatic_disease_suggests_the_pathological_fracture_then_bone_secondary() -> None:
    suggestions = dict(suggest_icd10("metastatic", ["L3"]))
    assert list(suggestions) == ["M84.58XA", "C79.51"]
    assert suggestions["C79.51"] == "Secondary malignant neoplasm of bone"


def test_traumatic_fracture_suggests_a_code_naming_each_vertebra() -> None:
    assert [code for code, _ in suggest_icd10("traumatic", ["T12"])] == ["S22.080A"]
    assert [code for code, _ in suggest_icd10("traumatic", ["L2", "L1"])] == ["S32.010A", "S32.020A"]
    assert [code for code, _ in suggest_icd10("traumatic", ["L1", "T12", "T11"])] == ["S22.080A", "S32.010A"]


def test_other_collapse_suggests_collapsed_vertebra_nec_by_region() -> None:
    ((code, description),) = suggest_icd10("other", ["T7"])
    assert code == "M48.54XA" and "Collapsed vertebra" in description and "thoracic" in description


def test_every_suggestion_is_a_well_formed_icd10_code_with_a_description() -> None:
    from checklist_app.domain.setup import INDICATIONS, build_setup

    for indication in INDICATIONS:
        suggestions = suggest_icd10(indication, ["C7", "T12", "L1", "S1"])
        setup = build_setup(
            patient={"name": "A", "weight_kg": 70.0, "mrn": "1"},
            procedure="kyphoplasty",
            levels=[("L1", "both")],
            indication=indication,
            team={"operator": "Dr A", "nurse": "N B"},
            icd10=[code for code, _ in suggestions],
            today=None,
        )
        assert list(setup.icd10) == [code for code, _ in suggestions]
        assert all(description for _, description in suggestions)


def test_icd10_suggestion_refuses_an_unknown_indication() -> None:
    with pytest.raises(Refusal) as refused:
        suggest_icd10("degenerative", ["L1"])
    assert refused.value.field == "indication"
