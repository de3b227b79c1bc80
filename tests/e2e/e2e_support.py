"""Running the program as a person does: `python -m checklist_app ...` in a new process.

Every run gets its own data folder under tmp_path (CHECKLIST_APP_DATA), so the user's data
directory and database are never touched, and runs Qt offscreen. a run fails the test if
anything printed a Python traceback: the command line answers in one line, never a stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import checklist_app

# The same code the rest of the suite imports (a source checkout or an installed copy).
CODE_ROOT = Path(checklist_app.__file__).resolve().parent.parent
TIMEOUT = 300


@dataclass
class Result:
    """What one run of the program printed and returned."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    def json(self):
        return json.loads(self.out)


def program_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKLIST_APP_")}
    env["CHECKLIST_APP_DATA"] = str(data_dir)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "checklist_app", *map(str, args)]


class Program:
    """Runs the program with a private data folder; `db` is that folder's default database."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.data_dir = home / "data"
        self.db = self.data_dir / "checklist.sqlite3"
        self.cwd = home / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)

    def env(self, **extra: str) -> dict[str, str]:
        return program_env(self.data_dir, **extra)

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            command(*args),
            env=env or self.env(),
            cwd=self.cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in result.err, result.err
        assert "Traceback" not in result.out, result.out
        return result
