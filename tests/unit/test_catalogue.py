"""The product catalogue: shipped example entries, site overrides, GTIN look-up and precise refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from biip.gtin import Gtin

from checklist_app.domain.catalogue import BalloonProduct, CatalogueError, CementProduct, load_catalogue

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "products.toml"

CEMENT = """
[[cement]]
id = "{id}"
name = "Site cement"
manufacturer = "Maker"
gtin = "{gtin}"
dough_time_min = {dough}
working_end_min = {working}
set_time_min = {set_time}
reference_temperature_c = 21
"""
BALLOON = """
[[balloon]]
id = "{id}"
name = "Site balloon"
size_label = "15 mm"
gtin = "{gtin}"
max_pressure_psi = 400
max_volume_ml = 4
"""


def cement(
    id: str = "site_cement", gtin: str = "00614141300013", dough: float = 2, working: float = 9, set_time: float = 14
) -> str:
    return CEMENT.format(id=id, gtin=gtin, dough=dough, working=working, set_time=set_time)


def balloon(id: str = "site_balloon", gtin: str = "00614141300020") -> str:
    return BALLOON.format(id=id, gtin=gtin)


def write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalogue_has_example_cements_and_balloons_marked_set_from_ifu() -> None:
    catalogue = load_catalogue(SHIPPED)
    assert len(catalogue.cements) >= 3 and len(catalogue.balloons) >= 3
    for product in (*catalogue.cements, *catalogue.balloons):
        assert "IFU" in product.source and product.name.startswith("Example")
        assert Gtin.parse(product.gtin).as_gtin_14() == product.gtin
    for product in catalogue.cements:
        assert 0 < product.dough_time_min < product.working_end_min < product.set_time_min
    assert "IFU" in SHIPPED.read_text(encoding="utf-8").split("[[", 1)[0], "the header says where values come from"


def test_products_are_found_by_id_per_kind() -> None:
    catalogue = load_catalogue(SHIPPED)
    first_cement, first_balloon = catalogue.cements[0], catalogue.balloons[0]
    assert catalogue.cement(first_cement.id) is first_cement
    assert catalogue.balloon(first_balloon.id) is first_balloon
    assert catalogue.product("balloon", first_balloon.id) is first_balloon
    with pytest.raises(KeyError):
        catalogue.cement(first_balloon.id)
    with pytest.raises(KeyError):
        catalogue.balloon("no_such_balloon")


def test_products_are_found_by_gtin_in_any_zero_padding() -> None:
    catalogue = load_catalogue(SHIPPED)
    product = catalogue.balloons[0]
    assert catalogue.by_gtin(product.gtin) is product
    assert catalogue.by_gtin(product.gtin.lstrip("0")) is product  # as a GTIN-12/13 is printed
    assert catalogue.by_gtin("00614141999996") is None  # valid but unknown
    assert catalogue.by_gtin(product.gtin[:-1] + str((int(product.gtin[-1]) + 1) % 10)) is None
    assert catalogue.by_gtin("not a gtin") is None


def test_site_file_replaces_entries_with_the_same_id_and_adds_new_ones(tmp_path: Path) -> None:
    shipped = load_catalogue(SHIPPED)
    replaced_id = shipped.cements[0].id
    site = write(
        tmp_path, cement(id=replaced_id, set_time=20) + cement(id="site_only", gtin="00614141300037") + balloon()
    )
    catalogue = load_catalogue(SHIPPED, site)
    assert catalogue.cement(replaced_id).set_time_min == 20
    assert catalogue.cement(replaced_id).name == "Site cement"
    assert catalogue.cement("site_only").gtin == "00614141300037"
    assert catalogue.balloon("site_balloon").max_pressure_psi == 400
    assert [c.id for c in catalogue.cements][: len(shipped.cements)] == [c.id for c in shipped.cements]
    assert len(catalogue.cements) == len(shipped.cements) + 1
    assert len(catalogue.balloons) == len(shipped.balloons) + 1


def test_absent_site_file_gives_the_shipped_catalogue(tmp_path: Path) -> None:
    assert load_catalogue(SHIPPED, tmp_path / "none.toml") == load_catalogue(SHIPPED)
    assert load_catalogue(SHIPPED, None) == load_catalogue(SHIPPED)


def test_products_are_frozen() -> None:
    product = load_catalogue(SHIPPED).cements[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        product.set_time_min = 1  # type: ignore[misc]
    assert isinstance(product, CementProduct)
    assert isinstance(load_catalogue(SHIPPED).balloons[0], BalloonProduct)


BROKEN = {
    "missing_key": (cement().replace('manufacturer = "Maker"\n', ""), ["'site_cement'", "missing key 'manufacturer'"]),
    "zero_time": (cement(dough=0), ["'site_cement'", "'dough_time_min'", "above zero"]),
    "negative_time": (cement(set_time=-3), ["'site_cement'", "'set_time_min'"]),
    "working_after_set": (cement(working=15, set_time=14), ["'site_cement'", "'working_end_min'", "'set_time_min'"]),
    "dough_after_working": (cement(dough=10, working=9), ["'site_cement'", "'dough_time_min'"]),
    "bad_check_digit": (balloon(gtin="00614141300021"), ["'site_balloon'", "'gtin'", "check digit"]),
    "gtin_not_digits": (balloon(gtin="0061414130002X"), ["'site_balloon'", "'gtin'"]),
    "gtin_as_number": (balloon().replace('"00614141300020"', "614141300020"), ["'site_balloon'", "'gtin'", "text"]),
    "duplicate_id": (balloon() + balloon(gtin="00614141300037"), ["'site_balloon'", "defined twice"]),
    "unknown_key": (balloon() + "max_pressure_atm = 27\n", ["'site_balloon'", "unknown key 'max_pressure_atm'"]),
    "time_as_text": (cement().replace("dough_time_min = 2", 'dough_time_min = "2"'), ["'dough_time_min'", "number"]),
    "bad_toml": ("[[cement]\n", ["not valid TOML"]),
    "unknown_table": ("[[stent]]\nid = 'x'\n", ["unknown table 'stent'"]),
    "entry_without_id": (cement().replace('id = "site_cement"\n', ""), ["[[cement]] #1", "missing key 'id'"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_site_file_is_refused_naming_file_entry_and_key(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    site = write(tmp_path, text)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(SHIPPED, site)
    message = str(refused.value)
    assert str(site) in message
    for part in expected:
        assert part in message, (part, message)


def test_gtin_used_by_a_shipped_product_is_refused_in_the_site_file(tmp_path: Path) -> None:
    taken = load_catalogue(SHIPPED).cements[0].gtin
    site = write(tmp_path, balloon(gtin=taken))
    with pytest.raises(CatalogueError, match=r"'site_balloon'.*'gtin'") as refused:
        load_catalogue(SHIPPED, site)
    assert str(site) in str(refused.value)


def test_missing_shipped_catalogue_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"products\.toml"):
        load_catalogue(tmp_path / "products.toml")


def test_shipped_file_errors_name_the_shipped_file(tmp_path: Path) -> None:
    shipped = write(tmp_path, cement(working=1), name="products.toml")
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(shipped)
    assert str(shipped) in str(refused.value) and "'site_cement'" in str(refused.value)


def test_catalogue_gtin_check_agrees_with_biip_on_many_numbers() -> None:
    """The catalogue checks GTINs without importing biip (start-up time); it must judge as biip does."""
    import random

    from biip import ParseError
    from biip.gtin import Gtin

    from checklist_app.domain.catalogue import gtin14

    rng = random.Random(7)
    numbers = [str(rng.randrange(10 ** (n - 1), 10**n)) for n in (8, 12, 13, 14) for _ in range(500)]
    numbers += ["00000000", "0" * 14, "12345670", "4006381333931", "00614141100026", "1234567", "abcdefgh", ""]
    for text in numbers:
        try:
            expected = Gtin.parse(text).as_gtin_14() if len(text) in (8, 12, 13, 14) and text.isdigit() else None
        except ParseError:
            expected = None
        try:
            got = gtin14(text)
        except ValueError:
            got = None
        assert got == expected, text
