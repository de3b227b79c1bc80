"""A damaged or foreign file given as the database: refused with a way out, and never touched.

Every command, the service and (when it exists) the window's start-up meet the same file: each
must say in one line that it is not a checklist database, that it was not changed, and how to
restore a backup or start a new file; the file's bytes and the folder's contents stay exactly as
they were (no -wal, -shm, .lock, backup or note appears beside it).
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from checklist_app.service import ChecklistService
from checklist_app.store import StoreCorrupt
from tests.conftest import setup_kwargs

from .harness import assert_one_line_error, cli_in_process, run_cli, snapshot
from .ledger import LEDGER

WAY_OUT = ("not a checklist database", "has not been changed", "restore a backup", "new file")


def _saved_database(path: Path) -> bytes:
    service = ChecklistService.open(path)
    try:
        for _ in range(30):
            service.start_case(**setup_kwargs(indication_detail="x" * 1000))
    finally:
        service.close()
    return path.read_bytes()


def _foreign_sqlite(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (name TEXT, data BLOB)")
    conn.execute("INSERT INTO photos VALUES ('a', zeroblob(5000))")
    conn.commit()
    conn.close()
    return path.read_bytes()


CONTENTS: dict[str, Callable[[Path], bytes]] = {
    "garbage_text": lambda _: b"this is not a database, it is a shopping list\n" * 200,
    "random_bytes": lambda _: random.Random(7).randbytes(65536),
    "zeros": lambda _: bytes(65536),
    "png_image": lambda _: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64,
    "pdf_document": lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 100,
    "truncated_half": lambda p: (lambda data: data[: len(data) // 2 + 1000])(_saved_database(p)),
    "truncated_header": lambda p: _saved_database(p)[:60],
    "other_programs_sqlite": _foreign_sqlite,
}


@pytest.fixture(params=sorted(CONTENTS))
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A folder holding only `checklist.sqlite3`, which is not an intact checklist database."""
    folder = tmp_path / "room"
    folder.mkdir()
    source = tmp_path / "source" / "checklist.sqlite3"
    source.parent.mkdir()
    data = CONTENTS[request.param](source)
    path = folder / "checklist.sqlite3"
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return path


COMMANDS = {
    "cases": ("cases",),
    "cases_json": ("cases", "--json"),
    "verify": ("verify",),
    "show": ("show", "20260302-001"),
    "backup": ("backup", "-o", "{folder}/backup.sqlite3"),
    "note": ("note", "20260302-001", "-o", "{folder}/note.pdf"),
    "demo": ("demo", "--cases", "1"),
}


def test_every_command_refuses_a_damaged_file_in_one_line_and_leaves_it_untouched(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = damaged.parent
    before = snapshot(folder)
    for name, args in COMMANDS.items():
        argv = [a.format(folder=folder) for a in args]
        outcome = cli_in_process(capsys, *argv, "--db", str(damaged))
        LEDGER.add("faults.corrupt_start_cli")
        line = assert_one_line_error(outcome, *WAY_OUT)
        assert str(damaged) in line, (name, line)
        assert snapshot(folder) == before, f"{name} changed the folder"


def test_the_real_program_refuses_a_damaged_file_and_leaves_it_untouched(damaged: Path, tmp_path: Path) -> None:
    before = snapshot(damaged.parent)
    for args in (("demo", "--cases", "1"), ("verify",)):
        assert_one_line_error(run_cli(tmp_path, *args, "--db", str(damaged)), *WAY_OUT)
        LEDGER.add("faults.corrupt_start_cli_process")
    assert snapshot(damaged.parent) == before


def test_the_service_refuses_a_damaged_file_for_writing_and_for_reading(damaged: Path) -> None:
    before = snapshot(damaged.parent)
    for readonly in (False, True):
        with pytest.raises(StoreCorrupt) as caught:
            ChecklistService.open(damaged, readonly=readonly)
        LEDGER.add("faults.corrupt_start_service")
        message = str(caught.value).lower()
        assert all(fragment in message for fragment in WAY_OUT), message
    assert snapshot(damaged.parent) == before


def test_window_start_up_refuses_a_damaged_file_with_the_way_out(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(damaged.parent)
    outcome = cli_in_process(capsys, "--db", str(damaged))
    LEDGER.add("faults.corrupt_start_window")
    assert outcome.code == 1, outcome
    text = (outcome.err + outcome.out).lower()
    assert all(fragment in text for fragment in WAY_OUT), text
    assert snapshot(damaged.parent) == before


def test_window_start_up_shows_the_way_out_in_a_window_a_person_can_close(damaged: Path, qapp) -> None:
    """With a screen, the refusal is also shown in a plain window (not a modal dialog) with a Close button."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

    from checklist_app import app

    shown: list[str] = []
    polls = [0]

    def close_it() -> None:
        polls[0] += 1
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "startup_error" and widget.isVisible():
                label = widget.findChild(QLabel, "startup_error_message")
                shown.append(label.text() if label else "")
                button = widget.findChild(QAbstractButton, "startup_error_close")
                (button.click if button else widget.close)()
                return
        if polls[0] < 500:
            QTimer.singleShot(10, close_it)
        else:
            QApplication.quit()  # never found: fail below instead of hanging

    before = snapshot(damaged.parent)
    QTimer.singleShot(0, close_it)
    code = app.run(damaged, show_error_window=True)
    LEDGER.add("faults.corrupt_start_window")
    assert code == 1 and shown, "no startup_error window was shown"
    assert all(fragment in shown[0].lower() for fragment in WAY_OUT), shown[0]
    assert snapshot(damaged.parent) == before
