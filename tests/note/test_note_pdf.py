"""The note as PDF: every section and value comes back out of the text, on pages that identify the patient
and the document (operative report, nursing record, audit trail) they belong to."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from checklist_app.note import note_content, render_pdf
from checklist_app.note.record import describe
from tests.conftest import advance, setup_kwargs
from tests.note.note_cases import (
    KYPHO,
    block_strings,
    body_text,
    build_kyphoplasty,
    page_documents,
    pdf_pages,
    squash,
)


@pytest.mark.parametrize("case", ["kypho", "vertebro"])
def test_every_section_block_and_event_prints(case, request):
    state, content = request.getfixturevalue(case)
    pages = pdf_pages(render_pdf(content))
    body = body_text(pages, content)
    missing = [text for text in block_strings(content) if squash(text) not in body]
    assert missing == []
    unprinted = [e.seq for e in state.events if squash(describe(state, e)) not in body]
    assert unprinted == []


def test_people_and_free_text_print_verbatim(kypho_pdf):
    _, _, pdf = kypho_pdf
    text = squash("".join(pdf_pages(pdf)))
    for value in KYPHO.values():
        assert squash(value) in text, value
    assert squash("O'Brien <Jr> & Sons") in text and "&amp;" not in text and "&lt;" not in text


def test_every_page_names_the_patient_and_its_document_and_counts_the_document_pages(kypho_pdf):
    state, content, pdf = kypho_pdf
    pages = pdf_pages(pdf)
    owners = page_documents(pages, content)
    assert [d.key for d in dict.fromkeys(owners)] == ["report", "nursing", "audit"]
    day = content.header.date_of_service
    for index, (page, document) in enumerate(zip(pages, owners, strict=True)):
        for expected in (KYPHO["patient"], KYPHO["mrn"], "1948-02-29", day, state.case_id, document.title):
            assert expected in page, (index + 1, expected)
        number, total = owners[: index + 1].count(document), owners.count(document)
        assert f"Page {number} of {total}" in page and "AMENDED" in page


def test_each_document_starts_on_a_new_page_and_is_bookmarked(kypho_pdf):
    _, content, pdf = kypho_pdf
    reader = PdfReader(io.BytesIO(pdf))
    owners = page_documents(pdf_pages(pdf), content)
    starts = [owners.index(d) for d in content.documents]
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [
        (d.title, start) for d, start in zip(content.documents, starts, strict=True)
    ]


def test_one_document_alone_counts_its_own_pages(kypho):
    state, _ = kypho
    for key in ("report", "nursing", "audit"):
        content = note_content(state, (key,))
        pages = pdf_pages(render_pdf(content))
        body_text(pages, content)  # each page: that document's title, 'Page X of Y' of that document alone
        assert all(content.documents[0].title in page for page in pages)
        assert not any(other.title in "".join(pages) for other in note_content(state).documents if other.key != key)


def test_the_same_case_renders_to_the_same_bytes(kypho):
    state, content = kypho
    assert render_pdf(content) == render_pdf(note_content(state))


def test_pdf_metadata_names_the_note_and_dates_it_from_the_case(kypho_pdf):
    state, content, pdf = kypho_pdf
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info.title == content.metadata.title and KYPHO["patient"] in info.title
    assert info.author == "Dr Ada Demo" and info.creator.startswith("checklist-app ")
    assert state.case_id in info.subject
    last = state.events[-1].recorded_time
    assert info["/CreationDate"].startswith(f"D:{last:%Y%m%d%H%M%S}")


def test_status_prints_draft_final_and_amended(service, clock, kypho_pdf):
    draft = build_kyphoplasty(service, clock, stop_before="closure")
    final = build_kyphoplasty(service, clock, addendum=False)
    for case_id, status in ((draft, "DRAFT"), (final, "FINAL")):
        pages = pdf_pages(render_pdf(note_content(service.state(case_id))))
        assert all(f"{status}:" in page for page in pages), status
        assert not any(other in page for page in pages for other in {"DRAFT", "FINAL", "AMENDED"} - {status})


def test_three_level_bipedicular_case_with_many_corrections_paginates(service, clock):
    levels = [{"level": lv, "sides": ["left", "right"]} for lv in ("T11", "T12", "L1")]
    case_id = build_kyphoplasty(service, clock, stop_before="closure", levels=levels)
    reason = "Re-read on the syringe scale after the injection " * 8
    for inst in service.state(case_id).instances_of("cement_injection"):
        for extra in (0.5, 1.0):
            entry = service.state(case_id).instance("cement_injection", inst.level, inst.side).entry
            values = {**entry.values, "volume": entry.values["volume"] + extra}
            service.correct(case_id=case_id, seq=entry.seq, values=values, reason=reason.strip())
    content = note_content(service.state(case_id))
    pages = pdf_pages(render_pdf(content))
    body = body_text(pages, content)  # header and footer on every page
    assert len(pages) > 6
    assert body.count(squash("No. Time Event By Reason / late entry")) >= 3, "timeline header repeated on each page"
    assert body.count(squash(reason)) == 2 * 12  # every reason, in the timeline and the corrections table


def test_a_row_taller_than_a_page_splits_instead_of_failing(service, clock):
    case_id = build_kyphoplasty(service, clock, sign=False)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    findings = "\n".join(f"Finding line {n}" for n in range(200))
    service.record_findings(case_id=case_id, findings=findings, complications="x" * 2000, ebl_ml=5.0)
    content = note_content(service.state(case_id))
    body = body_text(pdf_pages(render_pdf(content)), content)
    assert squash("Finding line 0") in body and squash("Finding line 199") in body


@pytest.mark.parametrize(
    "findings",
    [
        ("山" * 49 + "\n") * 36,  # CJK lines just wider than the cell: twice the lines a guess from the length gives
        ("😀" * 45 + "\n") * 40,
        ("x" * 50 + " ") * 78,  # words that leave every line half empty
        "a\n" * 1999,
    ],
    ids=["cjk", "emoji", "long-words", "many-lines"],
)
def test_any_accepted_free_text_prints_even_when_it_is_taller_than_a_page(service, clock, findings):
    """Free text the service accepts (up to 4000 characters of findings) prints, split over pages if
    it must: a table row taller than the page would otherwise stop the whole note (LayoutError)."""
    case_id = service.start_case(**setup_kwargs(levels=[("L2", "left")])).case_id
    advance(service, clock, case_id, until="closure")
    service.record_findings(case_id=case_id, findings=findings, complications="none", ebl_ml=0.0)
    pages = pdf_pages(render_pdf(note_content(service.state(case_id))))
    line = findings.split("\n")[0].split(" ")[0]
    assert sum(squash(page).count(squash(line)) for page in pages) >= 2
