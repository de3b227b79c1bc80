"""README.md says what works: its Scripting example runs, and its Quick start is two commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import TIMEOUT

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(not README.exists(), reason="runs from a source checkout only")


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def test_quick_start_is_two_one_line_commands():
    blocks = code_blocks(section("Quick start"), "sh")
    assert len(blocks) == 2
    install, test = (block.strip() for block in blocks)
    assert "\n" not in install and "\n" not in test
    assert install.startswith("python3.11 -m venv .venv && ") and install.endswith("checklist-app")
    assert 'pip install -e ".[test]"' in test and test.endswith("python -m pytest")


def test_the_scripting_example_runs_a_complete_case(program):
    (example,) = code_blocks(section("Scripting"), "python")
    done = subprocess.run(
        [sys.executable, "-c", example],
        cwd=program.cwd,
        env=program.env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    case_id, status, *_ = done.stdout.split()
    assert status == "signed"
    db = program.cwd / "scripted.sqlite3"
    assert program("--db", db, "verify").code == 0
    shown = program("--db", db, "show", case_id, "--json").json()
    assert shown["status"] == "signed" and shown["milestones"]["POR"]
    assert all(step["status"] == "done" for step in shown["steps"])
    assert (program.cwd / "scripted-note.pdf").read_bytes().startswith(b"%PDF")
    assert not program.db.exists()  # the example touched nothing but its own file
