"""Render a simulated case's note to docs/sample-note.pdf and its first page to docs/sample-note.png.

    python scripts/sample_note.py [--seed 22] [--out docs]

The case is simulated through the real service (checklist_app.demo) in a temporary database with a
fixed seed; the multi-level kyphoplasty with the most to show (biopsy, late entry, correction) is used.
The PDF holds the three documents (operative report, intraoperative nursing record, audit trail);
the page count of each is printed, since the operative report of a 3-level case should fit 2 pages.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checklist_app.demo import simulate  # noqa: E402
from checklist_app.domain.clock import FakeClock  # noqa: E402
from checklist_app.domain.settings import Settings  # noqa: E402
from checklist_app.domain.state import CaseState  # noqa: E402
from checklist_app.note import DOCUMENT_TITLES, DOCUMENTS, render_note  # noqa: E402
from checklist_app.note.tables import biopsy_levels  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402

FACILITY = "Example General Hospital, Interventional Spine Suite"


def score(state: CaseState) -> tuple[int, ...]:
    """How much of the note a case shows: 2 or 3 levels first, then biopsy, late entry, correction."""
    assert state.setup is not None
    levels = len(state.setup.levels)
    late = any(e.late_reason for e in state.events)
    corrected = any(e.kind == "correction" for e in state.events)
    return (2 <= levels <= 3, bool(biopsy_levels(state)), late, corrected, levels)


def best_case(seed: int, cases: int) -> bytes:
    """Simulate `cases` kyphoplasties and render the note of the one that shows the most."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock()
        service = ChecklistService(
            open_store(Path(folder) / "sample.sqlite3"), clock=clock, settings=Settings(facility_name=FACILITY)
        )
        try:
            ids = [r.case_id for r in simulate(service, clock, cases=cases, procedure="kyphoplasty", seed=seed)]
            chosen = max(ids, key=lambda case_id: score(service.state(case_id)))
            state = service.state(chosen)
            print(f"case {chosen}: {state.setup.level_names}", file=sys.stderr)  # type: ignore[union-attr]
            for key in DOCUMENTS:
                pages = render_note(state, (key,)).count(b"/Type /Page\n")
                print(f"  {DOCUMENT_TITLES[key]}: {pages} page{'s' if pages != 1 else ''}", file=sys.stderr)
            return render_note(state)
        finally:
            service.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pdf = args.out / "sample-note.pdf"
    pdf.write_bytes(best_case(args.seed, args.cases))
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) not found: PNG not written", file=sys.stderr)
        return 1
    png = args.out / "sample-note"
    first_page = ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(["pdftoppm", *first_page, str(pdf), str(png)], check=True)
    print(f"wrote {pdf} and {png}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
