"""The department hub wired into rooms: tick latency with the push worker, catch-up, ten rooms, cases --json.

Run from the repository root (with the test extra installed, for pgserver):
    python benchmarks/bench_department.py [--ticks 600] [--catchup 1000] [--rooms 10]
        [--big /tmp/checklist-bench-hub/cases-100000]

- tick p99 with vs without the worker: `record_step` (cement_mix, SystemClock, real store) `--ticks`
  times with no hub, then as many with a PushWorker pushing every tick to a live hub (woken after
  each tick, as the window does), alternating blocks of 50 so machine noise hits both alike;
- catch-up: a room of `--catchup` cases of 60 events each (synthetic, hash-chained, appended through
  the store) that was never pushed: time for one Pusher to bring the hub in step;
- `--rooms` rooms (100 cases of 60 events each) pushing at once from their own worker threads;
- `checklist-app department cases --json` as a whole new process against the cached 100,000-case
  hub of bench_hub.py (`--big`, upgraded to this program's schema first), median of 5.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from psycopg.conninfo import make_conninfo  # noqa: E402

from checklist_app.department import PushWorker, StoreRecord, adopt_room, connect  # noqa: E402
from checklist_app.domain.clock import FakeClock, SystemClock  # noqa: E402
from checklist_app.domain.events import Event  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402
from checklist_app.sync.config import DepartmentConfig  # noqa: E402
from checklist_app.sync.hub_admin import HubAdmin  # noqa: E402
from checklist_app.sync.pusher import Pusher  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver

PASSWORD = "bench-room-password"
START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def hub_database(server, name: str, rooms: list[str]) -> dict[str, DepartmentConfig]:
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    socket = str(server.get_postmaster_info().socket_dir)
    with HubAdmin(make_conninfo(host=socket, dbname=name, user="postgres")) as admin:
        admin.init(timezone="UTC")
        for room in rooms:
            admin.create_room(room, PASSWORD)
    return {
        room: DepartmentConfig(
            make_conninfo(host=socket, dbname=name, user=f"{name}_room_{room}".lower()), room, PASSWORD
        )
        for room in rooms
    }


def fill_room(path: Path, room: str, cases: int, events_per_case: int = 60) -> None:
    """A room's database with `cases` synthetic cases, appended through the store (chained there)."""
    store = open_store(path)
    adopt_room(store, room)
    setup = {"patient": {"name": "Bench Patient", "mrn": "B1"}, "procedure": "vertebroplasty", "levels": []}
    for n in range(cases):
        day = START + timedelta(hours=n)
        case_id = f"{room}-{day:%Y%m%d}-{n:04d}"
        events = [
            Event(case_id, seq, "case_started" if seq == 1 else "step_done", day, day, "Nurse Bench",
                  step=None if seq == 1 else "cement_mix", values={"setup": setup} if seq == 1 else {"n": seq})
            for seq in range(1, events_per_case + 1)
        ]  # fmt: skip
        row = {"id": case_id, "created": day.isoformat(), "service_date": day.date().isoformat(),
               "patient_name": "Bench Patient", "mrn": "B1", "procedure": "vertebroplasty", "levels": "",
               "status": "in_progress"}  # fmt: skip
        store.append(case_id, events, case_row=row)
    store.close()


