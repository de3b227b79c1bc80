"""Bad command-line arguments: argparse usage (exit 2) or one clear line (exit 1), never a traceback.

In-process through `checklist_app.cli.main([...])` for the many generated argument lists, and as
real processes for what only a process shows (exit codes, undecodable bytes, output encodings).
Every path the generated arguments can name lies inside a sandbox folder, the working directory
is that folder, and the default database is redirected there too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.paths import DATA_ENV, DB_ENV
from checklist_app.service import ChecklistService

from .harness import Outcome, assert_one_line_error, child_env, cli_in_process, run_cli
from .ledger import LEDGER
from .strategies import any_char, texts

COMMANDS = ["cases", "show", "verify", "backup", "note", "demo"]  # gui and selftest open the window


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """good.db (two demo cases), bad.db (not a database), a folder, and the default db redirected."""
    folder = tmp_path_factory.mktemp("cli-sandbox")
    assert run_cli(folder, "demo", "--cases", "2", "--seed", "3", "--db", str(folder / "good.db")).code == 0
    (folder / "bad.db").write_bytes(b"not a database\n" * 50)
    (folder / "a-folder").mkdir()
    (folder / "out").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv(DATA_ENV, str(folder / "data"))
        patch.setenv(DB_ENV, str(folder / "data" / "default.db"))
        yield folder


file_names = st.text(
    any_char.filter(lambda c: c not in "/\x00" and (not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff")),
    min_size=1,
    max_size=12,
).filter(lambda name: name not in (".", ".."))
db_paths = st.integers(0, 3).flatmap(
    lambda pick: (
        st.one_of(st.sampled_from(["bad.db", "a-folder", "missing/none.db", "", ".", "out/demo.db"]), file_names)
        if pick == 3
        else st.just("good.db")
    )
)
out_paths = st.one_of(
    st.sampled_from(["out/x.pdf", "out", "good.db", "missing/x", ""]), file_names.map("out/{}".format)
)
OWN_OPTIONS = {
    "cases": ["--json"],
    "show": ["CASE", "--json"],
    "verify": [],
    "backup": ["-o", "--output"],
    "note": ["CASE", "-o"],
    "demo": ["--cases", "--procedure", "--seed"],
}
CASE_IDS = ["20990101-001", "2026", "*", "%", "' OR 1=1 --"]


def small_count(text: str) -> bool:
    """Keep --cases values that would not make the demo run for minutes."""
    try:
        return int(text) <= 2
    except ValueError:
        return True


argument_texts = st.one_of(texts, st.sampled_from(["-1", "0", "1", "2", "1e3", "--", "-", "—db"])).filter(
    lambda t: "\x00" not in t and all(not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff" for c in t)
)  # an argument list never holds NUL, and only the surrogates that stand for undecodable bytes


def mostly(valid: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Three times in four a valid value (and shrinking towards it), else a bad one."""
    return st.integers(0, 3).flatmap(lambda pick: bad if pick == 3 else valid)


def option_value(draw: st.DrawFn, option: str, cases: list[str]) -> list[str]:
    if option == "CASE":
        return [draw(mostly(st.sampled_from(cases), st.one_of(st.sampled_from(CASE_IDS), argument_texts)))]
    if option in ("-o", "--output"):
        return [option, draw(out_paths)]
    if option == "--cases":
        return [option, draw(mostly(st.sampled_from(["1", "2", " 2 ", "+1"]), argument_texts.filter(small_count)))]
    if option == "--procedure":
        choices = st.sampled_from(["mixed", "kyphoplasty", "vertebroplasty"])
        return [option, draw(mostly(choices, argument_texts))]
    if option == "--seed":
        return [option, draw(mostly(st.integers(-5, 10**30).map(str), argument_texts))]
    return [option]


@st.composite
def argv(draw: st.DrawFn, cases: list[str]) -> list[str]:
    """Mostly a real command with its own options (some values bad); now and then junk anywhere."""
    not_window = argument_texts.filter(lambda t: t not in ("gui", "selftest"))
    command = draw(mostly(st.sampled_from(COMMANDS), not_window))
    out = [command]
    for option in OWN_OPTIONS.get(command, []):
        if draw(st.integers(0, 4)):  # four times in five
            out += option_value(draw, option, cases)
    if draw(st.integers(0, 4)):
        out += ["--db", draw(db_paths)]
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        junk = draw(st.sampled_from(["--json", "--version", "-h", "--db", "-x", "pos", "--cases"]))
        out += [draw(argument_texts)] if junk == "pos" else option_value(draw, junk, cases)
    if command == "demo":
        out = ["out/demo.db" if a == "good.db" else a for a in out]  # the demo writes: keep it off good.db
        if "--db" not in out:
            out += ["--db", "out/demo.db"]
        if "--cases" not in out:
            out += ["--cases", "1"]
    return out


