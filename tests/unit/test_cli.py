"""The command line in-process: how failures that a real run rarely shows are reported."""

from __future__ import annotations

import pytest

from checklist_app import cli


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHECKLIST_APP_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CHECKLIST_APP_DB", raising=False)
    return tmp_path / "data"


def failing(exc: BaseException):
    def handler(args, db):
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (RuntimeError("boom"), "unexpected error (RuntimeError): boom"),
        (KeyboardInterrupt(), "interrupted"),
        (PermissionError(13, "Permission denied", "x.pdf"), "[Errno 13] Permission denied: 'x.pdf'"),
    ],
)
def test_any_failure_is_one_line_on_stderr_and_exit_1(monkeypatch, capsys, data_dir, exc, message):
    monkeypatch.setitem(cli.COMMANDS, "cases", failing(exc))
    assert cli.main(["cases"]) == cli.EXIT_PROBLEM
    out, err = capsys.readouterr()
    assert out == "" and err == f"checklist-app: error: {message}\n"


def test_a_closed_pipe_is_not_reported(monkeypatch, capsys, data_dir):
    monkeypatch.setitem(cli.COMMANDS, "cases", failing(BrokenPipeError(32, "Broken pipe")))
    assert cli.main(["cases"]) == cli.EXIT_OK
    assert capsys.readouterr().err == ""


def test_the_default_database_is_in_the_data_folder(monkeypatch, data_dir):
    seen = {}

    def record(args, db):
        seen["db"] = db
        return cli.EXIT_OK

    monkeypatch.setitem(cli.COMMANDS, "verify", record)
    assert cli.main(["verify"]) == cli.EXIT_OK
    assert seen["db"] == data_dir / "checklist.sqlite3"


def test_no_command_means_the_room_window(monkeypatch, data_dir):
    monkeypatch.setitem(cli.COMMANDS, "gui", lambda args, db: 7)
    assert cli.main([]) == 7


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["demo", "--help"]])
def test_help_and_version_exit_0(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 0
    assert "checklist-app" in capsys.readouterr().out
