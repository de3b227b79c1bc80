"""Shared tools of the reliability tests: child processes, the ACK protocol, the CLI, file snapshots."""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, NamedTuple

import pytest

from checklist_app import cli
from checklist_app.demo import STEP_ACTIONS, CaseSimulator, enrol_demo_staff
from checklist_app.domain.advisories import unacknowledged
from checklist_app.domain.alarms import alarms
from checklist_app.domain.clock import FakeClock
from checklist_app.domain.state import CaseState
from checklist_app.service import ChecklistService
from checklist_app.store import CaseRow, open_store
from tests.conftest import START, STEP_VALUES, setup_kwargs

from .ledger import LEDGER

REPO = Path(__file__).resolve().parents[2]
DRIVERS = Path(__file__).resolve().parent / "drivers"
SERVICE_DRIVER = DRIVERS / "service_driver.py"
WINDOW_DRIVER = DRIVERS / "window_driver.py"
LOCK_HOLDER = DRIVERS / "lock_holder.py"
MAX_EVENTS_PER_CALL = 4  # one call appends at most this many events (overrides + the step)
WATCHDOG_SECONDS = 120  # a child that hangs this long is killed and the test fails (never reached when healthy)


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of a child process: this source tree, offscreen Qt, a private data directory."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "PYTHONDONTWRITEBYTECODE": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "CHECKLIST_APP_DATA": str(home / "app-data"),
        "CHECKLIST_APP_DB": str(home / "app-data" / "never-used.sqlite3"),
    }
    env.update(extra)
    return env


# -- the command line ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a command-line run gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


