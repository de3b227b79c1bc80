"""One value, one place (issue 11 item 4, SPEC §5): every demo case, rendered to PDF and read back with
pypdf, prints each clinical value with one number wherever it appears.

The sample note once printed platelets 291 in one section and 220 in another, and INR 1.2 against
1.0 in another case, because labs were entered twice. Here the labs, weight, drug doses, volumes
per level and side, balloon pressures, the radiation dose, blood loss and pain scores are read from
the operative report and the nursing record of every case the demo simulates, of the two sample
notes, and of the test cases; a value read with two different numbers fails. (The audit trail is
left out on purpose: it keeps a corrected value's original next to its correction.)
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from pathlib import Path

import pytest

from checklist_app.demo import simulate
from checklist_app.note import note_content, render_pdf
from tests.note.note_cases import build_kyphoplasty, build_vertebroplasty, page_documents, pdf_pages

NUMBER = r"(\d+(?:\.\d+)?)"
LEVEL = r"\b([CTLS]\d{1,2})"
WITHIN_ROW = r"(?:(?!\b[CTLS]\d{1,2} (?:Left|Right)\b).)*?"  # never into the next row of a levels table
# Values that print without their level or side: (name, pattern whose groups are the number(s)).
VALUES = [
    ("INR", rf"\bINR:? {NUMBER}"),
    ("platelets", rf"[Pp]latelets:? {NUMBER} ×10⁹/L"),
    ("labs drawn", r"\bdrawn (\d{4}-\d\d-\d\d \d\d:\d\d|\d\d:\d\d)\)"),
    ("weight", rf"(?<![/\w]){NUMBER} kg\b"),
    ("antibiotic dose", rf"\b(Cefazolin|Cefuroxime|Clindamycin|Vancomycin|Levofloxacin) {NUMBER} mg"),
    ("local anaesthetic total", rf"([A-Z][a-z]+(?: with adrenaline)?) {NUMBER} mg in total, {NUMBER} mg/kg"),
    ("fluoroscopy time", rf"[Ff]luoroscopy time:? {NUMBER} min"),
    ("reference air kerma", rf"\(Ka,r\):? {NUMBER} mGy"),
    ("kerma-area product", rf"\(KAP\):? {NUMBER} Gy·cm²"),
    ("runs", r"\b(\d+) runs?\b"),
    ("CTDIvol", rf"CTDIvol:? {NUMBER} mGy"),
    ("dose-length product", rf"\(DLP\):? {NUMBER} mGy·cm"),
    ("estimated blood loss", rf"Estimated blood loss:? {NUMBER} mL"),
    ("baseline pain", r"Coverage evidence Baseline pain (\d+)/10"),
    ("pain after the procedure", r"as before; pain (\d+)/10"),
    ("height loss", r"height loss (\d+)%"),
]
# Values per level (and side): (name, pattern whose first groups say where).
PER_LEVEL = [
    # the levels table, read back cell by cell: level, side, ... pressure, balloon volume, cement volume
    (
        "balloon pressure|balloon volume|cement volume",
        rf"{LEVEL} (Left|Right) [^|]*?{NUMBER} psi {NUMBER} mL {NUMBER} mL",
    ),
    # a vertebroplasty's levels table: level, side, ... cement volume, stop reason
    ("cement volume", rf"{LEVEL} (Left|Right) {WITHIN_ROW}lot \S+ {NUMBER} mL (?:Posterior|Leak|Adequate|High)"),
    # the implants: 'T11 left 2.8 mL, right 2.6 mL'
    ("cement volume", rf"{LEVEL} (left) {NUMBER} mL"),
    ("cement volume", rf"{LEVEL} (?:left \d+\.\d mL, )?(right) {NUMBER} mL"),
    # the nursing record: 'T11: lidocaine 1%, 6 mL (60 mg)'
    ("local anaesthetic mL|local anaesthetic mg", rf"{LEVEL}: [a-z ]+ {NUMBER}%, {NUMBER} mL \({NUMBER} mg\)"),
]
# In the narrative, one paragraph per level ('T12 (bilateral). ...'): values per side within it.
PARAGRAPH = re.compile(rf"{LEVEL} \((?:bipedicular|bilateral|unipedicular|unilateral|abandoned)[^)]*\)\. ")
IN_PARAGRAPH = [
    ("balloon pressure|balloon volume", rf"to {NUMBER} psi and {NUMBER} mL on the (left|right)"),
    ("local anaesthetic mL", rf"^{NUMBER} mL of [a-z ]+ {NUMBER}% was infiltrated"),
]


def read_values(text: str) -> dict[str, set[str]]:
    """Every value the patterns find, by name (and level, side): the set of numbers it was printed with."""
    found: dict[str, set[str]] = defaultdict(set)
    text = " ".join(text.split())
    for name, pattern in VALUES:
        for match in re.finditer(pattern, text):
            groups = match.groups()
            if name == "local anaesthetic total":  # drug, mg, mg/kg
                found[f"{name} {groups[0]} mg"].add(groups[1])
                found[f"{name} {groups[0]} mg/kg"].add(groups[2])
            else:  # (what,) value
                found[" ".join([name, *groups[:-1]])].add(groups[-1])
    for names, pattern in PER_LEVEL:
        for match in re.finditer(pattern, text):
            level, *rest = match.groups()
            side = rest.pop(0).lower() if rest and rest[0] in ("Left", "Right", "left", "right") else ""
            labels = names.split("|")
            for label, number in zip(labels, rest[-len(labels) :], strict=True):
                found[f"{label} {level} {side}".strip()].add(number)
    pieces = PARAGRAPH.split(text)
    for level, paragraph in zip(pieces[1::2], pieces[2::2], strict=True):
        paragraph = paragraph.split("Completion.")[0]
        for pressure, volume, side in re.findall(IN_PARAGRAPH[0][1], paragraph):
            found[f"balloon pressure {level} {side}"].add(pressure)
            found[f"balloon volume {level} {side}"].add(volume)
        for volume, _strength in re.findall(IN_PARAGRAPH[1][1], paragraph):
            found[f"local anaesthetic mL {level}"].add(volume)
        for clause in paragraph.split("was injected under lateral fluoroscopy:")[1:]:
            for volume, side in re.findall(rf"{NUMBER} mL on the (left|right)", clause.split(". ")[0]):
                found[f"cement volume {level} {side}"].add(volume)
    return found


def twice(found: dict[str, set[str]]) -> dict[str, list[str]]:
    return {name: sorted(values) for name, values in found.items() if len(values) > 1}


def test_the_reader_finds_a_value_printed_with_two_numbers():
    """The check itself: the sample note's old fault (platelets 291 here, 220 there) is caught."""
    found = read_values("Laboratory values INR 1.2; platelets 291 ×10⁹/L\nplatelets: 220 ×10⁹/L INR 1.0")
    assert twice(found) == {"INR": ["1.0", "1.2"], "platelets": ["220", "291"]}
    table = "T12 Left Transpedicular 11 G 15 mm 220 psi 3.0 mL 3.5 mL No leak T12 left 3.0 mL, right 3.0 mL"
    assert twice(read_values(table)) == {"cement volume T12 left": ["3.0", "3.5"]}
    prose = "T12 (bipedicular). 8 mL of lidocaine 1% was infiltrated. The balloons were inflated to 200 psi and"
    prose += " 3.1 mL on the left. Cement was injected under lateral fluoroscopy: 3.4 mL on the left. T12: lidocaine"
    prose += " 1%, 6 mL (60 mg) T12 Left Transpedicular 11 G 15 mm 220 psi 3.1 mL 3.4 mL No leak"
    assert twice(read_values(prose)) == {
        "local anaesthetic mL T12": ["6", "8"],
        "balloon pressure T12 left": ["200", "220"],
    }


