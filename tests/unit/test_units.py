"""Unit conversion and parsing of typed quantities ("17 atm", "1,5 mL")."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checklist_app.domain.units import UnitError, canonical_unit, convert, parse_quantity


def test_one_atmosphere_is_exactly_14_696_psi() -> None:
    assert convert(1, "atm", "psi") == 14.696
    assert convert(17, "atm", "psi") == 249.832
    assert convert(14.696, "psi", "atm") == 1.0


@pytest.mark.parametrize(
    ("value", "unit"),
    [(1000, "mGy·cm²"), (100, "cGy·cm²"), (10, "dGy·cm²"), (100, "µGy·m²"), (1, "Gy·cm²")],
)
def test_kerma_area_products_convert_to_gray_square_centimetres(value: float, unit: str) -> None:
    assert convert(value, unit, "Gy·cm²") == 1.0


def test_kerma_area_product_conversion_rounds_once() -> None:
    assert convert(12345, "mGy·cm²", "Gy·cm²") == 12.345
    assert convert(1234, "µGy·m²", "Gy·cm²") == 12.34
    assert convert(12.34, "Gy·cm²", "µGy·m²") == 1234.0


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("Gy*cm2", "Gy·cm²"),
        ("mGy*cm2", "mGy·cm²"),
        ("cGy*cm2", "cGy·cm²"),
        ("uGy*m2", "µGy·m²"),
        ("μGy·m²", "µGy·m²"),  # Greek mu instead of the micro sign
        ("mgy cm2", "mGy·cm²"),
        ("ml", "mL"),
        ("cc", "mL"),
        ("PSI", "psi"),
        ("Atm", "atm"),
        ("sec", "s"),
        ("x10^9/L", "×10⁹/L"),
    ],
)
def test_ascii_and_other_spellings_are_accepted(alias: str, canonical: str) -> None:
    assert canonical_unit(alias) == canonical


def test_case_still_tells_gauge_from_gram() -> None:
    assert canonical_unit("G") == "G"
    assert canonical_unit("g") == "g"
    assert convert(2, "g", "mg") == 2000


def test_ascii_kap_alias_converts_like_the_unicode_unit() -> None:
    assert convert(250, "uGy*m2", "Gy*cm2") == convert(250, "µGy·m²", "Gy·cm²") == 2.5


def test_time_and_volume_convert() -> None:
    assert convert(90, "s", "min") == 1.5
    assert convert(3, "mL", "mL") == 3.0
    assert convert(3, "cc", "mL") == 3.0
    assert convert(2.5, "Gy", "mGy") == 2500


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(value: float) -> None:
    with pytest.raises(UnitError, match="finite"):
        convert(value, "atm", "psi")


@pytest.mark.parametrize("value", [True, "17", None])
def test_values_that_are_not_numbers_are_refused(value: object) -> None:
    with pytest.raises(UnitError, match="not a number"):
        convert(value, "atm", "psi")  # type: ignore[arg-type]


def test_conversion_between_different_quantities_is_refused() -> None:
    with pytest.raises(UnitError, match="cannot convert psi"):
        convert(1, "psi", "mL")


@pytest.mark.parametrize("unit", ["bar", "furlongs", "", "   "])
def test_unknown_units_are_refused(unit: str) -> None:
    with pytest.raises(UnitError):
        convert(1, unit, "psi")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17 atm", (17.0, "atm")),
        ("250psi", (250.0, "psi")),
        ("1,5 mL", (1.5, "mL")),
        (" 0,500 ml ", (0.5, "mL")),
        (".5 cc", (0.5, "mL")),
        ("42.7 Gy*cm2", (42.7, "Gy·cm²")),
        ("1234 µGy·m²", (1234.0, "µGy·m²")),
        ("12\u00a0psi", (12.0, "psi")),
    ],
)
def test_typed_quantities_are_parsed_to_a_number_and_canonical_unit(text: str, expected: tuple[float, str]) -> None:
    assert parse_quantity(text) == expected


def test_a_bare_number_takes_the_default_unit() -> None:
    assert parse_quantity("3,5", default_unit="mL") == (3.5, "mL")
    with pytest.raises(UnitError, match="no unit"):
        parse_quantity("3.5")


def test_a_comma_with_three_decimals_is_refused_as_ambiguous() -> None:
    with pytest.raises(UnitError, match="ambiguous"):
        parse_quantity("1,500 mGy")


@pytest.mark.parametrize("text", ["nan psi", "inf atm", "", "atm", "1 500 mL", "1.2.3 psi", "1e3 psi", "12 bar"])
def test_unreadable_quantities_are_refused(text: str) -> None:
    with pytest.raises(UnitError):
        parse_quantity(text)


_SAME_DIMENSION = [("psi", "atm"), ("Gy·cm²", "µGy·m²"), ("mGy·cm²", "cGy·cm²"), ("min", "s"), ("mg", "g")]


@given(value=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), pair=st.sampled_from(_SAME_DIMENSION))
def test_converting_there_and_back_returns_the_value(value: float, pair: tuple[str, str]) -> None:
    there = convert(value, *pair)
    assert math.isclose(convert(there, pair[1], pair[0]), value, rel_tol=1e-12, abs_tol=1e-300)
