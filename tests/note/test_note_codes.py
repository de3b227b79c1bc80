"""The operative report's codes: suggested until the operator signs, then the codes the operator confirmed.

The operator's signature carries `values["codes"] = {"cpt": [...], "icd10": [...]}` (the domain adds
it); an older signed case has none and says so. A signed note never says "suggested".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.state import fold
from checklist_app.note import note_content, render_pdf
from checklist_app.note.codes import CONFIRMED, SUGGESTED, TITLES, UNCONFIRMED, confirmed_codes, confirmed_codes_of
from checklist_app.note.model import Table
from tests.note.note_cases import build_kyphoplasty, pdf_pages

CODES = {"cpt": ["22513", "+22515"], "icd10": ["M80.08XA"]}


def signed_with(state, codes):
    """The same case as if the operator's signature had carried `codes` (None: no codes at all, as
    every signature did before the operator confirmed codes at sign-off)."""

    def values(event):
        kept = {k: v for k, v in event.values.items() if k != "codes"}
        return kept if codes is None else {**kept, "codes": codes}

    events = [
        replace(e, values=values(e)) if e.kind == ev.SIGNATURE and e.values.get("role") == "operator" else e
        for e in state.events
    ]
    return fold(events, state.template, state.catalogue, state.settings, state.coding)


def code_tables(content, title) -> tuple[Table, Table]:
    cpt, icd = (b for b in content.section(title).blocks if isinstance(b, Table))
    return cpt, icd


def test_before_the_operator_signs_the_codes_are_suggested_for_confirmation(service, clock):
    state = service.state(build_kyphoplasty(service, clock, sign=False))
    content = note_content(state)
    title = TITLES[SUGGESTED]
    assert title == "Suggested codes — the operator confirms them at sign-off"
    assert [s.title for s in content.document("report").sections][2] == title
    cpt, icd = code_tables(content, title)
    assert [r[0] for r in cpt.rows] == ["22513", "+22515"] and [r[0] for r in icd.rows] == ["M80.08XA"]
    assert "proposed from the indication" in content.plain_text()
    assert "Suggestedcodes—theoperatorconfirmsthematsign-off" in "".join(pdf_pages(render_pdf(content))).replace(
        " ", ""
    ).replace("\n", "")


def test_a_signed_note_prints_the_codes_the_operator_confirmed_and_never_says_suggested(service, clock):
    state = signed_with(service.state(build_kyphoplasty(service, clock, addendum=False)), CODES)
    content = note_content(state)
    title = TITLES[CONFIRMED]
    assert title == "Codes confirmed by the operator at sign-off"
    cpt, icd = code_tables(content, title)
    assert [r[:2] for r in cpt.rows] == [("22513", "T12"), ("+22515", "L1")]
    assert cpt.rows[0][2].startswith("Percutaneous vertebral augmentation") and cpt.rows[1][3] == "Add-on"
    assert icd.rows == (("M80.08XA", icd.rows[0][1]),) and icd.rows[0][1].startswith("Age-related osteoporosis")
    assert "Confirmed by Dr Ada Demo when signing" in content.plain_text()
    assert "suggest" not in content.plain_text().lower()
    assert "suggest" not in "".join(pdf_pages(render_pdf(content))).lower()
    assert [(c.code, c.level, c.add_on) for c in content.cpt] == [("22513", "T12", False), ("22515", "L1", True)]
    assert "CPT +22515" in content.metadata.keywords and "ICD-10-CM M80.08XA" in content.metadata.keywords
    signature = next(e for e in state.events if e.kind == ev.SIGNATURE and e.values["role"] == "operator")
    timeline = next(b for b in content.section("Timeline").blocks if isinstance(b, Table))
    row = next(r for r in timeline.rows if r[0] == str(signature.seq))
    assert row[2].endswith("codes confirmed: CPT 22513, +22515; ICD-10-CM M80.08XA")


def test_confirmed_codes_that_differ_from_the_derived_ones_print_as_the_operator_confirmed_them(service, clock):
    codes = {"cpt": ["22514"], "icd10": ["M48.50XA", "Z99.89"]}
    state = signed_with(service.state(build_kyphoplasty(service, clock, addendum=False)), codes)
    content = note_content(state)
    cpt, icd = code_tables(content, TITLES[CONFIRMED])
    assert cpt.rows == ((("22514", "—", cpt.rows[0][2], "Primary")),) and cpt.rows[0][2].endswith("lumbar")
    assert [r[0] for r in icd.rows] == ["M48.50XA", "Z99.89"] and icd.rows[1][1] == "—"
    assert [c.code for c in content.cpt] == ["22514"]


def test_a_case_signed_before_code_confirmation_existed_says_so_and_never_says_suggested(kypho):
    state = signed_with(kypho[0], None)  # an older case: its operator signature carries no codes
    content = note_content(state)
    assert state.facts.locked and confirmed_codes(state.facts.signature("operator")) is None
    title = TITLES[UNCONFIRMED]
    assert title == "Codes (recorded before code confirmation existed)"
    cpt, icd = code_tables(content, title)
    assert [r[0] for r in cpt.rows] == ["22513", "+22515"] and [r[0] for r in icd.rows] == ["M80.08XA"]
    assert "confirmed at sign-off" not in " ".join(b.text for b in content.section(title).blocks if hasattr(b, "text"))
    assert "suggest" not in content.plain_text().lower()
    assert "suggest" not in "".join(pdf_pages(render_pdf(content))).lower()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),
        ({"codes": None}, None),
        ({"codes": "22513"}, None),
        ({"codes": {}}, ((), ())),
        ({"codes": {"cpt": "22513"}}, (("22513",), ())),
        ({"codes": {"cpt": [" 22513 ", "", 22515, None], "icd10": ["M80.08XA"]}}, (("22513",), ("M80.08XA",))),
    ],
)
def test_the_signature_codes_are_read_tolerantly(values, expected):
    found = confirmed_codes_of(values)
    assert (None if found is None else (found.cpt, found.icd10)) == expected


def test_no_signature_means_no_confirmed_codes():
    assert confirmed_codes(None) is None
