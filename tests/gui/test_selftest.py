"""The deployment self-test, run as IT would: a separate process on the offscreen platform."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(db_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CHECKLIST_APP_DATA": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the window reads its theme from QSettings
        "PYTHONPATH": str(ROOT),
    }
    code = "import sys; from pathlib import Path; from checklist_app.ui.selftest import run_selftest; "
    code += f"sys.exit(run_selftest(Path({str(db_path)!r})))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_selftest_passes_and_reports_the_start_up_time_last(tmp_path):
    db = tmp_path / "room" / "checklist.sqlite3"
    result = run(db, tmp_path)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[-1].startswith("ready in ") and lines[-1].endswith(" ms")
    assert 0 < int(lines[-1].split()[2]) < 60_000
    checks = {line.split()[1].rstrip(":"): line.split()[0] for line in lines[:-1]}
    assert {"qt", "database", "templates", "catalogue", "main", "fonts", "sound", "printers"} <= set(checks)
    assert all(status in ("PASS", "WARN") for status in checks.values())
    assert "journal_mode wal, synchronous 2, foreign_keys 1" in result.stdout
    assert list(db.parent.iterdir()) == []  # the throwaway database is gone; no real one was made


def test_selftest_leaves_an_existing_database_untouched(tmp_path):
    from checklist_app.service import ChecklistService
    from checklist_app.store import open_store
    from tests.conftest import setup_kwargs

    db = tmp_path / "room" / "checklist.sqlite3"
    service = ChecklistService(open_store(db))
    service.start_case(**setup_kwargs())
    service.close()
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    result = run(db, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "real database exists" in result.stdout
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before


def test_selftest_fails_when_the_database_folder_cannot_be_created(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    result = run(blocker / "checklist.sqlite3", tmp_path)
    assert result.returncode == 1
    assert "FAIL  database:" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("ready in ")
