"""An idle room window for N real minutes: resident memory and references to None over time.

    python benchmarks/bench_idle_window.py [--minutes 20] [--every 60] [--json out.json]

A case in progress (two levels, cement mixed, the working-time countdown running) is opened in the
real window, offscreen, on the real clock; nobody touches it, exactly as when a nurse walks away.
Every `--every` seconds the script prints the resident size (VmRSS), the peak (VmHWM), the count
of references to None and the number of live widgets. PySide6 6.12.0 loses ~115 references to None
a second here and the process aborts ("Fatal Python error: none_dealloc") after about 17 minutes;
the script then ends with that signal's exit status. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def status_kib() -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def case_in_progress(folder: Path):
    """A service on a new database with a kyphoplasty stopped just before its first injection."""
    from checklist_app.demo import TYPICAL_VALUES
    from checklist_app.domain.clock import FakeClock, SystemClock
    from checklist_app.service import ChecklistService
    from checklist_app.store import open_store

    start = datetime.now(UTC) - timedelta(minutes=40)
    clock = FakeClock(start)
    service = ChecklistService(open_store(folder / "idle.sqlite3"), clock=clock)
    case_id = service.start_case(
        patient={"name": "Idle Bench-Patient", "mrn": "BENCH01", "sex": "other"},
        procedure="kyphoplasty",
        levels=[{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["left", "right"]}],
        indication="osteoporotic",
        team={"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo"},
    ).case_id
    while (current := service.state(case_id).current) is not None and current.spec.id != "cement_injection":
        clock.advance(minutes=0.5)
        values = TYPICAL_VALUES.get(current.spec.id)
        step, level, side = current.key
        service.record_step(case_id=case_id, step=step, level=level, side=side, values=values)
    product = service.catalogue.cements[0]
    service.record_step(
        case_id=case_id, step="cement_mix", values={"product": product.id, "lot": "IDLE01", "expiry": "2031-01-01"}
    )
    service.clock = SystemClock()  # from now on the real clock: the countdowns run as in the room
    return service


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()

    import PySide6
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from checklist_app.ui.window import build_window

    app = QApplication(["bench_idle_window"])
    folder = Path(tempfile.mkdtemp(prefix="checklist-idle-"))
    service = case_in_progress(folder)
    settings = QSettings(str(folder / "ui.ini"), QSettings.Format.IniFormat)

    class Silent:
        def play(self, priority: str) -> None:
            pass

        def stop(self) -> None:
            pass

    window = build_window(service, settings, sound_player=Silent())
    window.show()
    began = time.monotonic()
    samples: list[dict] = []
    print(f"PySide6 {PySide6.__version__}, Python {sys.version.split()[0]}, {args.minutes:g} min idle", flush=True)
    print(f"{'minute':>7} {'RSS MiB':>8} {'peak MiB':>9} {'None refs':>10} {'widgets':>8}", flush=True)

    def take() -> None:
        gc.collect()
        rss, hwm = status_kib()
        row = {
            "minute": round((time.monotonic() - began) / 60, 2),
            "rss_mib": round(rss / 1024, 1),
            "peak_mib": round(hwm / 1024, 1),
            "none_refs": sys.getrefcount(None),
            "widgets": len(QApplication.allWidgets()),
        }
        samples.append(row)
        print(
            f"{row['minute']:>7.1f} {row['rss_mib']:>8.1f} {row['peak_mib']:>9.1f} "
            f"{row['none_refs']:>10} {row['widgets']:>8}",
            flush=True,
        )
        if args.json:
            args.json.write_text(json.dumps({"pyside6": PySide6.__version__, "samples": samples}, indent=1))
        if row["minute"] >= args.minutes:
            app.quit()

    sampler = QTimer()
    sampler.timeout.connect(take)
    sampler.start(int(args.every * 1000))
    take()
    code = app.exec()
    window.close()
    service.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
