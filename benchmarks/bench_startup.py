"""Start-up of the room window (offscreen) against a reference window, and peak memory.

The reference window is the least any window of this kind costs (text, the shipped fonts, the
room's style sheet, a table); the room window's start screen and its resumption of a case in
progress are measured against it, the 10,000-case database against the empty one, and peak memory
against a bare QMainWindow.

Each measurement is a new process: the parent starts it and stops the clock when the child
prints READY (the window shown and its first events processed). The child also reports its
peak resident memory at that point. Run from the repository root:

    python benchmarks/bench_startup.py [--runs 15] [--big /tmp/checklist-bench/cases-10000.sqlite3]

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

# Peak resident memory of this process image. VmHWM is reset by exec; getrusage's ru_maxrss is
# not (Linux keeps it across exec), so a child started by a large parent would report the parent's
# size. ru_maxrss only where /proc is missing.
PEAK = """
def peak_kb():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

BARE = (
    PEAK
    + """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1280, 800)
window.show()
app.processEvents()
print("READY", peak_kb(), flush=True)
"""
)

ROOM = (
    PEAK
    + """
import sys
from pathlib import Path
import checklist_app.cli  # the program's entry module, as `checklist-app` loads it
from checklist_app.app import open_room
app, service, window = open_room(Path(sys.argv[1]))  # the real start path: a writer
app.processEvents()
print("READY", peak_kb(), flush=True)
"""
)


# A reference, not a target: the least any window like the room's start screen costs. Python
# modules a real program needs anyway (argparse, sqlite3, json, hashlib, dataclasses), PySide6's
# Qt namespace (its first use builds ~100 Python enums), the shipped fonts and the room's style
# sheet, and a few labels, buttons and a table. It shows how much of the ratio above is the cost
# of a window with text at all, and how much is the program.
FLOOR = (
    PEAK
    + """
import argparse, dataclasses, hashlib, json, sqlite3, sys
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QPushButton, QTableWidget, QVBoxLayout, QWidget
app = QApplication(sys.argv)
for font in sys.argv[2:]:
    QFontDatabase.addApplicationFont(font)
window = QMainWindow()
central = QWidget()
layout = QVBoxLayout(central)
for i in range(6):
    label = QLabel(f"Label {i}: Alice Example, balloon kyphoplasty T12 L1")
    label.setTextFormat(Qt.TextFormat.PlainText)
    layout.addWidget(label)
for i in range(3):
    layout.addWidget(QPushButton(f"Button {i}"))
table = QTableWidget(5, 6)
layout.addWidget(table)
window.setCentralWidget(central)
with open(sys.argv[1], encoding="utf-8") as qss:
    window.setStyleSheet(qss.read())
window.resize(1280, 800)
window.show()
app.processEvents()
print("READY", peak_kb(), flush=True)
"""
)


PYCACHE = Path(tempfile.gettempdir()) / f"bench-startup-pycache-{os.getpid()}"
CONFIG = Path(tempfile.gettempdir()) / f"bench-startup-config-{os.getpid()}"