def assert_clear(outcome: Outcome) -> None:
    """0, argparse's usage error (2) or one line naming the problem (1); never a traceback."""
    assert "Traceback" not in outcome.err + outcome.out
    if outcome.code == 0:
        return
    if outcome.code == 2:
        assert re.search(r"^usage: ", outcome.err, re.MULTILINE) and "error: " in outcome.err, outcome
        return
    assert_one_line_error(outcome)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_argument_list_gets_usage_or_one_clear_line(
    sandbox: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    args = data.draw(argv(case_ids(sandbox / "good.db")), label="argv")
    outcome = cli_in_process(capsys, *args)
    LEDGER.add("inputs.cli")
    LEDGER.add(f"inputs.cli_exit_{outcome.code}")
    try:
        assert_clear(outcome)
    except AssertionError as error:
        if not LEDGER.survived(f"cli {args[0]!r}: {str(error).split(',')[0][:40]}", error):
            raise
    assert cli_in_process(capsys, "verify", "--db", "good.db").code == 0, "a command damaged good.db"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--bogus"], 2, "unrecognized arguments"),
        (["demo", "--cases", "0"], 2, "must be between 1 and 1000000"),
        (["demo", "--cases", "many"], 2, "is not a whole number"),
        (["demo", "--procedure", "spinal fusion"], 2, "invalid choice"),
        (["show"], 2, "the following arguments are required: CASE"),
        (["backup"], 2, "the following arguments are required: -o/--output"),
        (["show", "20990101-999", "--db", "good.db"], 1, "no case '20990101-999'"),
        (["show", "\u202e\ufffe\U0010ffff", "--db", "good.db"], 1, "no case"),
        (["verify", "--db", "a-folder"], 1, "not a checklist database"),
        (["verify", "--db", "missing/none.db"], 1, "no database at"),
        (["backup", "-o", "good.db", "--db", "good.db"], 1, "live database"),
        (["backup", "-o", "missing/x.db", "--db", "good.db"], 1, "does not exist"),
        (["verify", "--db", "line one\nline two.db"], 1, "no database at"),
        (["show", "x\ny", "--db", "good.db"], 1, "no case"),
        (["backup", "-o", "out/new\nline.db", "--db", "missing\nfolder/x.db"], 1, "no database at"),
    ],
)
def test_named_bad_arguments_get_the_expected_answer(
    sandbox: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, fragment: str
) -> None:
    # The property tests share this sandbox and `demo --db missing/...` creates that folder.
    shutil.rmtree(sandbox / "missing", ignore_errors=True)
    outcome = cli_in_process(capsys, *args)
    LEDGER.add("inputs.cli")
    assert outcome.code == code, outcome
    assert fragment in outcome.err, outcome
    assert_clear(outcome)


def test_usage_errors_exit_2_from_the_real_program(sandbox: Path) -> None:
    for args in (["--bogus"], ["demo", "--cases", "-5"], ["frobnicate"]):
        outcome = run_cli(sandbox, *args)
        LEDGER.add("inputs.cli_process")
        assert outcome.code == 2 and "usage: " in outcome.err and "Traceback" not in outcome.err, outcome


def test_undecodable_bytes_in_a_path_work_end_to_end(sandbox: Path) -> None:
    """A file name that is not UTF-8 (possible on Linux) is a name like any other."""
    folder = os.fsencode(sandbox / "out")
    db, copy = folder + b"/ca\xffse.db", folder + b"/co\xfepy.db"
    env = child_env(sandbox)
    for args in (
        [b"demo", b"--cases", b"1", b"--db", db],
        [b"verify", b"--db", db],
        [b"cases", b"--db", db],
        [b"backup", b"-o", copy, b"--db", db],
        [b"verify", b"--db", copy],
    ):
        done = subprocess.run([sys.executable, "-m", "checklist_app", *args], capture_output=True, env=env, check=False)
        LEDGER.add("inputs.cli_process")
        assert done.returncode == 0 and not done.stderr, (args, done)


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
def test_case_list_survives_an_output_that_cannot_show_every_script(sandbox: Path, encoding: str) -> None:
    """`cases > list.txt` on a workstation whose output encoding lacks Vietnamese, Greek or Japanese."""
    db = sandbox / "out" / "scripts.db"
    if not db.exists():
        assert run_cli(sandbox, "demo", "--cases", "10", "--seed", "1", "--db", str(db)).code == 0
    env = child_env(sandbox, PYTHONIOENCODING=encoding)
    for args in (["cases"], ["show", good_case_of(db, sandbox)]):
        done = subprocess.run(
            [sys.executable, "-m", "checklist_app", *args, "--db", str(db)],
            capture_output=True,
            env=env,
            check=False,
        )
        LEDGER.add("inputs.cli_process")
        assert done.returncode == 0, (args, done.stderr.decode(encoding, "replace"))
        assert done.stdout.count(b"\n") >= 10 if args == ["cases"] else done.stdout


def case_ids(db: Path) -> list[str]:
    service = ChecklistService.open(db, readonly=True)
    try:
        return [row.id for row in service.list_cases()]
    finally:
        service.close()


def good_case_of(db: Path, sandbox: Path) -> str:
    """The case of the demo's Vietnamese name (index 3), whose note and report need Unicode."""
    listing = run_cli(sandbox, "cases", "--json", "--db", str(db)).out
    return next(c["id"] for c in json.loads(listing) if c["mrn"] == "DEMO000003")
