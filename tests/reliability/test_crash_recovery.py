"""Kill the writing process at random moments: every acknowledged tick survives and the case resumes.

Each trial starts tests/reliability/drivers/service_driver.py (realistic cases through the real
ChecklistService, one `ACK` line after each call returns), reads a random number of ACK lines
(the test's only clock: no sleeping), sends SIGKILL, then checks the file as the next start of
the program would find it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import SERVICE_DRIVER, run_kill_trial
from .ledger import LEDGER

pytestmark = pytest.mark.slow

MAX_ACKS = 160  # about four and a half demo cases: kills land in set-up, steps, signing and case starts
SUBPROCESS_VERIFY_EVERY = 5  # every fifth trial also runs `checklist-app verify` as its own process


def test_killed_writer_keeps_every_acknowledged_tick_and_resumes_the_case(
    kill_trial: int, seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every other trial checkpoints the WAL every 8 pages, so that some kills land inside a checkpoint.
    checkpoints = ["--autocheckpoint", "8"] if kill_trial % 2 else []
    if checkpoints:
        LEDGER.add("crash.trials_with_frequent_checkpoints")
    run_kill_trial(
        SERVICE_DRIVER,
        seed + kill_trial,
        tmp_path,
        capsys,
        max_acks=MAX_ACKS,
        prefix="crash",
        subprocess_verify=kill_trial % SUBPROCESS_VERIFY_EVERY == 0,
        driver_args=checkpoints,
    )
