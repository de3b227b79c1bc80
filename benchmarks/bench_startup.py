"""Start-up of the room window (offscreen) against a bare PySide6 QMainWindow, and peak memory.

Each measurement is a new process: the parent starts it and stops the clock when the child
prints READY (the window shown and its first events processed). The child also reports its
peak resident memory at that point. Run from the repository root:

    python benchmarks/bench_startup.py [--runs 7] [--big /tmp/checklist-bench/cases-10000.sqlite3]

Without --big, a 10,000-case database is made with the demo simulator (several minutes) in a
cache folder and reused.

The children keep compiled bytecode (in a scratch PYTHONPYCACHEPREFIX, so the source tree stays
clean) even when PYTHONDONTWRITEBYTECODE is set: an installed program starts from its .pyc files,
and compiling the program's ~60 modules from source on every run would add ~60 ms that no user
pays. The warm-up runs write the cache.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE = """
import resource, sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1280, 800)
window.show()
app.processEvents()
print("READY", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""

ROOM = """
import resource, sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from checklist_app.app import build_window
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
app = QApplication(sys.argv)
service = ChecklistService(open_store(Path(sys.argv[1])))  # the real start path: a writer
window = build_window(service, QSettings(sys.argv[2], QSettings.Format.IniFormat))
window.resize(1280, 800)
window.show()
app.processEvents()
print("READY", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""


PYCACHE = Path(tempfile.gettempdir()) / f"bench-startup-pycache-{os.getpid()}"


def measure(code: str, *args: str) -> tuple[float, float]:
    """(milliseconds from process start to READY, peak RSS in MB)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            elapsed = (time.perf_counter() - start) * 1000
            rss_mb = int(line.split()[1]) / 1024
            proc.stdout.close()
            proc.wait()
            return elapsed, rss_mb
    raise RuntimeError(f"child exited with {proc.wait()} before READY")


def median_of(runs: int, code: str, *args: str) -> tuple[float, float]:
    samples = [measure(code, *args) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def big_database(path: Path | None, cache: Path) -> Path:
    if path is not None:
        return path
    target = cache / "cases-10000.sqlite3"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print("making a 10,000-case database with the demo (several minutes) ...", file=sys.stderr)
        partial = cache / "cases-10000.partial.sqlite3"
        subprocess.run(
            [sys.executable, "-m", "checklist_app", "demo", "--cases", "10000", "--seed", "1", "--db", str(partial)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        partial.rename(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big", type=Path, default=None, help="an existing 10,000-case database")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "checklist-bench")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        empty = scratch / "empty.sqlite3"
        from checklist_app.store import open_store  # noqa: PLC0415 - after sys.path is set

        open_store(empty).close()  # an empty, migrated database
        big = big_database(args.big, args.cache)
        ini = str(scratch / "settings.ini")
        measure(BARE)  # warm the disk cache for both
        measure(ROOM, str(empty), ini)
        bare_ms, bare_mb = median_of(args.runs, BARE)
        empty_ms, empty_mb = median_of(args.runs, ROOM, str(empty), ini)
        big_ms, big_mb = median_of(args.runs, ROOM, str(big), ini)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(PYCACHE, ignore_errors=True)
    print(report(bare_ms, bare_mb, empty_ms, empty_mb, big_ms, big_mb, args.runs))
    return 0


def report(bare_ms, bare_mb, empty_ms, empty_mb, big_ms, big_mb, runs) -> str:
    def row(measure: str, ratio: float, target: float) -> str:
        return f"| {measure} | {ratio:.2f}x | <= {target}x | {'pass' if ratio <= target else 'FAIL'} |"

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"machine: {machine}, {platform.platform()}",
        f"date: {datetime.now():%Y-%m-%d %H:%M}, load average {os.getloadavg()[0]:.1f}, median of {runs} runs",
        "",
        "| measure | figure | target | result |",
        "|---|---|---|---|",
        f"| bare PySide6 QMainWindow: start to shown | {bare_ms:.0f} ms, peak {bare_mb:.0f} MB |  |  |",
        f"| room window, empty database | {empty_ms:.0f} ms, peak {empty_mb:.0f} MB |  |  |",
        row("room window / bare window, time", empty_ms / bare_ms, 1.5),
        f"| room window, 10,000-case database | {big_ms:.0f} ms, peak {big_mb:.0f} MB |  |  |",
        row("10,000 cases / empty database, time", big_ms / empty_ms, 1.1),
        row("room window / bare window, peak memory", empty_mb / bare_mb, 1.5),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
