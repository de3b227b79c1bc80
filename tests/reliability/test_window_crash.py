"""Kill the room window mid-case: every tick it showed as done survives, and the window resumes the case.

Each trial starts tests/reliability/drivers/window_driver.py, which builds the real window
offscreen and clicks `primary_action` with QTest on a QTimer loop, printing an ACK once the
checklist shows the step done. After the SIGKILL the file is checked as in the service trials,
and a new window opened on it must come back on the same case at its current step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checklist_app.service import ChecklistService

from .harness import WINDOW_DRIVER, restart_clock, run_kill_trial
from .ledger import LEDGER
from .window_helpers import tap_current_step, window_builder, window_on

pytestmark = pytest.mark.slow

MAX_ACKS = 45  # a one- or two-level case is 30 to 50 acknowledged calls


NEEDS_PREPARATION = {
    "cement_injection",
    "balloon_inflation",
    "hardening_wait",
    "cannula_removal",
}  # batch, kit, countdown


def test_killed_window_keeps_every_tick_it_showed_and_reopens_on_the_case(
    window_kill_trial: int, seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], qtbot
) -> None:
    window_builder()  # skip, naming what is missing, when there is no window to kill

    def window_resumes(service: ChecklistService, case_id: str) -> None:
        restart_clock(service, case_id)
        with window_on(service, qtbot, tmp_path) as window:
            screen = window.case_screen  # type: ignore[attr-defined]
            assert screen.case_id == case_id
            current = service.state(case_id).current
            if current is None:
                return
            assert screen.editor.key == current.key
            LEDGER.add("window_crash.windows_reopened_on_the_case")
            if current.spec.id not in NEEDS_PREPARATION:
                before = len(service.store.events(case_id))
                key, shown_done = tap_current_step(window, service, case_id)
                assert key == current.key and shown_done, "the reopened window could not record the next step"
                assert len(service.store.events(case_id)) > before
                LEDGER.add("window_crash.next_step_tapped_after_reopening")

    run_kill_trial(
        WINDOW_DRIVER,
        seed + 10_000 + window_kill_trial,
        tmp_path,
        capsys,
        max_acks=MAX_ACKS,
        prefix="window_crash",
        subprocess_verify=False,
        before_resume=window_resumes,
    )
