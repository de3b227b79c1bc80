"""Crash-test driver: records realistic cases through ChecklistService, one call at a time.

Run as a separate process by tests/reliability (never imported by the tests themselves):

    python service_driver.py DB [--seed S] [--cases N] [--hold-after K] [--autocheckpoint PAGES]

Protocol on stdout, one line each, flushed:
    OPENING                                     about to open (and, if new, create) the database
    READY <pid>                                 the store is open (this process holds the writer lock)
    ACK <case> <seq> <hash> <status>            a service call returned: its event(s) are committed
    HOLD                                        --hold-after reached: waiting until stdin closes
    DONE                                        every case finished; the store is closed
    REFUSED <message>                           the store could not be opened (exit 3)

Every ACK is printed only after the service call returned, i.e. after COMMIT; so anything
acknowledged must survive a SIGKILL at any later moment.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from checklist_app.demo import simulate
from checklist_app.domain.clock import FakeClock
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, open_store

MUTATING = frozenset(
    {
        "start_case",
        "record_step",
        "mark_not_applicable",
        "correct",
        "retract",
        "override_gate",
        "acknowledge_warning",
        "acknowledge_alarm",
        "change_staff",
        "record_findings",
        "sign",
        "add_addendum",
    }
)


class AckingService:
    """The real service; each use case that returns prints one ACK line (after its commit)."""

    def __init__(self, service: ChecklistService, hold_after: int | None) -> None:
        self._service = service
        self._acks = 0
        self._hold_after = hold_after

    def __getattr__(self, name: str):
        attr = getattr(self._service, name)
        if name not in MUTATING:
            return attr

        def call(**kwargs):
            state = attr(**kwargs)
            last = state.events[-1]
            print(f"ACK {state.case_id} {last.seq} {last.hash} {state.facts.status}", flush=True)
            self._acks += 1
            if self._acks == self._hold_after:
                print("HOLD", flush=True)
                sys.stdin.read()  # until the test closes our stdin
            return state

        return call


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--hold-after", type=int, default=None)
    parser.add_argument("--autocheckpoint", type=int, default=None, help="checkpoint the WAL every PAGES pages")
    args = parser.parse_args()
    clock = FakeClock()
    print("OPENING", flush=True)
    try:
        service = ChecklistService(open_store(args.db), clock=clock)
    except StoreError as exc:
        print(f"REFUSED {exc}", flush=True)
        return 3
    if args.autocheckpoint:
        # Test-only reach into the store: frequent checkpoints, so that some kills land in one.
        service.store._reader().execute(f"PRAGMA wal_autocheckpoint = {args.autocheckpoint:d}")
    print(f"READY {os.getpid()}", flush=True)
    try:
        driven = AckingService(service, args.hold_after)
        for _ in simulate(driven, clock, cases=args.cases, seed=args.seed):  # type: ignore[arg-type]
            pass
    finally:
        service.close()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