def check(state) -> dict[str, set[str]]:
    content = note_content(state)
    pages = pdf_pages(render_pdf(content))
    owners = [d.key for d in page_documents(pages, content)]
    if len(state.setup.levels) <= 3:  # SPEC §7: the operative report of a 3-level case takes 1-2 pages
        assert 1 <= owners.count("report") <= 2, f"{state.case_id}: the report takes {owners.count('report')} pages"
    text = "\n".join(page for page, owner in zip(pages, owners, strict=True) if owner != "audit")
    found = read_values(text)
    assert twice(found) == {}, f"{state.case_id}: a value printed with two different numbers"
    return found


@pytest.mark.parametrize("seed", [5, 11, 29])
def test_every_demo_case_prints_each_value_with_one_number_and_its_report_in_two_pages(service, clock, seed):
    for result in simulate(service, clock, cases=10, seed=seed):
        found = check(service.state(result.case_id))
        state = service.state(result.case_id)
        labs = state.facts.labs()
        assert found["INR"] == {f"{labs['inr'].value:.1f}"}, "the labs are read back: the patterns work"
        assert found["weight"] == {f"{state.setup.patient.weight_kg:g}"}
        injections = state.facts.injections
        assert {f"cement volume {i.level} {i.side}" for i in injections} <= set(found), "every volume read back"


def test_the_test_cases_print_each_value_with_one_number(service, clock):
    for case_id in (build_kyphoplasty(service, clock), build_vertebroplasty(service, clock)):
        check(service.state(case_id))


def test_the_sample_notes_print_each_value_with_one_number(service, clock):
    path = Path(__file__).resolve().parents[2] / "scripts" / "sample_note.py"
    spec = importlib.util.spec_from_file_location("sample_note", path)
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    for build in sample.SAMPLES.values():
        found = check(service.state(build(service, clock)))
        assert "platelets" in found and "local anaesthetic total Lidocaine mg" in found
