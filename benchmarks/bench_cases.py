"""How long `checklist-app cases --json` takes on 10 cases and on 10,000 cases.

Run from the repository root:  python benchmarks/bench_cases.py [--cases 10000] [--cache /tmp/checklist-bench]

The databases are filled with the demo simulator (complete, signed cases through the real
service layer), in-process. 10,000 cases take several minutes on 2 cores, so each database is
cached (keyed by case count) and reused by later runs; delete the cache folder to rebuild.
Timed two ways: the whole command as a person runs it (a new process: interpreter start,
imports, query, JSON) and `cmd_cases` in-process (query and JSON only). Median of the runs.

Target (docs/benchmarks.md, "Store and command line"): `cases --json` over 10,000 cases < 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from checklist_app import cli  # noqa: E402
from checklist_app.demo import simulate  # noqa: E402
from checklist_app.domain.clock import FakeClock  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402

RUNS = 5


def build(path: Path, cases: int) -> Path:
    """The cached database with `cases` demo cases, simulated now if it is not there yet."""
    if path.exists():
        return path
    partial = path.with_name(path.name + ".partial")
    for leftover in partial.parent.glob(partial.name + "*"):
        leftover.unlink()
    clock = FakeClock()
    service = ChecklistService(open_store(partial), clock=clock)
    started = time.perf_counter()
    try:
        for done, _ in enumerate(simulate(service, clock, cases=cases, seed=cases), start=1):
            if done % 500 == 0 or done == cases:
                rate = done / (time.perf_counter() - started)
                print(f"  {done:>6}/{cases} cases simulated ({rate:.0f}/s)", flush=True)
    finally:
        service.close()
    partial.rename(path)  # only a complete database is ever cached
    return path


def time_subprocess(db: Path, env: dict[str, str]) -> list[float]:
    command = [sys.executable, "-m", "checklist_app", "cases", "--json", "--db", str(db)]
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, check=True)
        seconds.append(time.perf_counter() - start)
    assert done.stdout.startswith(b"["), done.stdout[:80]
    return seconds


def time_in_process(db: Path) -> list[float]:
    parser = cli.build_parser()
    seconds = []
    for _ in range(RUNS):
        args = parser.parse_args(["cases", "--json", "--db", str(db)])
        sink = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            code = cli.cmd_cases(args, db)
        seconds.append(time.perf_counter() - start)
        assert code == 0
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases in the large database")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/checklist-bench"), help="where databases are kept")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    os.environ["CHECKLIST_APP_DATA"] = str(args.cache / "data")  # never the user's settings or database
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rows = []
    for count in (10, args.cases):
        db = args.cache / f"cases-{count}.sqlite3"
        print(f"database with {count} cases: {db}", flush=True)
        build(db, count)
        spawned, inside = statistics.median(time_subprocess(db, env)), statistics.median(time_in_process(db))
        rows.append((count, spawned, inside, db.stat().st_size / 1e6))
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} in {sys.prefix}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.platform()}"
    )
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}, median of {RUNS} runs\n")
    print("| measure | figure | target | result |\n|---|---|---|---|")
    for count, spawned, inside, megabytes in rows:
        verdict = ("pass" if spawned < 1 else "FAIL") if count >= 10_000 else ""
        target = "< 1 s" if count >= 10_000 else ""
        figure = f"{spawned * 1000:.0f} ms whole command ({inside * 1000:.0f} ms in-process; {megabytes:.0f} MB)"
        print(f"| `cases --json`, {count:,} cases | {figure} | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
