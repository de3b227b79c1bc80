"""Malformed data files and scans: templates, product catalogues and barcodes.

A template must load or raise TemplateError naming the file; a catalogue must load or raise
CatalogueError naming the file; a scan must read or raise a Refusal on the `barcode` field.
Never another exception.
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app import paths
from checklist_app.domain.catalogue import Catalogue, CatalogueError, load_catalogue
from checklist_app.domain.errors import Refusal
from checklist_app.domain.template import Template, TemplateError, load_template, parse_template

from .ledger import LEDGER
from .strategies import any_char, texts

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    report_multiple_bugs=False,
)
TEMPLATE_FILE = paths.templates_dir() / "kyphoplasty.toml"
CATALOGUE_FILE = paths.resources_dir() / "products.toml"
TEMPLATE_DATA = tomllib.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))
CATALOGUE_DATA = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))

# Values TOML can hold (what a site editing a file by hand could produce).
toml_scalars = st.one_of(
    st.text(any_char.filter(lambda c: not "\ud800" <= c <= "\udfff"), max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
    ),
    max_leaves=6,
)


def paths_in(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_in(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    """The shipped data with one to three values replaced, deleted or added anywhere in it."""
    data = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        places = paths_in(data)
        if not places:  # an earlier mutation left nothing to change (e.g. both tables replaced)
            break
        where = draw(st.sampled_from(places))
        parent: Any = data
        for key in where[:-1]:
            parent = parent[key]
        last = where[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[last] = draw(toml_values)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(toml_values)
        else:
            parent.append(draw(toml_values))
    return data


# -- templates ------------------------------------------------------------------------------------------


@PROPERTY
@given(data=mutated(TEMPLATE_DATA))
def test_mutated_template_loads_or_is_refused_naming_the_file(data: dict[str, Any]) -> None:
    LEDGER.add("inputs.files")
    LEDGER.add("inputs.files.template")
    try:
        template = parse_template(data, source="site/kyphoplasty.toml")
    except TemplateError as error:
        assert str(error).startswith("site/kyphoplasty.toml: "), error
        return
    except Exception as error:
        if LEDGER.survived("template", error):
            return
        raise
    assert isinstance(template, Template) and template.steps


@PROPERTY
@given(content=st.one_of(st.binary(max_size=400), texts.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_template_file_of_any_bytes_is_refused_naming_the_file(tmp_path_factory, content: bytes) -> None:
    LEDGER.add("inputs.files")
    LEDGER.add("inputs.files.template")
    path = tmp_path_factory.mktemp("template") / "broken.toml"
    path.write_bytes(content)
    with pytest.raises(TemplateError) as refused:
        load_template(path)
    assert str(refused.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d["steps"][0].__setitem__("fields", 5), "patient_in_room"),
        (lambda d: d["steps"][0].__setitem__("gates", "time_out"), "patient_in_room"),
        (lambda d: d["steps"][1]["fields"][0].__setitem__("max_length", "long"), "identity"),
        (lambda d: d["steps"][1]["fields"][0].__setitem__("accept_units", 5), "identity"),
        (lambda d: d["steps"][2]["fields"][0].__setitem__("choices", 5), "allergies"),
        (lambda d: d["steps"][1]["fields"][0].__setitem__("required", "no"), "identity"),
        (lambda d: d["steps"][1].__setitem__("help", ["not", "text"]), "identity_consent"),
        (lambda d: d["steps"][2]["fields"][3].__setitem__("required_if", [5]), "anticoagulant_drug"),
    ],
    ids=[
        "fields_a_number",
        "gates_a_string",
        "max_length_text",
        "accept_units_number",
        "choices_number",
        "required_text",
        "help_a_list",
        "required_if_a_list_of_numbers",
    ],
)
def test_template_with_a_wrongly_typed_key_is_refused_naming_file_and_step(change, fragment: str) -> None:
    data = copy.deepcopy(TEMPLATE_DATA)
    change(data)
    LEDGER.add("inputs.files")
    with pytest.raises(TemplateError) as refused:
        parse_template(data, source="site/kyphoplasty.toml")
    assert str(refused.value).startswith("site/kyphoplasty.toml: ") and fragment in str(refused.value)


# -- product catalogues --------------------------------------------------------------------------------


def toml_text(data: dict[str, Any]) -> str:
    """A small TOML writer for catalogue-shaped data: [[kind]] tables of key = value."""
    lines = []
    for kind, entries in data.items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            lines.insert(0, f"{_key(kind)} = {_value(entries)}")
            continue
        for entry in entries:
            lines.append(f"[[{_key(kind)}]]")
            lines += [f"{_key(key)} = {_value(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return json.dumps(str(key), ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def test_toml_writer_round_trips_the_shipped_catalogue() -> None:
    assert tomllib.loads(toml_text(CATALOGUE_DATA)) == CATALOGUE_DATA


@PROPERTY
@given(data=mutated(CATALOGUE_DATA))
def test_mutated_site_catalogue_loads_or_is_refused_naming_the_file(tmp_path_factory, data: dict[str, Any]) -> None:
    LEDGER.add("inputs.files")
    LEDGER.add("inputs.files.catalogue")
    site = tmp_path_factory.mktemp("site") / "products.toml"
    site.write_text(toml_text(data), encoding="utf-8")
    try:
        catalogue = load_catalogue(CATALOGUE_FILE, site)
    except CatalogueError as error:
        assert str(error).startswith(f"{site}: "), error
        return
    except Exception as error:
        if LEDGER.survived("catalogue", error):
            return
        raise
    assert isinstance(catalogue, Catalogue) and catalogue.cements


@PROPERTY
@given(content=st.one_of(st.binary(max_size=400), texts.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_catalogue_file_of_any_bytes_is_refused_naming_the_file(tmp_path_factory, content: bytes) -> None:
    LEDGER.add("inputs.files")
    LEDGER.add("inputs.files.catalogue")
    site = tmp_path_factory.mktemp("site") / "products.toml"
    site.write_bytes(content)
    try:
        load_catalogue(CATALOGUE_FILE, site)
    except CatalogueError as error:
        assert str(error).startswith(f"{site}: "), error


# -- barcodes ----------------------------------------------------------------------------------------------


def _barcode_module():
    try:
        return importlib.import_module("checklist_app.domain.barcode")
    except ImportError as exc:
        pytest.skip(f"checklist_app.domain.barcode is not importable ({exc}): no scan parser to test")


def _gs1(gtin: str, expiry: str, lot: str, serial: str, separator: str) -> str:
    return f"01{gtin}17{expiry}10{lot}{separator}21{serial}"


digits = st.text("0123456789", min_size=0, max_size=16)
scans = st.one_of(
    texts,
    st.builds(
        _gs1,
        st.one_of(digits, st.just("00614141100019"), st.just("00614141100018")),
        st.one_of(st.text("0123456789", min_size=6, max_size=6), st.sampled_from(["991399", "000000", "2601"])),
        st.text(any_char, max_size=22),
        st.text(any_char, max_size=22),
        st.sampled_from(["\x1d", "\u241d", "", "|", "\x00"]),
    ),
    st.builds("({}){}".format, st.text("0123456789", min_size=0, max_size=4), st.text(any_char, max_size=20)),
    st.builds(
        "https://id.gs1.org/01/{}/10/{}?17={}".format,
        digits,
        st.text(any_char, max_size=10),
        st.text(any_char, max_size=8),
    ),
    st.sampled_from(["]C1", "]", "]d2", "\x1d", "(", "()", "(01)", "01", "http://", "https://id.gs1.org/"]),
    st.builds(lambda s: "]C1" + s, digits),
)


@PROPERTY
@given(text=scans)
def test_any_scan_is_read_or_refused_on_the_barcode_field(text: str) -> None:
    barcode = _barcode_module()
    catalogue = load_catalogue(CATALOGUE_FILE)
    LEDGER.add("inputs.scans")
    try:
        scan = barcode.parse_scan(text, today=date(2026, 3, 2), catalogue=catalogue)
    except Refusal as refusal:
        assert refusal.field == "barcode" and refusal.message.strip(), refusal
        return
    assert scan.gtin is None or (len(scan.gtin) == 14 and scan.gtin.isdigit())
    assert scan.expiry is None or isinstance(scan.expiry, date)
    assert all(isinstance(message, str) and message for message in scan.messages)


@pytest.mark.parametrize("text", [None, 5, b"0100614141100019", ["01"], "\ud800", "01" + "9" * 500])
def test_scan_that_is_not_usable_text_is_refused_on_the_barcode_field(text: Any) -> None:
    barcode = _barcode_module()
    LEDGER.add("inputs.scans")
    with pytest.raises(Refusal) as refused:
        barcode.parse_scan(text, today=date(2026, 3, 2), catalogue=load_catalogue(CATALOGUE_FILE))
    assert refused.value.field == "barcode"


def test_shipped_files_still_load(tmp_path: Path) -> None:
    """The mutations above start from these; they must stay valid themselves."""
    assert load_template(TEMPLATE_FILE).steps and load_catalogue(CATALOGUE_FILE).cements
