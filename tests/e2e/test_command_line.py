"""Every subcommand through a real process: output, exit codes (0 ok, 1 problem, 2 usage), errors."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from e2e_support import TIMEOUT, command

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.code == EXIT_PROBLEM, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    assert result.err.startswith("checklist-app: error: ")
    for fragment in fragments:
        assert fragment in result.err


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- demo ---------------------------------------------------------------------------------------
def test_demo_prints_one_line_per_simulated_case(program):
    result = program("demo", "--cases", "3", "--seed", "1", "--db", program.db)
    assert result.code == EXIT_OK and result.err == ""
    assert len(result.lines) == 3
    for line in result.lines:
        case_id, procedure, *_ = line.split()
        assert procedure in ("kyphoplasty", "vertebroplasty") and "events" in line
    assert len({line.split()[0] for line in result.lines}) == 3


def test_demo_announces_each_case_as_soon_as_it_is_committed(program):
    # A block-buffered stdout would hold back ~150 lines before the first one reached the pipe.
    proc = subprocess.Popen(
        command("demo", "--cases", "1000", "--seed", "2", "--db", program.db),
        env=program.env(),
        cwd=program.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = proc.stdout.readline()
    finally:
        proc.kill()
        proc.communicate(timeout=TIMEOUT)
    assert first.strip(), "the first case was not printed before the process ended"
    result = program("show", first.split()[0], "--json")
    assert result.code == EXIT_OK and result.json()["status"] == "signed"
    assert len(program("cases", "--json").json()) < 100
    assert program("verify").code == EXIT_OK  # killed mid-case: what was committed is intact


def test_demo_procedure_choice_is_honoured(program):
    result = program("demo", "--cases", "2", "--procedure", "vertebroplasty", "--db", program.db)
    assert result.code == EXIT_OK
    assert all(line.split()[1] == "vertebroplasty" for line in result.lines)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--cases", "0"],
        ["demo", "--cases", "many"],
        ["demo", "--procedure", "x"],
        ["frobnicate"],
        ["show"],
        ["backup"],
        ["cases", "--no-such-option"],
    ],
)
def test_bad_usage_exits_2_without_touching_the_database(program, args):
    result = program(*args)
    assert result.code == EXIT_USAGE
    assert "usage:" in result.err and result.out == ""
    assert not program.db.exists()


# -- cases --------------------------------------------------------------------------------------
def test_cases_lists_every_case_one_per_line(demo):
    program, ids = demo
    result = program("cases")
    assert result.code == EXIT_OK
    assert sorted(line.split()[0] for line in result.lines) == sorted(ids)


def test_cases_json_is_an_array_of_objects_with_ids(demo):
    program, ids = demo
    cases = program("cases", "--json").json()
    assert isinstance(cases, list) and all(isinstance(c, dict) for c in cases)
    assert sorted(c["id"] for c in cases) == sorted(ids)
    assert {"patient_name", "procedure", "status", "levels"} <= set(cases[0])


def test_cases_without_a_database_says_so_and_creates_nothing(program):
    assert program("cases").out.strip() == "No cases yet."
    assert program("cases", "--json").json() == []
    assert not program.db.exists()


# -- show ---------------------------------------------------------------------------------------
def test_show_prints_the_patient_steps_and_timeline(demo):
    program, ids = demo
    result = program("show", ids[0])
    assert result.code == EXIT_OK
    assert f"Case {ids[0]}" in result.out and "Steps:" in result.out and "Timeline" in result.out


def test_show_json_has_setup_steps_and_events(demo):
    program, ids = demo
    case = program("show", ids[1], "--json").json()
    assert case["id"] == ids[1]
    assert case["setup"]["patient_name"]
    assert case["steps"] and all("status" in s for s in case["steps"])
    assert [e["seq"] for e in case["events"]] == list(range(1, len(case["events"]) + 1))


def test_show_unknown_case_is_one_line_on_stderr(demo):
    program, _ = demo
    result = program("show", "20990101-999")
    assert_one_line_error(result, "20990101-999")
    assert result.out == ""


@pytest.mark.parametrize("args", [["show", "X"], ["verify"], ["backup", "-o", "copy.sqlite3"]])
def test_commands_that_read_refuse_a_missing_database_and_create_none(program, args):
    missing = program.home / "nowhere" / "missing.sqlite3"
    result = program("--db", missing, *args)
    assert_one_line_error(result, str(missing))
    assert not missing.exists() and not missing.parent.exists()


def test_an_error_naming_a_path_with_a_newline_stays_one_line(program):
    result = program("--db", program.home / "two\nlines.sqlite3", "show", "X")
    assert_one_line_error(result, "two\\nlines.sqlite3")


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_names_in_any_script_survive_a_narrow_output_encoding(demo, encoding):
    program, ids = demo
    for args in (["cases"], ["show", ids[0]]):
        done = subprocess.run(
            command(*args),
            env=program.env(PYTHONIOENCODING=encoding),
            cwd=program.cwd,
            capture_output=True,
            timeout=TIMEOUT,
        )
        assert (done.returncode, done.stderr) == (EXIT_OK, b""), done.stderr.decode(encoding, "replace")
        assert done.stdout.decode(encoding).count("\n") >= 3


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(program):
    impostor = program.home / "notes.txt"
    impostor.write_text("not a database\n")
    result = program("--db", impostor, "verify")
    assert_one_line_error(result, "not a checklist database")
    assert impostor.read_text() == "not a database\n"


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        ("site.toml", "[settings]\ninr_max = 99\n", "inr_max"),
        ("products.toml", '[[cement]]\nid = "site_cement"\n', "site_cement"),
    ],
)
def test_a_broken_site_file_is_named_in_one_line(program, name, text, named):
    program.data_dir.mkdir(mode=0o700)
    (program.data_dir / name).write_text(text, encoding="utf-8")
    result = program("demo", "--cases", "1", "--db", program.db)
    assert_one_line_error(result, name, named)
    assert "unexpected" not in result.err


# -- verify -------------------------------------------------------------------------------------
def test_verify_an_intact_database_exits_0(demo):
    program, _ = demo
    result = program("verify")
    assert result.code == EXIT_OK and result.out.startswith("OK") and "3 case(s)" in result.out


def test_verify_finds_an_edited_event_and_names_its_case(demo):
    program, ids = demo
    victim = ids[1]
    with sqlite3.connect(program.db) as conn:
        changed = conn.execute(
            "UPDATE events SET values_json = ? WHERE case_id = ? AND seq = 5", ('{"edited": true}', victim)
        ).rowcount
    conn.close()
    assert changed == 1
    result = program("verify")
    assert result.code == EXIT_PROBLEM
    assert victim in result.out and "event 5" in result.out
    assert all(other not in result.out for other in ids if other != victim)
    assert len(result.err_lines) == 1


# -- backup -------------------------------------------------------------------------------------
def test_backup_writes_a_private_copy_that_verifies(demo):
    program, ids = demo
    copy = program.home / "backups" / "copy.sqlite3"
    copy.parent.mkdir()
    result = program("backup", "-o", copy)
    assert result.code == EXIT_OK and str(copy) in result.out
    assert mode(copy) == 0o600
    assert program("--db", copy, "verify").code == EXIT_OK
    assert sorted(c["id"] for c in program("--db", copy, "cases", "--json").json()) == sorted(ids)


def test_backup_is_safe_while_the_program_has_the_database_open(demo):
    from checklist_app.store import open_store

    program, ids = demo
    copy = program.home / "while-open.sqlite3"
    with open_store(program.db):  # holds the writer lock, as the room window does
        result = program("backup", "-o", copy)
    assert result.code == EXIT_OK
    assert program("--db", copy, "verify").code == EXIT_OK


def test_backup_into_a_missing_folder_is_one_line(demo):
    program, _ = demo
    target = program.home / "no-such-folder" / "copy.sqlite3"
    assert_one_line_error(program("backup", "-o", target), "does not exist")
    assert not target.parent.exists()


def test_backup_onto_the_live_database_is_refused(demo):
    program, _ = demo
    assert_one_line_error(program("backup", "-o", program.db), "live database")
    assert program("verify").code == EXIT_OK


# -- where the database is ----------------------------------------------------------------------
@pytest.mark.parametrize("before", [True, False], ids=["db-before-command", "db-after-command"])
def test_db_option_works_before_or_after_the_command(program, before):
    db = program.home / "elsewhere.sqlite3"
    demo_args = ["--db", db, "demo", "--cases", "1"] if before else ["demo", "--cases", "1", "--db", db]
    assert program(*demo_args).code == EXIT_OK
    assert db.exists() and not program.db.exists()
    listing = program("--db", db, "cases", "--json") if before else program("cases", "--json", "--db", db)
    assert len(listing.json()) == 1


def test_the_checklist_app_db_variable_chooses_the_database(program):
    db = program.home / "from-env.sqlite3"
    env = program.env(CHECKLIST_APP_DB=str(db))
    # The demo never writes into the default database (here: the variable's) unless it is named with --db.
    assert program("demo", "--cases", "1", "--db", db, env=env).code == EXIT_OK
    assert db.exists() and not program.db.exists()
    assert len(program("cases", "--json", env=env).json()) == 1
    assert program("cases", "--json").json() == []  # without the variable: the data folder's database


def test_database_files_are_owner_only_in_an_owner_only_folder(program):
    assert program("demo", "--cases", "1", "--db", program.db).code == EXIT_OK
    assert mode(program.data_dir) == 0o700
    files = [p for p in program.data_dir.iterdir() if p.name.startswith(program.db.name)]
    assert program.db in files
    for path in files:
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


# -- pipes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["cases"], ["cases", "--json"], ["show", "FIRST"], ["verify"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(demo, args):
    program, ids = demo
    args = [ids[0] if a == "FIRST" else a for a in args]
    proc = subprocess.Popen(
        command(*args),
        env=program.env(),
        cwd=program.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    proc.stdout.close()  # like `| head -0`: closed before the program has written anything
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=TIMEOUT) == EXIT_OK
    assert err == ""


# -- note and selftest ----------------------------------------------------------------------------
def test_note_writes_a_pdf(demo):
    program, ids = demo
    pdf = program.home / "note.pdf"
    result = program("note", ids[0], "-o", pdf)
    assert result.code == EXIT_OK, result.err
    assert pdf.read_bytes().startswith(b"%PDF")


def test_note_of_an_unknown_case_is_one_line(demo):
    program, _ = demo
    pdf = program.home / "note.pdf"
    assert_one_line_error(program("note", "20990101-999", "-o", pdf), "20990101-999")
    assert not pdf.exists()


def test_note_into_a_missing_folder_is_one_line(demo):
    program, ids = demo
    assert_one_line_error(program("note", ids[0], "-o", program.home / "nope" / "note.pdf"))


def test_selftest_passes_and_reports_the_start_up_time_last(program):
    db = program.home / "selftest.sqlite3"
    result = program("--db", db, "selftest")
    assert result.code == EXIT_OK, result.out + result.err
    lines = result.out.strip().splitlines()
    assert lines[-1].startswith("ready in ") and lines[-1].endswith(" ms")
    assert any("database" in line.lower() for line in lines)
    assert not db.exists(), "the self-test must not create or change the real database"


@pytest.mark.skipif(sys.platform != "linux", reason="the display check is for Linux (X11 and Wayland)")
def test_the_window_without_a_display_ends_with_one_clear_line(program):
    env = {k: v for k, v in program.env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = program(env=env)
    assert result.code == 1
    assert result.err_lines == [result.err.strip()] and "no display" in result.err
    assert not program.db.exists()  # nothing was created for a window that could not open
