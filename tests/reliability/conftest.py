"""Options and figures of the reliability suite.

More kill trials: ``python -m pytest tests/reliability --trials 500`` or, for any selection of
tests, ``RELIABILITY_TRIALS=500 python -m pytest``. ``RELIABILITY_SEED=N`` replays the kill moments
of an earlier run (the seed is printed with the figures at the end of every run).
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

from .ledger import LEDGER

DEFAULT_TRIALS = 50
TRIALS_ENV = "RELIABILITY_TRIALS"
SEED_ENV = "RELIABILITY_SEED"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reliability")
    group.addoption(
        "--trials",
        type=int,
        default=None,
        help=f"kill trials of the crash harness (default ${TRIALS_ENV} or {DEFAULT_TRIALS})",
    )


def kill_trials(config: pytest.Config) -> int:
    # getoption has no value when this conftest was not loaded at start-up (e.g. plain `pytest`).
    option = config.getoption("--trials", default=None)
    return max(1, int(option or os.environ.get(TRIALS_ENV) or DEFAULT_TRIALS))


def window_trials(config: pytest.Config) -> int:
    """Window processes start slower: a fifth of the service trials, at least ten."""
    return max(10, kill_trials(config) // 5)


def base_seed() -> int:
    if "seed" not in LEDGER.facts:
        LEDGER.note("seed", int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(1, 10**9)))
    return int(LEDGER.facts["seed"])  # type: ignore[call-overload]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, count in (("kill_trial", kill_trials), ("window_kill_trial", window_trials)):
        if name in metafunc.fixturenames:
            n = count(metafunc.config)
            LEDGER.note(f"{name}s_requested", n)
            metafunc.parametrize(name, range(n), ids=[f"trial{i:03d}" for i in range(n)])


@pytest.fixture(scope="session")
def seed() -> int:
    """The run's base seed; trial i uses seed + i, so one failing trial can be replayed alone."""
    return base_seed()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LEDGER.counts:
        return
    base_seed()
    path = LEDGER.write(Path(tempfile.gettempdir()) / "checklist-reliability")
    terminalreporter.section("reliability figures")
    for name, value in LEDGER.as_dict()["facts"].items():  # type: ignore[union-attr]
        terminalreporter.write_line(f"{name}: {value}")
    for name, value in LEDGER.as_dict()["counts"].items():  # type: ignore[union-attr]
        terminalreporter.write_line(f"{name}: {value}")
    terminalreporter.write_line(f"(written to {path})")
