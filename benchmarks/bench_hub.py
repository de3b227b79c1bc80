"""The department hub at scale: pushes, and the department's views over 100,000 cases.

Run from the repository root (with the test extra installed, for pgserver):
    python benchmarks/bench_hub.py [--cases 100000] [--cache /tmp/checklist-bench-hub]

A PostgreSQL 16 from pgserver (default settings: fsync on) holds a hub with four rooms. It is filled
through the real push function with `--cases` cases spread over two years (a set-up event, three
steps, the nurse's and the operator's signatures: six events each), pushed by two threads whose
sessions turn synchronous_commit off (loading only; every timed push below commits as a room's
does). The filled data folder is cached and reused by later runs; delete it to rebuild.

Then timed, in-process through the real client: median and slowest of `--runs` calls (5 for the
whole lists and the room check, 10 for heads) after a warm-up call:
- pushing a new 46-event case (one batch) and pushing it again (all skipped);
- heads() of one room (a quarter of the cases);
- cases(): the newest 100, one room's newest 100, one day, one room's month, all cases;
- case_events() of a 46-event case (rebuilt and re-verified);
- department_verify() of one room against its heads, all in step;
- verify_hub() over every stored event (once).
The query plans of the list queries are printed, to show which index each uses.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from psycopg.conninfo import make_conninfo  # noqa: E402

from checklist_app.domain.events import GENESIS_HASH, Event  # noqa: E402
from checklist_app.sync.hub import Hub  # noqa: E402
from checklist_app.sync.hub_admin import HubAdmin  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver

ROOMS = ("OR1", "OR2", "OR3", "OR4")
PASSWORD = "bench-room-password"
DATABASE = "hub"
START = datetime(2025, 1, 1, 7, 30, tzinfo=UTC)
NAMES = ("Alba Example", "Bruno Muster", "Chiara Rossi", "Dmitri Ivanov", "Eun-ji Park", "Fatima Haddad")


def case_events(case_id: str, day: int, slot: int, steps: int = 3) -> list[Event]:
    """A small signed case: set-up, `steps` steps, the nurse's and the operator's signatures."""
    when = START + timedelta(days=day, minutes=50 * slot)
    setup = {
        "patient": {"name": NAMES[(day + slot) % len(NAMES)], "mrn": f"MRN{day:04d}{slot:02d}"},
        "procedure": ("kyphoplasty", "vertebroplasty")[slot % 2],
        "levels": [{"level": "L1", "sides": ["left", "right"]}],
    }
    kinds = [("case_started", None, {"setup": setup})]
    kinds += [("step_done", f"step_{n}", {"n": n}) for n in range(steps)]
    kinds += [("signature", None, {"role": "nurse"}), ("signature", None, {"role": "operator"})]
    events, prev = [], GENESIS_HASH
    for seq, (kind, step, values) in enumerate(kinds, start=1):
        at = when + timedelta(minutes=seq)
        events.append(Event(case_id, seq, kind, at, at, "Nurse Bench", step=step, values=values).chained(prev))
        prev = events[-1].hash
    return events


def start_server(cache: Path) -> pgserver.PostgresServer:
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    return pgserver.get_server(cache / "pg", cleanup_mode="stop")


def url(server: pgserver.PostgresServer, user: str, password: str = "", **extra: str) -> str:
    socket_dir = str(server.get_postmaster_info().socket_dir)
    return make_conninfo(host=socket_dir, dbname=DATABASE, user=user, password=password, **extra)


def fill(server: pgserver.PostgresServer, cases: int, marker: Path) -> None:
    """Create the hub and push `cases` cases through push_events (two loader threads)."""
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    admin_url = url(server, "postgres")
    with HubAdmin(admin_url) as admin:
        admin.init(timezone="UTC")
        for room in ROOMS:
            if room not in admin.rooms():
                admin.create_room(room, PASSWORD)
    per_day = 16  # four rooms, four cases each a day
    plan = [(ROOMS[i % 4], i // per_day, (i % per_day) // 4) for i in range(cases)]
    started = time.perf_counter()
    done = [0]

    def load(part: list[tuple[str, int, int]]) -> None:
        hubs = {
            room: Hub(url(server, f"{DATABASE}_room_{room.lower()}", PASSWORD, options="-c synchronous_commit=off"))
            for room in ROOMS
        }
        for room, day, slot in part:
            case_id = f"{room}-{START.date() + timedelta(days=day):%Y%m%d}-{slot + 1:03d}"
            hubs[room].push(room, case_id, case_events(case_id, day, slot))
            done[0] += 1
            if done[0] % 10000 == 0:
                print(f"  {done[0]:>7}/{cases} cases pushed ({done[0] / (time.perf_counter() - started):.0f}/s)")
        for hub in hubs.values():
            hub.close()

    threads = [threading.Thread(target=load, args=(plan[n::2],)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(server.get_uri(database=DATABASE), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    marker.write_text(f"{cases}\n")
    print(f"  filled in {time.perf_counter() - started:.0f} s")


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """(median ms, slowest ms, last result) of `runs` calls after one warm-up call."""
    result = fn()
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], result


def verdict(slowest_ms: float, limit_ms: float) -> tuple[str, str]:
    target = f"< {limit_ms / 1000:g} s" if limit_ms >= 1000 else f"< {limit_ms:g} ms"
    return target, "pass" if slowest_ms < limit_ms else "**missed**"


def plan_of(server: pgserver.PostgresServer, query: str, params: list) -> str:
    with psycopg.connect(server.get_uri(database=DATABASE), autocommit=True) as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {query}", params).fetchall()
    return " / ".join(row[0].strip() for row in rows[:4])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/checklist-bench-hub"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    folder = args.cache / f"cases-{args.cases}"
    marker = folder / "filled"
    if folder.exists() and not marker.exists():
        shutil.rmtree(folder)  # a fill that did not finish
    server = start_server(folder)
    if not marker.exists():
        print(f"filling a hub with {args.cases} cases (cached in {folder})")
        fill(server, args.cases, marker)
    with HubAdmin(url(server, "postgres")) as admin:
        admin.init()  # a cached hub made by an older program: upgrade it to this one's schema

    room = ROOMS[0]
    hub = Hub(url(server, f"{DATABASE}_room_{room.lower()}", PASSWORD))
    rows: list[tuple[str, str, str]] = []

    def row(measure: str, figure: str, target: str = "", result: str = "") -> None:
        rows.append((measure, figure, f"{target} | {result}" if target else " | "))

    counter = iter(range(10**6))
    stamp = int(time.time())

    def push_new() -> object:
        case_id = f"{room}-bench-{stamp}-{next(counter)}"
        return hub.push(room, case_id, case_events(case_id, 0, 0, steps=43))

    p50, p99, _ = timed(push_new, args.runs)
    row(
        "push a new 46-event case (1 call, 1 transaction)", f"{p50:.1f} / {p99:.1f} ms ({46 / p50 * 1000:.0f} events/s)"
    )
    again = case_events(f"{room}-again-{stamp}", 0, 0, steps=43)
    hub.push(room, again[0].case_id, again)
    p50, p99, _ = timed(lambda: hub.push(room, again[0].case_id, again), args.runs)
    row("push the same 46 events again (all skipped)", f"{p50:.1f} / {p99:.1f} ms")

    p50, p99, heads = timed(lambda: hub.heads(room), 10)
    row(
        f"heads() of one room ({len(heads):,} cases)",
        f"{p50:.0f} / {p99:.0f} ms",
        "< 1 s",
        "pass" if p99 < 1000 else "**missed**",
    )
    total = len(hub.cases())
    some_day = START.date() + timedelta(days=300)
    views = [
        ("cases(limit=100): the department's newest 100", lambda: hub.cases(limit=100)),
        (f"cases(room='{room}', limit=100)", lambda: hub.cases(room=room, limit=100)),
        ("cases(date_from=d, date_to=d): one day", lambda: hub.cases(date_from=some_day, date_to=some_day)),
        (
            f"cases(room='{room}', one month)",
            lambda: hub.cases(room=room, date_from=some_day, date_to=some_day + timedelta(days=30)),
        ),
    ]
    for name, view in views:
        p50, p99, found = timed(view, args.runs)
        row(f"{name} ({len(found)} rows)", f"{p50:.1f} / {p99:.1f} ms", "< 50 ms", "pass" if p99 < 50 else "**missed**")
    p50, p99, found = timed(lambda: hub.cases(), 5)
    row(
        f"cases(): every case ({len(found):,} rows)",
        f"{p50:.0f} / {p99:.0f} ms",
        "< 2 s",
        "pass" if p99 < 2000 else "**missed**",
    )
    p50, p99, events = timed(lambda: hub.case_events(again[0].case_id), args.runs)
    row(f"case_events() of a {len(events)}-event case, re-verified", f"{p50:.1f} / {p99:.1f} ms")
    local = dict(heads)
    p50, p99, findings = timed(lambda: hub.department_verify(room, local, lambda *_: None), 5)
    in_step = sum(f.kind == "in_step" for f in findings)
    row(
        f"department_verify() of one room ({in_step:,} cases in step)",
        f"{p50:.0f} / {p99:.0f} ms",
        "< 2 s",
        "pass" if p99 < 2000 else "**missed**",
    )
    begin = time.perf_counter()
    problems = hub.verify_hub()
    row(
        f"verify_hub(): every event re-hashed and re-linked ({len(problems)} problems)",
        f"{time.perf_counter() - begin:.1f} s",
    )
    hub.close()

    with psycopg.connect(server.get_uri(database=DATABASE), autocommit=True) as conn:
        stored = conn.execute("SELECT count(*) FROM checklist_hub.events").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; load average {os.getloadavg()[0]:.1f}; {datetime.now():%Y-%m-%d %H:%M}"
    )
    print(f"Hub: {total:,} cases, {stored:,} events, {size}; PostgreSQL 16 (pgserver), default settings\n")
    print("| measure | median / slowest | target | result |\n|---|---|---|---|")
    for measure, figure, rest in rows:
        print(f"| {measure} | {figure} | {rest} |")
    print("\nQuery plans:")
    columns = "SELECT case_id FROM checklist_hub.cases WHERE head_seq > 0"
    order = "ORDER BY service_date DESC, case_id DESC LIMIT 100"
    for name, query, params in (
        ("newest 100", f"{columns} {order}", []),
        ("one room", f"{columns} AND room = %s {order}", [room]),
        ("one day", f"{columns} AND service_date >= %s AND service_date <= %s {order}", [some_day, some_day]),
    ):
        print(f"- {name}: {plan_of(server, query, params)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
