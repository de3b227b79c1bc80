"""Values print as people write them: '191 psi', 'INR 1.0', '1.5 mL', units always shown, no raw floats."""

from __future__ import annotations

import re

import pytest

from checklist_app.note import note_content
from checklist_app.note.words import DASH, amount, decimal, fixed, leak_codes, ml, number
from tests.conftest import STEP_VALUES, setup_kwargs
from tests.note.note_cases import finish, record_default, walk


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (191.048, "psi", "191 psi"),  # 13 atm converted: a whole number of psi, as the inflator shows
        (220, "psi", "220 psi"),
        (1, "ratio", "1.0"),  # INR: one decimal at least, no unit word
        (1.15, "ratio", "1.15"),
        (8.833333, "min", "8.8 min"),
        (12.0, "min", "12 min"),
        (89.0, "mGy", "89 mGy"),
        (89.34, "mGy", "89.3 mGy"),
        (44.567, "Gy·cm²", "44.57 Gy·cm²"),
        (2000.0, "mg", "2000 mg"),
        (1, "%", "1%"),
        (0.25, "%", "0.25%"),
        (220.0, "×10⁹/L", "220 ×10⁹/L"),
        (21.0, "°C", "21 °C"),
        (11, "G", "11 G"),
        (5, "runs", "5"),  # a count: the label says what is counted
        (10.0, "mL", "10 mL"),  # a local anaesthetic or blood loss volume: no trailing .0
        (3.25, "mL", "3.3 mL"),
    ],
)
def test_a_value_prints_with_its_unit_as_people_write_it(value, unit, shown):
    assert amount(value, unit) == shown


def test_cement_and_balloon_volumes_print_to_one_decimal():
    assert (ml(1.5), ml(2), ml(3.0), ml(2.25), ml(0.04)) == ("1.5 mL", "2.0 mL", "3.0 mL", "2.3 mL", "0.0 mL")


def test_numbers_round_half_up_from_what_was_typed_not_the_binary_float():
    assert (number(2.5, 0), number(3.5, 0), number(2.25, 1), number(1.005, 2)) == ("3", "4", "2.3", "1.01")
    assert (fixed(0.15, 1), decimal(1, 2), decimal(1.25, 2)) == ("0.2", "1.0", "1.25")
    assert number(-0.01, 1) == "0" and fixed(-0.01, 1) == "0.0", "no negative zero"


def test_a_missing_or_unusable_value_prints_a_dash():
    for value in (None, "", True, float("nan"), float("inf"), "3"):
        assert amount(value, "mL") == DASH and ml(value) == DASH and number(value) == DASH


def test_a_leak_recorded_as_one_choice_or_several_reads_the_same():
    assert leak_codes({"leak": "none"}) == () and leak_codes({}) == ()
    assert leak_codes({"leak": "venous"}) == ("venous",)
    assert leak_codes({"leak": ["venous", "intradiscal", "none"]}) == ("venous", "intradiscal")


def test_no_raw_float_or_unit_name_leaks_into_any_document(service, clock):
    """Values typed in other units (atm, seconds, Gy, mGy·cm²) come out rounded as people write them."""
    case_id = service.start_case(**setup_kwargs()).case_id
    drawn = "2026-03-02T06:30:00+00:00"
    awkward = {
        ("prechecks", None, None): {**STEP_VALUES["prechecks"], "inr": 1, "platelets": 220.0, "labs_drawn": drawn},
        ("balloon_inflation", "T12", "left"): {**STEP_VALUES["balloon_inflation"], "pressure": (13, "atm")},
        ("balloon_inflation", "T12", "right"): {**STEP_VALUES["balloon_inflation"], "volume": 2.25},
        ("cement_injection", "T12", "left"): {**STEP_VALUES["cement_injection"], "volume": 2},
        ("radiation_dose", None, None): {
            "fluoro_time": (530, "s"),
            "air_kerma": (0.0893, "Gy"),
            "kap": (44567, "mGy·cm²"),
            "runs": 5,
        },
    }
    special = {}
    for key, values in awkward.items():
        extra = {k: v for k, v in values.items()}
        special[key] = lambda extra=extra: record_default(service, clock, case_id, **extra)
    walk(service, clock, case_id, special)
    finish(service, clock, case_id, findings={"findings": "Good fill.", "ebl_ml": 5.0, "disposition": "Ward"})
    state = service.state(case_id)
    assert state.instance("balloon_inflation", "T12", "left").entry.values["pressure"] == pytest.approx(191.048)
    text = note_content(state).plain_text()
    assert re.findall(r"\d\.\d{3,}", text) == [], "no value with more decimals than anyone writes"
    assert "191 psi" in text and "191.048" not in text
    assert "INR 1.0" in text and "INR: 1.0" in text and not re.search(r"\bratio\b", text)
    assert "2.3 mL on the right" in text and "Cement volume: 2.0 mL" in text
    assert "Fluoroscopy time 8.8 min" in text and "89.3 mGy" in text and "44.57 Gy·cm²" in text
    assert "Number of runs: 5;" not in text and "5 runs" in text and "runs runs" not in text
    assert "Estimated blood loss: 5 mL" in text and "Cefazolin 2000 mg" in text
    whole = re.findall(r"(?<!INR )(?<!INR: )\b\d+\.0\b(?! mL)", text)
    assert whole == [], "whole numbers without '.0', except volumes and the INR"