def measure(code: str, *args: str) -> tuple[float, float]:
    """(milliseconds from process start to READY, peak RSS in MB)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
        "XDG_CONFIG_HOME": str(CONFIG),  # the window's QSettings, kept out of the user's own
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile(mode="w+") as errors:  # Qt's chatter, shown only if the child fails
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                elapsed = (time.perf_counter() - start) * 1000
                rss_mb = int(line.split()[1]) / 1024
                proc.stdout.close()
                proc.wait()
                return elapsed, rss_mb
        code_ = proc.wait()
        errors.seek(0)
        raise RuntimeError(f"child exited with {code_} before READY:\n{errors.read()}")


def interleaved(runs: int, *children: tuple[str, ...]) -> list[tuple[float, float]]:
    """(median ms, median peak MB) per child, measured in rounds (one of each per round) so that a slow
    spell on a shared machine weighs on every figure alike instead of on one of them."""
    samples: list[list[tuple[float, float]]] = [[] for _ in children]
    for _ in range(runs):
        for i, (code, *args) in enumerate(children):
            samples[i].append(measure(code, *args))
    return [(statistics.median(s[0] for s in runs_), statistics.median(s[1] for s in runs_)) for runs_ in samples]


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
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big", type=Path, default=None, help="an existing 10,000-case database")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "checklist-bench")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        empty = scratch / "empty.sqlite3"
        from checklist_app.store import open_store  # noqa: PLC0415 - after sys.path is set

        open_store(empty).close()  # an empty, migrated database
        big = big_database(args.big, args.cache)
        floor = reference_files(scratch)
        resume = case_in_progress(scratch / "resume.sqlite3")
        measure(BARE)  # warm the disk cache for both
        measure(ROOM, str(empty))
        figures = interleaved(
            args.runs, (BARE,), (ROOM, str(empty)), (ROOM, str(big)), (FLOOR, *floor), (ROOM, str(resume))
        )
        (bare_ms, bare_mb), (empty_ms, empty_mb), (big_ms, big_mb), (floor_ms, _mb), (resume_ms, resume_mb) = figures
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(PYCACHE, ignore_errors=True)
        shutil.rmtree(CONFIG, ignore_errors=True)
    print(report(bare_ms, bare_mb, empty_ms, empty_mb, big_ms, big_mb, floor_ms, resume_ms, resume_mb, args.runs))
    return 0


def reference_files(scratch: Path) -> list[str]:
    """The room's light style sheet (colours filled in) and the shipped fonts, for FLOOR."""
    from checklist_app import paths  # noqa: PLC0415 - after sys.path is set
    from checklist_app.ui.theme import LIGHT, stylesheet  # noqa: PLC0415

    qss = scratch / "room.qss"
    qss.write_text(stylesheet(LIGHT), encoding="utf-8")
    return [str(qss), *(str(f) for f in sorted((paths.resources_dir() / "fonts").glob("*.ttf")))]


def case_in_progress(path: Path) -> Path:
    """A database whose one case stopped after its first 12 steps: the window resumes it at start."""
    from checklist_app.demo import TYPICAL_VALUES  # noqa: PLC0415 - after sys.path is set
    from checklist_app.service import ChecklistService  # noqa: PLC0415
    from checklist_app.store import open_store  # noqa: PLC0415

    service = ChecklistService(open_store(path))
    try:
        case_id = service.start_case(
            patient={"name": "Alba Example", "mrn": "BENCH0001", "date_of_birth": "1948-02-03", "sex": "female"},
            procedure="kyphoplasty",
            levels=[{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["left", "right"]}],
            indication="osteoporotic",
            team={"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo"},
        ).case_id
        for warning in service.warnings(case_id, pending_only=True):
            service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
        for _ in range(12):
            current = service.state(case_id).current
            assert current is not None
            step = current.spec.id
            service.record_step(
                case_id=case_id, step=step, level=current.level, side=current.side, values=TYPICAL_VALUES.get(step)
            )
    finally:
        service.close()
    return path


def report(bare_ms, bare_mb, empty_ms, empty_mb, big_ms, big_mb, floor_ms, resume_ms, resume_mb, runs) -> str:
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
        f"| reference window: text, fonts, style sheet, a table | {floor_ms:.0f} ms, "
        f"{floor_ms / bare_ms:.2f}x the bare window |  |  |",
        f"| room window, empty database (start screen) | {empty_ms:.0f} ms, peak {empty_mb:.0f} MB |  |  |",
        row("start screen / reference window, time", empty_ms / floor_ms, 1.25),
        f"| room window resuming a case in progress | {resume_ms:.0f} ms, peak {resume_mb:.0f} MB |  |  |",
        row("resuming a case / reference window, time", resume_ms / floor_ms, 2.0),
        f"| room window, 10,000-case database | {big_ms:.0f} ms, peak {big_mb:.0f} MB |  |  |",
        row("10,000 cases / empty database, time", big_ms / empty_ms, 1.1),
        row("room window / bare window, peak memory", empty_mb / bare_mb, 1.5),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