def run_cli(
    home: Path, *args: str, timeout: float = 120, env_extra: dict[str, str] | None = None, **popen: object
) -> Outcome:
    """`python -m checklist_app ARGS` in a real child process."""
    done = subprocess.run(
        [sys.executable, "-m", "checklist_app", *args],
        capture_output=True,
        text=True,
        env=child_env(home, **(env_extra or {})),
        cwd=home,
        timeout=timeout,
        check=False,
        **popen,  # type: ignore[arg-type]
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def cli_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """`checklist_app.cli.main(ARGS)` in this process, its output encoded as a real process would.

    stdout uses UTF-8 with surrogateescape and stderr UTF-8 with backslashreplace, as Python sets
    them up for a process in a UTF-8 locale; argparse exits become exit codes.
    """
    capsys.readouterr()
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return Outcome(code, out.getvalue().decode("utf-8", "surrogateescape"), err.getvalue().decode("utf-8", "replace"))


def assert_one_line_error(outcome: Outcome, *fragments: str) -> str:
    """Exit 1, one line on stderr starting with 'checklist-app: error:', no traceback; returns it."""
    lines = outcome.err.strip().splitlines()
    assert outcome.code == 1, outcome
    assert len(lines) == 1, f"expected one line on stderr, got {outcome.err!r}"
    line = lines[0]
    assert line.startswith("checklist-app: error: "), line
    assert "Traceback" not in outcome.err and "unexpected error" not in line, line
    for fragment in fragments:
        assert fragment.lower() in line.lower(), f"{fragment!r} not in {line!r}"
    return line


# -- files ----------------------------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in `folder` (recursively) with the hash of its bytes."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as another program (or a tamperer) would use, bypassing the store."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


def integrity(path: Path) -> list[str]:
    with raw(path) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


# -- child processes speaking the ACK protocol ----------------------------------------------------


class Ack(NamedTuple):
    """One acknowledged service call: after it, the case had `seq` events, the last with `hash`."""

    case_id: str
    seq: int
    hash: str
    status: str


def parse_acks(lines: Sequence[str]) -> list[Ack]:
    acks = []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "ACK":
            acks.append(Ack(parts[1], int(parts[2]), parts[3], parts[4] if len(parts) > 4 else ""))
    return acks


@dataclass
class Child:
    """A driver process whose stdout is read line by line: the test's only clock."""

    proc: subprocess.Popen[str]
    stderr_path: Path
    lines: list[str] = field(default_factory=list)
    killed: bool = False

    @classmethod
    def start(cls, args: Sequence[str], home: Path, *, umask: int = -1) -> Child:
        home.mkdir(parents=True, exist_ok=True)
        stderr_path = home / "child-stderr.txt"
        with open(stderr_path, "w", encoding="utf-8") as err:
            proc = subprocess.Popen(
                [sys.executable, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=child_env(home),
                cwd=home,
                umask=umask,
            )
        child = cls(proc, stderr_path)
        watchdog = threading.Timer(WATCHDOG_SECONDS, child._expire)
        watchdog.daemon = True
        watchdog.start()
        return child

    def _expire(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def next_line(self) -> str | None:
        """The next line the child prints, or None once its stdout is closed."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            return None
        self.lines.append(line.rstrip("\n"))
        return self.lines[-1]

    def read_until(self, wanted: str, count: int = 1) -> bool:
        """Read until `count` lines starting with `wanted` were seen; False if the child ended first."""
        seen = sum(1 for line in self.lines if line.startswith(wanted))
        while seen < count:
            line = self.next_line()
            if line is None:
                return False
            seen += line.startswith(wanted)
        return True

    def sigkill(self) -> None:
        """SIGKILL now, then collect whatever it had already printed (those lines count too)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.killed = True
        self.proc.wait(timeout=WATCHDOG_SECONDS)
        self._drain()

    def finish(self, timeout: float = WATCHDOG_SECONDS) -> int:
        """Close its stdin (releases a HOLD), wait for a normal exit and collect its output."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        self._drain()
        return code

    def _drain(self) -> None:
        stream: IO[str] | None = self.proc.stdout
        if stream is not None:
            self.lines += [line.rstrip("\n") for line in stream.read().splitlines()]
            stream.close()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    @property
    def acks(self) -> list[Ack]:
        return parse_acks(self.lines)


# -- a saved case, and another program holding its database ------------------------------------------


def saved_case(db: Path, steps_done: int = 4) -> tuple[str, int]:
    """A database holding one case with a few steps done; returns (case id, events stored)."""
    clock = FakeClock(START)
    service = ChecklistService(open_store(db), clock=clock)
    try:
        case_id = service.start_case(**setup_kwargs()).case_id
        for _ in range(steps_done):
            current = service.state(case_id).current
            assert current is not None
            clock.advance(minutes=1)
            step = current.spec.id
            service.record_step(
                case_id=case_id, step=step, level=current.level, side=current.side, values=STEP_VALUES.get(step)
            )
        return case_id, len(service.store.events(case_id))
    finally:
        service.close()


@contextmanager
def held_by_another_program(db: Path, home: Path) -> Iterator[Child]:
    holder = Child.start([str(LOCK_HOLDER), str(db)], home / "holder")
    try:
        assert holder.read_until("LOCKED"), holder.stderr
        yield holder
    finally:
        if holder.proc.poll() is None:
            holder.finish()


# -- resuming a case after a restart --------------------------------------------------------------


def restart_clock(service: ChecklistService, case_id: str, minutes: float = 1.0) -> FakeClock:
    """A clock a little after the case's last recorded event, as after a quick restart."""
    last = max(e.recorded_time for e in service.store.events(case_id))
    clock = FakeClock(last + timedelta(minutes=minutes))
    service.clock = clock
    return clock


def record_next(service: ChecklistService, clock: FakeClock, case_id: str, rng: random.Random) -> CaseState:
    """Acknowledge what is raised, then record the current step as the demo nurse would."""
    for alarm in alarms(service.state(case_id), clock.now()):
        service.acknowledge_alarm(case_id=case_id, alarm_id=alarm.id)
    for warning in unacknowledged(service.state(case_id)):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    current = service.state(case_id).current
    if current is not None:
        sim = CaseSimulator(service, clock, rng)
        sim.case_id = case_id
        STEP_ACTIONS[current.spec.id](sim, current.level, current.side)
    return service.state(case_id)


def finish_case(service: ChecklistService, clock: FakeClock, case_id: str, rng: random.Random) -> CaseState:
    """Carry a resumed case through every pending step and both signatures."""
    enrol_demo_staff(service)  # signers come from the staff directory; a kill may have come before the enrolment
    for _ in range(1000):
        if service.state(case_id).current is None:
            break
        record_next(service, clock, case_id, rng)
    state = record_next(service, clock, case_id, rng)  # warnings raised by the last step
    assert state.setup is not None
    clock.advance(minutes=2)
    if state.facts.signature("nurse") is None:
        service.sign(case_id=case_id, name=state.current_nurse, role="nurse")
    if state.findings is None:
        service.record_findings(case_id=case_id, complications="none", findings="Resumed after a restart.", ebl_ml=5.0)
    if state.facts.signature("operator") is None:
        service.sign(
            case_id=case_id, name=state.setup.team.operator, role="operator", codes=service.suggested_codes(case_id)
        )
    return service.state(case_id)


# -- after a kill: what the next start of the program finds ---------------------------------------


def restart_on_empty_file(db: Path) -> None:
    """Killed before anything was saved: the next start simply creates the database."""
    service = ChecklistService(open_store(db), clock=FakeClock())
    try:
        assert service.list_cases() == [] and service.case_in_progress() is None
        assert service.store.verify() == []
    finally:
        service.close()


def check_restart(
    db: Path,
    acks: list[Ack],
    rng: random.Random,
    context: str,
    *,
    prefix: str = "crash",
    before_resume: Callable[[ChecklistService, str], None] | None = None,
) -> None:
    """Nothing acknowledged is lost or altered; the newest unsigned case is the one resumed, and it finishes."""
    service = ChecklistService(open_store(db), clock=FakeClock())
    try:
        rows = service.list_cases()
        stored = {row.id: service.store.events(row.id) for row in rows}
        lost = [a for a in acks if a.case_id not in stored or not _matches(stored[a.case_id], a)]
        LEDGER.add(f"{prefix}.records_lost", len(lost))
        assert lost == [], f"acknowledged but lost or altered: {lost[:5]} ({context})"
        last_acked: dict[str, int] = defaultdict(int)
        for ack in acks:
            last_acked[ack.case_id] = max(last_acked[ack.case_id], ack.seq)
        extra = {case: len(events) - last_acked[case] for case, events in stored.items()}
        LEDGER.add(f"{prefix}.events_committed_after_last_ack", sum(extra.values()))
        # Only the call running at the kill may have committed without its ACK being read.
        assert sum(1 for n in extra.values() if n) <= 1 and max(extra.values(), default=0) <= MAX_EVENTS_PER_CALL, (
            extra,
            context,
        )
        newest = rows[0] if rows else None
        expected = newest.id if newest and newest.status not in ("signed", "amended") else None
        assert service.case_in_progress() == expected, context
        if acks and acks[-1].status != "signed":
            assert newest is not None and newest.id == acks[-1].case_id, context
        if expected is not None:
            if before_resume is not None:
                before_resume(service, expected)
                newest = next(row for row in service.list_cases() if row.id == expected)
            _resume(service, expected, newest, rng, context, prefix)  # type: ignore[arg-type]
        assert service.store.verify() == [], context
    finally:
        service.close()


def _matches(events: list, ack: Ack) -> bool:
    return len(events) >= ack.seq and events[ack.seq - 1].seq == ack.seq and events[ack.seq - 1].hash == ack.hash


def _resume(service: ChecklistService, case_id: str, row: CaseRow, rng: random.Random, context: str, prefix: str):
    """The case folds from its events, the next step can be appended, and it can be finished and signed."""
    count, status = row.event_count, row.status
    state = service.state(case_id)
    assert len(state.events) == count and state.facts.status == status, context
    clock = restart_clock(service, case_id)
    if state.current is not None:
        record_next(service, clock, case_id, rng)
        assert len(service.store.events(case_id)) > count, f"the next step was not appended ({context})"
    final = finish_case(service, clock, case_id, rng)
    assert final.facts.status == "signed", context
    LEDGER.add(f"{prefix}.cases_resumed_and_finished")


def kill_moment(rng: random.Random, max_acks: int) -> tuple[str, int]:
    """Where to kill: while opening/creating the database, just after it opened, or after k ACKs."""
    draw = rng.random()
    if draw < 0.06:
        return "OPENING", 1
    if draw < 0.10:
        return "READY", 1
    return "ACK", rng.randint(1, max_acks)


def run_kill_trial(
    driver: Path,
    trial_seed: int,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    max_acks: int,
    prefix: str,
    subprocess_verify: bool,
    before_resume: Callable[[ChecklistService, str], None] | None = None,
    driver_args: Sequence[str] = (),
) -> None:
    """Start `driver`, SIGKILL it at a random moment (measured in its output lines), check the file."""
    rng = random.Random(trial_seed)
    db = home / "data" / "checklist.sqlite3"  # data/ does not exist yet: the program creates it
    child = Child.start([str(driver), str(db), "--seed", str(trial_seed), *driver_args], home)
    marker, count = kill_moment(rng, max_acks)
    reached = child.read_until(marker, count)
    child.sigkill()
    context = f"seed {trial_seed} {list(driver_args)}, killed after {count} {marker} line(s); "
    context += f"output tail {child.lines[-3:]}; "
    context += f"stderr: {child.stderr[-2000:]}"
    assert reached and child.killed, f"the driver ended before it was killed ({context})"
    assert "Traceback" not in child.stderr, context
    LEDGER.add(f"{prefix}.trials")
    LEDGER.add(f"{prefix}.kills")
    LEDGER.add(f"{prefix}.kills_after_{marker.lower()}")
    acks = child.acks
    LEDGER.add(f"{prefix}.acknowledged_calls", len(acks))
    LEDGER.add(f"{prefix}.acknowledged_cases", len({a.case_id for a in acks}))
    if not db.exists() or db.stat().st_size == 0:
        assert acks == [], f"acknowledged ticks but no database file ({context})"
        restart_on_empty_file(db)
        return
    assert integrity(db) == ["ok"], context
    verified = cli_in_process(capsys, "verify", "--db", str(db))
    assert verified.code == 0 and verified.out.startswith("OK:"), (verified, context)
    if subprocess_verify:
        real = run_cli(home, "verify", "--db", str(db))
        assert real.code == 0 and real.out.startswith("OK:"), (real, context)
    check_restart(db, acks, rng, context, prefix=prefix, before_resume=before_resume)
