"""Figures of a reliability run (trials, kills, faults, inputs tried, records lost), for the report.

Tests add to the one LEDGER; at the end of the session conftest prints the figures and writes
them as JSON to $RELIABILITY_RESULTS_DIR (default: pytest's temporary directory), where
scripts/reliability_report.py picks them up.
"""

from __future__ import annotations

import json
import os
import traceback
from collections import Counter
from pathlib import Path

RESULTS_ENV = "RELIABILITY_RESULTS_DIR"
KEEP_GOING_ENV = "RELIABILITY_KEEP_GOING"
FILE_NAME = "reliability-figures.json"


class Ledger:
    """Named counters plus a few facts (the seed, the number of trials asked for)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.facts: dict[str, object] = {}

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def note(self, name: str, value: object) -> None:
        self.facts[name] = value

    def survived(self, where: str, error: BaseException) -> bool:
        """In keep-going mode, count an unexpected error by its signature and carry on (True).

        Off by default: then the property tests fail on the first such error, as they should.
        With RELIABILITY_KEEP_GOING=1 a run lists every distinct failure at once (for fixing).
        """
        if os.environ.get(KEEP_GOING_ENV) != "1":
            return False
        frame = traceback.extract_tb(error.__traceback__)
        own = [f for f in frame if "checklist_app" in f.filename] or frame
        place = f"{Path(own[-1].filename).name}:{own[-1].lineno}" if own else "?"
        self.add("inputs.unexpected_errors")
        self.add(f"unexpected.{where}: {type(error).__name__} at {place}")
        return True

    def as_dict(self) -> dict[str, object]:
        return {"counts": dict(sorted(self.counts.items())), "facts": dict(sorted(self.facts.items()))}

    def write(self, default_dir: Path) -> Path:
        folder = Path(os.environ.get(RESULTS_ENV) or default_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        path.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


LEDGER = Ledger()
