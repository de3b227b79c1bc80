"""Whatever the service accepts can be listed, shown and printed: no input is saved that later breaks a view."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.errors import Refusal
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.conftest import START, advance, setup_kwargs

from .harness import cli_in_process
from .ledger import LEDGER
from .strategies import AWKWARD, texts

# Mostly text the service should accept: any plane, combining marks, bidi and format characters.
printable = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs", "Cc"]),
        st.sampled_from([c for c in AWKWARD if c.isprintable() or c in "\u200b\u200d\u202e\u2066\ufeff"]),
    ),
    min_size=1,
    max_size=40,
).filter(str.strip)
names = st.integers(0, 9).flatmap(lambda pick: texts if pick == 9 else printable)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("round-trip")
    clock = FakeClock(START)
    service = ChecklistService(open_store(folder / "checklist.sqlite3"), clock=clock)
    yield folder, service, clock
    service.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    report_multiple_bugs=False,
)
@given(name=names, mrn=names, operator=names, detail=names, findings=names)
def test_any_accepted_text_can_be_listed_shown_and_printed(
    shared, capsys: pytest.CaptureFixture[str], name: str, mrn: str, operator: str, detail: str, findings: str
) -> None:
    folder, service, clock = shared
    LEDGER.add("inputs.service", 2)
    try:
        kwargs = setup_kwargs(levels=[("L2", "left")], indication_detail=detail)
        kwargs["patient"] = {"name": name, "weight_kg": 70.0, "mrn": mrn, "sex": "other"}
        kwargs["team"] = {"operator": operator, "nurse": "Nurse Dana Demo"}
        case_id = service.start_case(**kwargs).case_id
        advance(service, clock, case_id, until="closure")
        service.record_findings(case_id=case_id, findings=findings, complications=findings, ebl_ml=0.0)
    except Refusal:
        return
    LEDGER.add("inputs.accepted_and_rendered")
    db = str(folder / "checklist.sqlite3")
    for args in (("cases",), ("cases", "--json"), ("show", case_id), ("show", case_id, "--json")):
        outcome = cli_in_process(capsys, *args, "--db", db)
        assert outcome.code == 0, (args, outcome)
    try:
        note = importlib.import_module("checklist_app.note")
    except ImportError:
        return
    pdf = note.write_note(service, case_id, folder / "note.pdf")
    assert Path(pdf).read_bytes().startswith(b"%PDF")
