"""`checklist-app note CASE -o FILE.pdf [--document report|nursing|audit]`: the note for people printing
from elsewhere, and its refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from checklist_app.domain.errors import Refusal
from checklist_app.note import render_note, write_note
from tests.note.note_cases import build_vertebroplasty, pdf_pages

REPO = Path(__file__).resolve().parents[2]


def run_note(db: Path, case_id: str, output: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "checklist_app", "note", case_id, "-o", str(output), "--db", str(db)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture
def case(service, clock, db_path):
    """A signed vertebroplasty on disk: (database path, case id)."""
    return db_path, build_vertebroplasty(service, clock)


def test_note_command_writes_an_owner_only_pdf(case, tmp_path, service):
    db, case_id = case
    output = tmp_path / "out" / "note.pdf"
    output.parent.mkdir()
    done = run_note(db, case_id, output)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Note written to {output}" and done.stderr == ""
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert output.read_bytes() == render_note(service.state(case_id)), "same bytes in another process"
    assert any("Vertebroplasty" in page for page in pdf_pages(output.read_bytes()))
    assert sorted(p.name for p in output.parent.iterdir()) == ["note.pdf"], "no temporary file left behind"


def test_write_note_replaces_an_existing_file_atomically(case, service, tmp_path):
    _, case_id = case
    folder = tmp_path / "notes"
    folder.mkdir()
    output = folder / "note.pdf"
    output.write_bytes(b"%PDF-1.4 an older print of the note")
    output.chmod(0o644)
    assert write_note(service, case_id, output) == output
    assert output.read_bytes().startswith(b"%PDF") and stat.S_IMODE(output.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["note.pdf"]


def test_note_command_refuses_a_missing_folder_in_one_line(case, tmp_path):
    db, case_id = case
    done = run_note(db, case_id, tmp_path / "missing" / "note.pdf")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [f"checklist-app: error: output: the folder {tmp_path / 'missing'} does not exist"]
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("a-file.txt/note.pdf", "does not exist"), (".", "is a folder"), ("a-file.txt", "is not a PDF")],
)
def test_write_note_refuses_a_path_it_cannot_write(case, service, tmp_path, name, message):
    _, case_id = case
    (tmp_path / "a-file.txt").write_text("not a folder")
    with pytest.raises(Refusal, match=message) as refused:
        write_note(service, case_id, tmp_path / name)
    assert refused.value.field == "output"
    assert (tmp_path / "a-file.txt").read_text() == "not a folder", "nothing overwritten"


def test_note_command_never_writes_over_the_database(case, tmp_path):
    db, case_id = case
    before = db.read_bytes()
    done = run_note(db, case_id, db)
    assert done.returncode == 1 and "is the case database" in done.stderr
    assert db.read_bytes() == before


def test_note_command_refuses_an_unknown_case(case, tmp_path):
    db, _ = case
    output = tmp_path / "note.pdf"
    done = run_note(db, "20990101-999", output)
    assert done.returncode == 1 and done.stderr.strip() == "checklist-app: error: case: no case '20990101-999'"
    assert not output.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_write_note_refuses_a_read_only_folder(case, service, tmp_path):
    _, case_id = case
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    with pytest.raises(Refusal, match="permission denied"):
        write_note(service, case_id, folder / "note.pdf")


def test_write_note_turns_an_os_failure_into_a_refusal(case, service):
    _, case_id = case
    with pytest.raises(Refusal) as refused:
        write_note(service, case_id, Path("/proc/note.pdf"))
    assert refused.value.field == "output"


def test_note_command_writes_one_document_when_asked(case, tmp_path, service):
    db, case_id = case
    output = tmp_path / "report.pdf"
    command = [sys.executable, "-m", "checklist_app", "note", case_id, "--out", str(output), "--db", str(db)]
    done = subprocess.run([*command, "--document", "report"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == render_note(service.state(case_id), ("report",))
    pages = pdf_pages(output.read_bytes())
    assert all("Operative report" in page for page in pages) and not any("Audit trail" in page for page in pages)
    both = [*command, "--document", "audit", "--document", "nursing"]
    assert subprocess.run(both, cwd=REPO, capture_output=True, timeout=120).returncode == 0
    assert output.read_bytes() == render_note(service.state(case_id), ("nursing", "audit"))


def test_note_command_refuses_an_unknown_document_as_a_usage_error(case, tmp_path):
    db, case_id = case
    output = tmp_path / "note.pdf"
    command = [sys.executable, "-m", "checklist_app", "note", case_id, "-o", str(output), "--db", str(db)]
    done = subprocess.run([*command, "--document", "summary"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "invalid choice: 'summary'" in done.stderr
    assert not output.exists()


def test_note_command_help_names_the_three_documents():
    command = [sys.executable, "-m", "checklist_app", "note", "--help"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "--document {report,nursing,audit}" in text
    for words in ("operative report", "nursing record", "audit trail", "default: all three in one PDF"):
        assert words in text, words
