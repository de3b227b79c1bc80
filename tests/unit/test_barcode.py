"""Reading implant barcodes (SPEC §8): GS1 element strings with and without GS, Digital Link, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklist_app.domain.barcode import GS_VISIBLE, Scan, parse_scan
from checklist_app.domain.catalogue import load_catalogue
from checklist_app.domain.errors import Refusal

PRODUCTS = Path(__file__).resolve().parents[2] / "resources" / "products.toml"
CATALOGUE = load_catalogue(PRODUCTS)
CEMENT = CATALOGUE.cements[0]
BALLOON = CATALOGUE.balloons[0]
TODAY = date(2026, 3, 2)
GS = "\x1d"


def scan(text: str) -> Scan:
    return parse_scan(text, today=TODAY, catalogue=CATALOGUE)


def gs1(*elements: tuple[str, str], separator: str = GS) -> str:
    """An element string: fixed-length AIs (01, 17) joined directly, the separator after each variable one."""
    out = ""
    for ai, value in elements:
        out += ai + value + (separator if ai not in ("01", "17") else "")
    return out.rstrip(separator) if separator else out


def wrong_check_digit(gtin: str) -> str:
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


def test_element_string_with_group_separator_fills_every_field():
    result = scan(gs1(("01", CEMENT.gtin), ("17", "281231"), ("10", "LOT-77"), ("21", "SN0042")))
    assert (result.gtin, result.lot, result.expiry, result.serial) == (
        CEMENT.gtin,
        "LOT-77",
        date(2028, 12, 31),
        "SN0042",
    )
    assert result.product == CEMENT
    assert result.expired is False
    assert result.messages == ()


def test_element_string_without_separator_when_only_the_last_field_is_variable():
    assert gs1(("01", BALLOON.gtin), ("17", "280630"), ("10", "BK1234")) == f"01{BALLOON.gtin}1728063010BK1234"
    result = scan(
        gs1(("01", BALLOON.gtin), ("17", "280630"), ("10", "BK1234")) + "\r\n"
    )  # Enter from the scanner included
    assert (result.gtin, result.lot, result.expiry, result.serial) == (BALLOON.gtin, "BK1234", date(2028, 6, 30), None)
    assert result.product == BALLOON


def test_visible_group_separator_from_the_scan_field_is_a_separator():
    result = scan(gs1(("01", CEMENT.gtin), ("10", "LOT1"), ("17", "290101"), separator=GS_VISIBLE))
    assert (result.lot, result.expiry) == ("LOT1", date(2029, 1, 1))


def test_symbology_identifier_prefix_is_accepted():
    assert scan("]C1" + gs1(("01", CEMENT.gtin), ("17", "281231"), ("10", "L9"))).lot == "L9"


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3", "]e0"])
def test_gs1_symbology_identifiers_of_every_implant_symbol_are_accepted(prefix):
    """GS1-128, GS1 DataMatrix, GS1 QR and GS1 DataBar, as a scanner set to send AIM identifiers types them."""
    result = scan(prefix + gs1(("01", CEMENT.gtin), ("10", "LOT5"), ("17", "290101"), ("21", "S1")))
    assert (result.gtin, result.lot, result.expiry, result.serial) == (CEMENT.gtin, "LOT5", date(2029, 1, 1), "S1")


@pytest.mark.parametrize("stand_in", ["<GS>", "<gs>", "^]", "{GS}"])
def test_a_scanners_text_stand_in_for_the_group_separator_is_a_separator(stand_in):
    text = gs1(("01", CEMENT.gtin), ("10", "LOT1"), ("21", "SN7"), ("17", "290101"), separator=stand_in)
    assert stand_in in text
    result = scan("]d2" + text)
    assert (result.lot, result.serial, result.expiry) == ("LOT1", "SN7", date(2029, 1, 1))


def test_digital_link_uri():
    result = scan(f"https://id.gs1.org/01/{BALLOON.gtin}/10/BK77/21/S1?17=290331")
    assert (result.gtin, result.lot, result.expiry, result.serial) == (BALLOON.gtin, "BK77", date(2029, 3, 31), "S1")
    assert result.product == BALLOON


def test_human_readable_text_typed_from_the_label():
    result = scan(f"(01){CEMENT.gtin}(17)281231(10)HRI1")
    assert (result.product, result.lot) == (CEMENT, "HRI1")


def test_plain_gtin_symbol_gives_the_product_and_asks_for_the_expiry():
    result = scan(CEMENT.gtin.lstrip("0"))  # GTIN-12/13 as printed in a linear barcode
    assert result.gtin == CEMENT.gtin and result.product == CEMENT
    assert result.lot is None and result.expiry is None
    assert "no expiry" in result.message


@pytest.mark.parametrize(
    "text",
    [
        gs1(("01", wrong_check_digit(CEMENT.gtin)), ("17", "281231"), ("10", "LOT")),
        f"https://id.gs1.org/01/{wrong_check_digit(CEMENT.gtin)}/10/LOT",
        wrong_check_digit(CEMENT.gtin),
    ],
)
def test_bad_check_digit_is_refused_with_a_clear_message(text):
    with pytest.raises(Refusal) as caught:
        scan(text)
    assert caught.value.field == "barcode"
    assert "check digit" in caught.value.message
    assert f"should be {CEMENT.gtin[-1]}" in caught.value.message


def test_expired_lot_is_flagged():
    result = scan(gs1(("01", CEMENT.gtin), ("17", "260301"), ("10", "OLD")))
    assert result.expired is True
    assert "EXPIRED on 2026-03-01" in result.message


def test_lot_expiring_today_is_not_expired():
    assert scan(gs1(("01", CEMENT.gtin), ("17", "260302"), ("10", "TODAY"))).expired is False


def test_day_zero_expiry_means_the_end_of_the_month():
    assert scan(gs1(("01", CEMENT.gtin), ("17", "260300"), ("10", "X"))).expiry == date(2026, 3, 31)


def test_unknown_product_keeps_the_data_and_says_to_choose_by_hand():
    unknown = "00614141999996"  # valid check digit, not in the catalogue
    result = scan(gs1(("01", unknown), ("17", "281231"), ("10", "U1")))
    assert result.product is None
    assert (result.gtin, result.lot) == (unknown, "U1")
    assert f"Unknown product GTIN {unknown}; choose the product by hand." in result.message


@pytest.mark.parametrize(
    "text", ["hello world", "https://example.com/page", "01" + CEMENT.gtin + "17281331" + "10X", "(99"]
)
def test_garbage_is_refused_naming_the_barcode(text):
    with pytest.raises(Refusal) as caught:
        scan(text)
    assert caught.value.field == "barcode"
    assert "barcode" in caught.value.message


@pytest.mark.parametrize("text", ["", "   ", "\r\n"])
def test_empty_scan_is_refused(text):
    with pytest.raises(Refusal, match="empty"):
        scan(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_scan_or_a_refusal_never_a_crash(text):
    try:
        result = scan(text)
    except Refusal as exc:
        assert exc.field == "barcode"
    else:
        assert isinstance(result, Scan)
