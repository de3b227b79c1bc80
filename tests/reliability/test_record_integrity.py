"""Issue 12, items 4 to 6: the signed lock read from events, phantom case rows, the record reference
on every page of the note and `verify --reference`, and the smaller holes (the demo and the default
database, training cases, names that fake lines, the writer lock through symlinks, loose modes)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.errors import Refusal
from checklist_app.domain.events import Event
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, StoreLocked, open_store
from tests.conftest import advance, setup_kwargs

from .harness import assert_one_line_error, cli_in_process, raw, run_cli
from .ledger import LEDGER


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "room.sqlite3"
    assert run_cli(path.parent, "demo", "--cases", "2", "--seed", "7", "--db", str(path)).code == 0
    return path


@pytest.fixture
def db(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "room.sqlite3"
    shutil.copyfile(pristine, copy)
    os.chmod(copy, 0o600)
    return copy


def first_case(db: Path) -> str:
    with raw(db) as conn:
        return conn.execute("SELECT id FROM cases ORDER BY id").fetchone()[0]


# -- the signed lock comes from the events -------------------------------------------------------------
def test_a_status_edited_back_to_in_progress_does_not_unlock_a_signed_case(db: Path) -> None:
    case_id = first_case(db)
    with raw(db) as conn:
        conn.execute("UPDATE cases SET status = 'in_progress' WHERE id = ?", [case_id])
    with open_store(db) as store:
        last = store.events(case_id)[-1]
        late = Event(
            case_id, last.seq + 1, ev.STEP_DONE, last.clinical_time, last.recorded_time + timedelta(minutes=1), "X"
        )
        with pytest.raises(StoreError, match="only an addendum"):
            store.append(case_id, [late])
        assert store.events(case_id)[-1] == last
    service = ChecklistService(open_store(db, readonly=True))
    try:
        assert any("status" in p.message for p in service.records.verify())
    finally:
        service.close()
    LEDGER.add("security.signed_case_changes_refused")


def test_a_phantom_case_row_is_reported_and_never_resumed(db: Path, capsys) -> None:
    with raw(db) as conn:
        conn.execute(
            "INSERT INTO cases (id, created, service_date, status, event_count, head_hash) "
            "VALUES ('29991231-001', '2999-12-31T08:00:00.000000+00:00', '2999-12-31', 'in_progress', 0, ?)",
            [ev.GENESIS_HASH],
        )
    outcome = cli_in_process(capsys, "verify", "--db", str(db))
    assert outcome.code == 1 and "BROKEN case 29991231-001: " in outcome.out
    assert "a case record with no events" in outcome.out
    service = ChecklistService(open_store(db, readonly=True))
    try:
        assert service.case_in_progress() != "29991231-001"
    finally:
        service.close()


def test_a_bad_event_never_stops_the_walk(db: Path, capsys) -> None:
    """Each bad row is reported, and the rows and cases after it are still checked."""
    case_a = first_case(db)
    with raw(db) as conn:
        conn.execute('UPDATE events SET values_json = \'{"a":1,"a":2}\' WHERE case_id = ? AND seq = 3', [case_a])
        conn.execute("UPDATE events SET values_json = '{\"a\":NaN}' WHERE case_id = ? AND seq = 4", [case_a])
        conn.execute("UPDATE events SET values_json = 'not json' WHERE case_id = ? AND seq = 5", [case_a])
        conn.execute("UPDATE events SET actor = 'Someone' WHERE case_id <> ? AND seq = 2", [case_a])
    out = cli_in_process(capsys, "verify", "--db", str(db)).out
    assert "repeated key ('a')" in out and "not finite (NaN)" in out
    named = set(re.findall(r"^BROKEN case (\S+) event (\d+): ", out, flags=re.MULTILINE))
    assert {(case_a, "3"), (case_a, "4"), (case_a, "5")} <= named
    assert any(case != case_a and seq == "2" for case, seq in named)


# -- the record reference: on every page, checked by verify ----------------------------------------------
def test_every_page_of_the_note_prints_the_record_reference_and_verify_checks_it(db: Path, tmp_path, capsys) -> None:
    from pypdf import PdfReader

    case_id = first_case(db)
    with open_store(db, readonly=True) as store:
        reference = store.record_reference(case_id)
    pdf = tmp_path / "note.pdf"
    assert cli_in_process(capsys, "note", case_id, "-o", str(pdf), "--db", str(db)).code == 0
    pages = PdfReader(pdf).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert reference in page.extract_text(), f"page {number} has no record reference"
    outcome = cli_in_process(capsys, "verify", "--db", str(db), "--reference", reference)
    assert outcome.code == 0 and f"the printed note {reference} matches" in outcome.out
    with raw(db) as conn:  # the tail of the chain cut off, the case record made to match
        conn.execute("DELETE FROM events WHERE case_id = ? AND seq > 10", [case_id])
        last = conn.execute("SELECT hash FROM events WHERE case_id = ? AND seq = 10", [case_id]).fetchone()[0]
        conn.execute("UPDATE cases SET event_count = 10, head_hash = ? WHERE id = ?", [last, case_id])
    outcome = cli_in_process(capsys, "verify", "--db", str(db), "--reference", reference)
    assert outcome.code == 1 and "cut off" in outcome.out


def test_a_malformed_reference_is_one_clear_line(db: Path, capsys) -> None:
    outcome = cli_in_process(capsys, "verify", "--db", str(db), "--reference", "not-a-reference")
    assert_one_line_error(outcome, "not a record reference")


def test_show_prints_the_record_reference(db: Path, capsys) -> None:
    case_id = first_case(db)
    with open_store(db, readonly=True) as store:
        reference = store.record_reference(case_id)
    assert f"Record reference: {reference}" in cli_in_process(capsys, "show", case_id, "--db", str(db)).out


# -- smaller holes -----------------------------------------------------------------------------------------
def test_demo_refuses_the_default_database_unless_db_is_given(tmp_path: Path) -> None:
    default = tmp_path / "app-data" / "checklist.sqlite3"
    outcome = run_cli(tmp_path, "demo", "--cases", "1", env_extra={"CHECKLIST_APP_DB": str(default)})
    assert_one_line_error(outcome, "--db", "default database")
    assert not default.exists()


def test_demo_cases_are_marked_as_training_in_cases_show_and_the_note(db: Path, tmp_path, capsys) -> None:
    from pypdf import PdfReader

    case_id = first_case(db)
    listing = cli_in_process(capsys, "cases", "--db", str(db)).out
    assert all(line.endswith("TRAINING") for line in listing.splitlines()), listing
    listed = json.loads(cli_in_process(capsys, "cases", "--json", "--db", str(db)).out)
    assert listed and all(c["training"] for c in listed)
    assert "TRAINING" in cli_in_process(capsys, "show", case_id, "--db", str(db)).out
    pdf = tmp_path / "note.pdf"
    assert cli_in_process(capsys, "note", case_id, "-o", str(pdf), "--db", str(db)).code == 0
    assert all("TRAINING" in page.extract_text() for page in PdfReader(pdf).pages)


def test_a_real_case_is_not_marked_as_training(service: ChecklistService, capsys, db_path: Path) -> None:
    service.start_case(**setup_kwargs())
    assert "TRAINING" not in cli_in_process(capsys, "cases", "--db", str(db_path)).out


@pytest.mark.parametrize("bad", ["\n", "\u2028", "\u202e", "\u2066"], ids=["newline", "line separator", "RLO", "LRI"])
def test_names_and_mrns_that_could_fake_a_line_or_reverse_are_refused(service: ChecklistService, bad: str) -> None:
    for field, kwargs in (
        ("patient_name", setup_kwargs(patient={**setup_kwargs()["patient"], "name": f"Ann{bad}Fake"})),
        ("mrn", setup_kwargs(patient={**setup_kwargs()["patient"], "mrn": f"MRN{bad}1"})),
    ):
        with pytest.raises(Refusal) as err:
            service.start_case(**kwargs)
        assert err.value.field == field
    with pytest.raises(Refusal):
        service.add_staff(name=f"Nurse{bad}Fake", role="nurse")


def test_a_name_edited_in_the_file_to_hold_a_line_break_cannot_fake_a_line_of_the_case_list(db: Path, capsys) -> None:
    with raw(db) as conn:
        conn.execute("UPDATE cases SET patient_name = 'Ann' || char(10) || '20990101-001  fake line'")
    out = cli_in_process(capsys, "cases", "--db", str(db)).out
    assert not any(line.startswith("20990101-001") for line in out.splitlines())
    assert "\\n20990101-001" in out


def test_two_symlinks_to_one_database_give_one_writer(db: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one.sqlite3", tmp_path / "two.sqlite3"
    first.symlink_to(db)
    second.symlink_to(db)
    with open_store(first):
        with pytest.raises(StoreLocked, match="already open"):
            open_store(second)
        LEDGER.add("faults.second_instance")


def test_two_hard_links_to_one_database_give_one_writer(db: Path, tmp_path: Path) -> None:
    other_folder = tmp_path / "elsewhere"
    other_folder.mkdir()
    link = other_folder / "same.sqlite3"
    os.link(db, link)
    with open_store(db), pytest.raises(StoreLocked, match="already open"):
        open_store(link)
    with open_store(link):  # released with the first: the second name may write now
        pass


def test_loose_modes_are_tightened_on_opening_with_a_one_line_notice(db: Path, capsys) -> None:
    os.chmod(db, 0o644)
    outcome = cli_in_process(capsys, "verify", "--db", str(db))
    assert outcome.code == 0
    notices = [line for line in outcome.err.splitlines() if "notice" in line]
    assert len(notices) == 1 and "0644" in notices[0] and "0600" in notices[0]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert "notice" not in cli_in_process(capsys, "verify", "--db", str(db)).err
    LEDGER.add("security.file_modes")


def test_the_programs_own_data_folder_is_tightened_but_a_chosen_one_is_not(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "app-data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    monkeypatch.setenv("CHECKLIST_APP_DATA", str(data))
    with open_store(data / "checklist.sqlite3") as store:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700 and store.notices
    chosen = tmp_path / "chosen"
    chosen.mkdir(mode=0o755)
    os.chmod(chosen, 0o755)
    with open_store(chosen / "x.sqlite3"):
        assert stat.S_IMODE(chosen.stat().st_mode) == 0o755


def test_a_case_signed_in_the_room_verifies_with_its_staff_chain(service: ChecklistService, clock) -> None:
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id)
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    assert service.records.verify() == []
