"""Record-a-step latency through the service and store, against a raw SQLite INSERT + COMMIT.

Run from the repository root:  python benchmarks/bench_store.py [--steps 1100]

Everything is real: the system clock, the store in a temporary folder on the same disk as the
raw baseline, WAL and synchronous=FULL, one durable transaction per tick. The two loops are
interleaved (one service step, one raw insert) so both see the same disk at the same moment.

Targets (docs/benchmarks.md, "Store and command line"):
  - step p99 at most 5x the raw INSERT + COMMIT p99;
  - p99 of events 1,000-1,100 of one case at most 1.5x the p99 of events 10-110.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402

SETUP = {
    "patient": {"name": "Bench Example", "mrn": "BENCH0001", "date_of_birth": "1950-04-01", "sex": "female"},
    "procedure": "vertebroplasty",
    "levels": [{"level": "L1", "sides": ["left", "right"]}],
    "indication": "osteoporotic",
    "team": {"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo"},
}
WARM_UP = 200
RAW_ROW = (
    "bench",
    "step_done",
    "cement_mix",
    json.dumps({"product": "example_pmma_hv_a", "lot": "CM0001", "expiry": "2030-01-01", "room_temperature": 21.0}),
    "2026-03-02T08:00:00.000000+00:00",
    "2026-03-02T08:00:00.000000+00:00",
    "Nurse Dana Demo",
    "0" * 64,
    "f" * 64,
)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0-100) of the samples, in the samples' unit."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class RawTable:
    """The baseline: one INSERT + COMMIT per event, same PRAGMAs as the store, no application code."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, case_id TEXT, seq INTEGER, kind TEXT, step TEXT,"
            " values_json TEXT, clinical_time TEXT, recorded_time TEXT, actor TEXT, prev_hash TEXT, hash TEXT)"
        )
        self.conn.execute("CREATE UNIQUE INDEX events_by_case_seq ON events (case_id, seq)")
        self.seq = 0

    def insert(self) -> None:
        self.seq += 1
        case_id, kind, step, values, clinical, recorded, actor, prev, digest = RAW_ROW
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO events (case_id, seq, kind, step, values_json, clinical_time, recorded_time, actor,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, self.seq, kind, step, values, clinical, recorded, actor, prev, digest),
        )
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def run(steps: int, cases: int, folder: Path) -> dict:
    os.environ["CHECKLIST_APP_DATA"] = str(folder / "data")  # never the user's settings or database
    service = ChecklistService(open_store(folder / "data" / "bench.sqlite3"))  # real SystemClock
    raw = RawTable(folder / "raw.sqlite3")
    product = service.catalogue.cements[0].id
    expiry = (date.today() + timedelta(days=365)).isoformat()
    values = {"product": product, "lot": "CM0001", "expiry": expiry, "room_temperature": 21.0}
    # Warm up (imports, page cache, SQLite's statement cache) in another case, so that the
    # "event 10" window measures a warm program like the "event 1,000" window does.
    warm_up = service.start_case(**SETUP).case_id
    for _ in range(WARM_UP):
        service.record_step(case_id=warm_up, step="cement_mix", values=values)
        raw.insert()
    results: dict[str, list[float]] = {"step": [], "raw": [], "early": [], "late": []}
    # Several cases one after another, windows pooled: one slow fsync or GC pause then moves a
    # p99 of 100 x cases samples by one rank, not the whole figure.
    for _ in range(cases):
        case_id = service.start_case(**SETUP).case_id
        service.record_step(case_id=case_id, step="patient_in_room")
        for _ in range(steps):
            start = time.perf_counter()
            state = service.record_step(case_id=case_id, step="cement_mix", values=values)
            elapsed = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            raw.insert()
            results["raw"].append((time.perf_counter() - start) * 1000)
            results["step"].append(elapsed)
            seq = len(state.events)
            if 10 <= seq < 110:
                results["early"].append(elapsed)
            elif 1000 <= seq < 1100:
                results["late"].append(elapsed)
    problems = service.store.verify()
    service.close()
    raw.close()
    if problems:
        raise SystemExit(f"the benchmark database does not verify: {problems[0].message}")
    return results


def summary(results: dict) -> list[tuple[str, str, str, str]]:
    step, raw, early, late = results["step"], results["raw"], results["early"], results["late"]
    rows = [
        ("service.record_step p50 / p99", f"{percentile(step, 50):.2f} / {percentile(step, 99):.2f} ms", "", ""),
        ("raw INSERT + COMMIT p50 / p99", f"{percentile(raw, 50):.2f} / {percentile(raw, 99):.2f} ms", "", ""),
    ]
    ratio = percentile(step, 99) / percentile(raw, 99)
    rows.append(("step p99 / raw p99", f"{ratio:.2f}x", "<= 5x", "pass" if ratio <= 5 else "FAIL"))
    if late:
        growth = percentile(late, 99) / percentile(early, 99)
        figure = (
            f"{percentile(early, 99):.2f} ms -> {percentile(late, 99):.2f} ms "
            f"(p50 {percentile(early, 50):.2f} -> {percentile(late, 50):.2f}) = {growth:.2f}x"
        )
        verdict = "pass" if growth <= 1.5 else "FAIL"
        rows.append(("p99 events 10-110 -> 1,000-1,100 of a case", figure, "<= 1.5x", verdict))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1100, help="cement_mix steps to record in one case (>= 1100)")
    parser.add_argument("--cases", type=int, default=5, help="cases of --steps steps each, windows pooled")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the databases (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.dir) as tmp:
        print(f"recording {args.cases} cases of {args.steps} steps in {tmp} ...", flush=True)
        results = run(args.steps, args.cases, Path(tmp))
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} in {sys.prefix}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.platform()}"
    )
    load = os.getloadavg()[0]
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}, load average {load:.1f}, {len(results['step'])} steps\n")
    print("| measure | figure | target | result |\n|---|---|---|---|")
    for row in summary(results):
        print("| " + " | ".join(row) + " |")
    print(f"\nall step latencies: mean {statistics.fmean(results['step']):.2f} ms, max {max(results['step']):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
