"""A room window lasts the whole case: three clinical hours in the real window, alive, flat and complete.

The driver (soak_driver.py) runs in its own process, so its memory is the window's alone and an
abort (such as PySide6 6.12.0's none_dealloc) shows as a dead process rather than a dead test run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checklist_app.domain import events as ev
from checklist_app.store import open_store
from tests.reliability.harness import child_env

DRIVER = Path(__file__).with_name("soak_driver.py")
HOURS, STEP_SECONDS = 3, 5


@pytest.fixture(scope="module")
def soak(tmp_path_factory) -> tuple[dict, Path]:
    home = tmp_path_factory.mktemp("soak")
    db, report = home / "soak.sqlite3", home / "soak.json"
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(db), str(report), "--hours", str(HOURS), "--step", str(STEP_SECONDS)],
        capture_output=True,
        text=True,
        env=child_env(home),
        timeout=600,
    )
    assert done.returncode == 0, f"the window died or stuck (exit {done.returncode}): {done.stdout}{done.stderr}"
    return json.loads(report.read_text(encoding="utf-8")), db


def sample_at(report: dict, minute: float) -> dict:
    return next(s for s in report["samples"] if s["minute"] >= minute)


def test_a_three_hour_kyphoplasty_runs_to_its_signature_in_the_real_window(soak):
    report, _db = soak
    assert report["outcome"] == {"code": 0, "message": ""}
    assert report["minutes"] == HOURS * 60
    assert report["turns"] == HOURS * 3600 // STEP_SECONDS  # every few seconds: tick, timers, alarms, repaint
    assert report["signed"]


def test_memory_at_the_end_is_within_a_fifth_of_the_memory_at_thirty_minutes(soak):
    report, _db = soak
    at_30 = sample_at(report, 30)["rss_kib"]
    peak = report["samples"][-1]["hwm_kib"]  # the highest resident size of the whole run
    later = [s["rss_kib"] for s in report["samples"] if s["minute"] >= 30]
    assert peak <= 1.2 * at_30, f"peak {peak} KiB against {at_30} KiB at 30 min"
    assert max(later) <= 1.2 * at_30


def test_widgets_and_python_objects_do_not_pile_up(soak):
    report, _db = soak
    at_30, end = sample_at(report, 30), report["samples"][-1]
    assert end["widgets"] <= at_30["widgets"] * 1.1, (at_30["widgets"], end["widgets"])
    assert end["objects"] <= at_30["objects"] * 1.05, (at_30["objects"], end["objects"])


def test_references_to_none_never_fall(soak):
    """The PySide6 6.12.0 defect: falling references to None end in a none_dealloc abort."""
    report, _db = soak
    counts = [s["none_refs"] for s in report["samples"]]
    assert min(counts) >= counts[0] - 100, counts


def test_every_tick_the_window_showed_as_saved_is_stored(soak):
    report, db = soak
    with open_store(db, readonly=True) as store:
        assert store.verify() == []
        stored = {e.seq: e for e in store.events(report["case_id"])}
    assert len(report["ledger"]) >= 60
    for tick in report["ledger"]:
        event = stored.get(tick["seq"])
        assert event is not None, tick
        assert event.kind == ev.STEP_DONE
        assert (event.step, event.level, event.side) == (tick["step"], tick["level"], tick["side"])
    kinds = [e.kind for e in stored.values()]
    assert kinds.count(ev.SIGNATURE) == 2 and ev.STAFF_CHANGE in kinds