def tick_ratio(server, folder: Path, ticks: int) -> tuple[float, float, float, float]:
    """(p50, p99 without worker, p50, p99 with the worker pushing to a live hub), in ms."""
    from tests.conftest import advance, setup_kwargs  # the tests' case walker: a case at its cement steps

    config = hub_database(server, "tickhub", ["OR1"])["OR1"]
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    path = folder / "tick.sqlite3"
    service = ChecklistService(open_store(path), clock=clock)
    adopt_room(service.store, "OR1")
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, until="cement_mix")
    service.log.clock = SystemClock()
    cement = service.catalogue.cements[0].id
    without: list[float] = []
    with_worker: list[float] = []
    try:
        for block in range(2 * ticks // 50):
            running = block % 2 == 1
            worker = None
            if running:  # a fresh worker (as at the window's start), in step before timing
                ready = threading.Event()
                worker = PushWorker(path, config, on_status=lambda s, ready=ready: s.state == "in_step" and ready.set())
                worker.start()
                ready.wait(60)
            for _ in range(50):
                started = time.perf_counter()
                service.record_step(
                    case_id=case_id,
                    step="cement_mix",
                    values={"product": cement, "lot": "CM0001", "expiry": "2030-01-01"},
                )
                (with_worker if running else without).append((time.perf_counter() - started) * 1000)
                if worker is not None:
                    worker.wake(case_id)  # what the window does after each stored change
            if worker is not None:
                worker.stop()
    finally:
        service.close()

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if q < 100 else max(values)

    return p(without, 50), p(without, 99), p(with_worker, 50), p(with_worker, 99)


def catch_up(server, folder: Path, cases: int) -> tuple[float, int]:
    config = hub_database(server, "catchup", ["OR1"])["OR1"]
    path = folder / "catchup.sqlite3"
    fill_room(path, "OR1", cases)
    store = open_store(path, readonly=True)
    pusher = Pusher("OR1", StoreRecord(store), lambda: connect(config), SystemClock())
    started = time.perf_counter()
    status = pusher.run_once()
    while status.state == "waiting":
        status = pusher.run_once()
    elapsed = time.perf_counter() - started
    pusher.close()
    store.close()
    assert status.state == "in_step", status
    return elapsed, cases * 60


def ten_rooms(server, folder: Path, rooms: int) -> float:
    names = [f"OR{n}" for n in range(1, rooms + 1)]
    configs = hub_database(server, "tenrooms", names)
    for room in names:
        fill_room(folder / f"{room}.sqlite3", room, 100)
    done = threading.Barrier(rooms + 1)
    workers = []

    def on_status(status, room=None) -> None:
        pass

    finished: dict[str, threading.Event] = {room: threading.Event() for room in names}
    for room in names:

        def report(status, room=room) -> None:
            if status.state == "in_step":
                finished[room].set()

        workers.append(PushWorker(folder / f"{room}.sqlite3", configs[room], on_status=report))
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for room in names:
        assert finished[room].wait(600), room
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.stop()
    del done, on_status
    return elapsed


def cases_json(big: Path) -> tuple[float, int]:
    server = pgserver.get_server(big / "pg", cleanup_mode="stop")
    socket = str(server.get_postmaster_info().socket_dir)
    with HubAdmin(make_conninfo(host=socket, dbname="hub", user="postgres")) as admin:
        admin.init()  # bench_hub.py's hub, upgraded to this program's schema
    env = dict(os.environ, CHECKLIST_APP_DEPARTMENT=make_conninfo(host=socket, dbname="hub", user="hub_room_or1"),
               CHECKLIST_APP_DEPARTMENT_PASSWORD="bench-room-password")  # fmt: skip
    times, size = [], 0
    for _ in range(6):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "checklist_app", "department", "cases", "--json"],
            env=env, capture_output=True, check=True, cwd=REPO,
        ).stdout  # fmt: skip
        times.append(time.perf_counter() - started)
        size = out.count(b'"id"')
    return statistics.median(times[1:]), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=600)
    parser.add_argument("--catchup", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--big", type=Path, default=Path("/tmp/checklist-bench-hub/cases-100000"))
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now():%Y-%m-%d %H:%M}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bench-department-"))
    folder.chmod(0o755)
    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    p50a, p99a, p50b, p99b = tick_ratio(server, folder, args.ticks)
    print(f"tick without worker p50/p99 {p50a:.2f}/{p99a:.2f} ms; with worker {p50b:.2f}/{p99b:.2f} ms; "
          f"p99 ratio {p99b / p99a:.2f}x (target <= 1.1x)")  # fmt: skip
    elapsed, events = catch_up(server, folder, args.catchup)
    print(f"catch-up of {args.catchup} cases ({events} events): {elapsed:.1f} s (target <= 10 s)")
    print(f"{args.rooms} rooms x 100 cases x 60 events at once: {ten_rooms(server, folder, args.rooms):.1f} s")
    if (args.big / "pg").is_dir():
        median, rows = cases_json(args.big)
        print(f"department cases --json, {rows} cases, whole command: median {median * 1000:.0f} ms (target < 1 s)")
    server.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
