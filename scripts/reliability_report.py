"""Run the reliability suite and report its figures (trials, kills, faults, inputs tried, records lost).

    python scripts/reliability_report.py                 # 50 kill trials, figures printed as Markdown
    python scripts/reliability_report.py --trials 500    # a longer soak
    python scripts/reliability_report.py --write-docs    # also refresh the figures in docs/reliability.md
    python scripts/reliability_report.py --keep-going    # property tests count crashes instead of stopping

The tests count what they do into a JSON file (tests/reliability/ledger.py); this script points
them at a temporary folder, runs pytest with a JUnit report beside it, and puts the two together.
Exit status is pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def run_suite(trials: int, seed: str | None, extra: list[str], folder: Path, keep_going: bool) -> tuple[int, float]:
    env = {**os.environ, "RELIABILITY_RESULTS_DIR": str(folder), "RELIABILITY_TRIALS": str(trials)}
    if keep_going:
        env["RELIABILITY_KEEP_GOING"] = "1"
    if seed:
        env["RELIABILITY_SEED"] = seed
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:randomly"]
    command += ["--junitxml", str(folder / "junit.xml"), *extra]
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    return code, time.monotonic() - started


def junit_summary(path: Path) -> dict[str, int]:
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    total, failed = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    xfailed = sum(
        1 for case in suite.iter("testcase") for s in case.findall("skipped") if s.get("type") == "pytest.xfail"
    )
    skipped = int(suite.get("skipped", 0)) - xfailed
    return {"tests": total, "passed": total - failed - skipped - xfailed, "failed": failed, "skipped": skipped,
            "xfailed": xfailed}  # fmt: skip


def failing_tests(path: Path) -> list[str]:
    suite = ET.parse(path).getroot()
    return [
        f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
    return (done.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def total(counts: dict[str, int], prefix: str) -> int:
    return sum(value for name, value in counts.items() if name.startswith(prefix))


def figures_markdown(figures: dict, summary: dict[str, int], seconds: float, failures: list[str]) -> str:
    counts, facts = figures.get("counts", {}), figures.get("facts", {})
    lost = counts.get("crash.records_lost", 0) + counts.get("window_crash.records_lost", 0)
    rows = [
        ("Run", f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, Python {platform.python_version()}"),
        ("Seed (replay with RELIABILITY_SEED)", facts.get("seed", "?")),
        ("Kill trials: service process", f"{counts.get('crash.trials', 0)} trials, {counts.get('crash.kills', 0)} "
         f"SIGKILLs ({counts.get('crash.kills_after_opening', 0)} while opening, "
         f"{counts.get('crash.kills_after_ready', 0)} just after opening, {counts.get('crash.kills_after_ack', 0)} "
         f"mid-case; {counts.get('crash.trials_with_frequent_checkpoints', 0)} with a WAL checkpoint every 8 pages)"),
        ("Kill trials: window process", f"{counts.get('window_crash.trials', 0)} trials, "
         f"{counts.get('window_crash.kills', 0)} SIGKILLs"),
        ("Acknowledged calls checked after a kill",
         counts.get("crash.acknowledged_calls", 0) + counts.get("window_crash.acknowledged_calls", 0)),
        ("Cases resumed after a kill and finished",
         counts.get("crash.cases_resumed_and_finished", 0) + counts.get("window_crash.cases_resumed_and_finished", 0)),
        ("Windows reopened on the interrupted case (next step tapped there)",
         f"{counts.get('window_crash.windows_reopened_on_the_case', 0)} "
         f"({counts.get('window_crash.next_step_tapped_after_reopening', 0)})"),
        ("Committed but not yet acknowledged at the kill (allowed)",
         counts.get("crash.events_committed_after_last_ack", 0)
         + counts.get("window_crash.events_committed_after_last_ack", 0)),
        ("**Acknowledged records lost**", f"**{lost}**"),
        ("Faults injected", total(counts, "faults.")),
        ("Second-instance attempts", total(counts, "instances.")),
        ("Tamper detections by `verify`", counts.get("tamper.detected", 0)),
        ("Inputs tried: service calls", f"{counts.get('inputs.service', 0)} "
         f"({counts.get('inputs.service_refused', 0)} refused, {counts.get('inputs.service_accepted', 0)} accepted)"),
        ("Template steps reached by the record_step property",
         f"{sum(1 for name in counts if name.startswith('inputs.record_step.'))} (procedure, step) pairs"),
        ("Accepted inputs then listed, shown and printed", counts.get("inputs.accepted_and_rendered", 0)),
        ("Inputs tried: command lines", counts.get("inputs.cli", 0) + counts.get("inputs.cli_process", 0)),
        ("Inputs tried: data files and scans", counts.get("inputs.files", 0) + counts.get("inputs.scans", 0)),
        ("Security checks (file modes, logs, PINs, signed cases)", total(counts, "security.")),
        ("Tests", f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped, "
         f"{summary['xfailed']} xfailed (known limits), in {seconds:.0f} s"),
    ]  # fmt: skip
    lines = ["| Figure | Value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    unexpected = {name.removeprefix("unexpected."): n for name, n in counts.items() if name.startswith("unexpected.")}
    if unexpected:
        lines += ["", f"Unexpected errors by signature (keep-going mode, {sum(unexpected.values())} inputs):", ""]
        lines += [f"- {n} × {signature}" for signature, n in sorted(unexpected.items())]
    if failures:
        lines += ["", f"Failing tests ({len(failures)}), each a bug reported to the owner of that layer:", ""]
        lines += [f"- `{name}`" for name in failures]
    return "\n".join(lines) + "\n"


def write_docs(block: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no {START} ... {END} block to replace")
    DOC.write_text(pattern.sub(lambda _: f"{START}\n{block}{END}", text), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="kill trials (window trials: a fifth, at least 10)")
    parser.add_argument("--seed", default=None, help="replay the kill moments of an earlier run")
    parser.add_argument("--write-docs", action="store_true", help=f"refresh the figures in {DOC.relative_to(ROOT)}")
    parser.add_argument(
        "--keep-going", action="store_true", help="count unexpected errors by signature instead of stopping at one"
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reliability-") as temp:
        folder = Path(temp)
        code, seconds = run_suite(args.trials, args.seed, args.pytest_args, folder, args.keep_going)
        figures_file = folder / "reliability-figures.json"
        figures = json.loads(figures_file.read_text(encoding="utf-8")) if figures_file.exists() else {}
        summary = junit_summary(folder / "junit.xml")
        block = figures_markdown(figures, summary, seconds, failing_tests(folder / "junit.xml"))
    print(block)
    if args.write_docs:
        write_docs(block)
        print(f"figures written to {DOC}")
    return code


if __name__ == "__main__":
    sys.exit(main())
