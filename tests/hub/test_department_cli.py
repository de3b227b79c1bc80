"""`checklist-app department ...` against the real PostgreSQL: init, push, verify, cases, pull, note."""

from __future__ import annotations

import json
import sqlite3
import stat
from contextlib import closing

import pytest

from checklist_app.cli import main
from checklist_app.domain.pins import hash_pin
from checklist_app.sync.config import ENV_PASSWORD, ENV_ROOM, ENV_URL
from checklist_app.sync.hub_schema import LATEST
from checklist_app.sync.local_directory import directory_path
from tests.hub.department_helpers import complete_case, joined_room, room_config


@pytest.fixture
def as_room(monkeypatch, tmp_path):
    """as_room(env, room): the environment a room's service account has (address, room, password)."""
    monkeypatch.setenv("CHECKLIST_APP_DATA", str(tmp_path / "data"))

    def configure(env, room: str) -> None:
        config = room_config(env, room)
        monkeypatch.setenv(ENV_URL, config.url)
        monkeypatch.setenv(ENV_ROOM, room)
        monkeypatch.setenv(ENV_PASSWORD, config.password)

    return configure


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_then_upgrades_nothing_and_refuses_a_newer_hub(blank, capsys, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "admin-password-for-tests")
    url = blank.admin_url
    code, out, _ = run(capsys, "department", "init", url, "--timezone", "UTC")
    assert code == 0 and out.strip() == f"Hub schema at version {LATEST} (was 0)"
    code, out, _ = run(capsys, "department", "init", url)
    assert code == 0 and "(unchanged)" in out
    with blank.superuser() as conn:
        conn.execute("INSERT INTO checklist_hub.schema_version (version, title) VALUES (%s, 'future')", [LATEST + 1])
    code, _, err = run(capsys, "department", "init", url)
    assert code == 1 and "newer" in err and "Traceback" not in err


def test_push_verify_and_cases_from_the_command_line(env, room_service, as_room, capsys):
    service, clock = joined_room(room_service, "A")
    ids = [complete_case(service, clock) for _ in range(3)]
    db = service.store.path
    service.close()
    as_room(env, "A")
    code, out, _ = run(capsys, "--db", db, "department", "push")
    assert code == 0 and out.startswith("department: up to date")
    code, out, _ = run(capsys, "--db", db, "department", "verify")
    assert code == 0 and out.count("in_step") == 3

    day = "2026-03-02"
    code, out, err = run(capsys, "department", "cases", "--json", "--room", "A", "--from", day, "--to", day)
    assert code == 0 and out, (out, err)
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == sorted(ids, reverse=True)
    assert rows[0]["room"] == "A" and rows[0]["date"] == "2026-03-02" and rows[0]["events"] > 40
    code, out, _ = run(capsys, "department", "cases", "--room", "B")
    assert code == 0 and out.strip() == "No cases on the hub."

    # Someone with the file deletes a pushed case: the file's own verify cannot tell, the hub can.
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DELETE FROM events WHERE case_id = ?", [ids[1]])
        conn.execute("DELETE FROM cases WHERE id = ?", [ids[1]])
    code, out, err = run(capsys, "--db", db, "department", "verify")
    assert code == 1
    assert "PROBLEM deleted_locally" in out and ids[1] in out and "1 problem(s)" in err


def test_another_rooms_case_note_prints_from_the_hub(env, room_service, as_room, capsys, tmp_path):
    service, clock = joined_room(room_service, "B")
    case_id = complete_case(service, clock)
    service.close()
    as_room(env, "B")
    assert run(capsys, "--db", service.store.path, "department", "push")[0] == 0
    as_room(env, "A")
    target = tmp_path / "note.pdf"
    code, out, _ = run(capsys, "department", "note", case_id, "-o", target)
    assert code == 0 and "read-only" in out
    assert target.read_bytes().startswith(b"%PDF-")


def test_pull_keeps_a_verified_offline_copy_of_the_directories(env, room_service, as_room, capsys):
    with env.admin() as admin:
        admin.add_person("p1", "Nurse Dana Demo", "nurse", hash_pin("4821"))
        admin.add_person("p2", "Dr Ada Demo", "operator")
        admin.deactivate("p2")
    service, _clock = joined_room(room_service, "A")
    db = service.store.path
    service.close()
    as_room(env, "A")
    code, out, _ = run(capsys, "--db", db, "department", "pull")
    assert code == 0 and "Pulled 3 staff" in out and "1 active people" in out
    copy = directory_path(db)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "--db", db, "department", "pull")
    assert code == 0 and "Pulled 0 staff" in out
    copy.write_text(copy.read_text().replace("Dana", "Dina"))  # a hand-edited copy no longer verifies...
    code, out, _ = run(capsys, "--db", db, "department", "pull")
    assert code == 0 and "Pulled 3 staff" in out, "...and is replaced by the hub's verified chain"


def test_without_a_hub_the_department_commands_say_how_to_set_one(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CHECKLIST_APP_DATA", str(tmp_path))
    for name in (ENV_URL, ENV_ROOM, ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(capsys, "department", "cases")
    assert code == 1 and "no department hub is configured" in err
