"""`checklist-app department ...`: set up the hub, push, check the room against it, list and print its cases."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from . import paths

EXIT_OK, EXIT_PROBLEM = 0, 1


class DepartmentCommandError(Exception):
    """A department command that cannot go on; the message says why, in one line."""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `department` command and its sub-commands (registered by cli.build_parser)."""
    department = sub.add_parser(
        "department",
        parents=[common],
        help="the department hub (PostgreSQL): set up, push, verify against it, list its cases",
        description="The department hub. The hub's address comes from --department, CHECKLIST_APP_DEPARTMENT or "
        "department.toml in the data folder; the room code from --room-code, CHECKLIST_APP_ROOM or the same file "
        "(docs/department.md).",
    )
    actions = department.add_subparsers(dest="department_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", parents=[common], help="create or upgrade the hub's schema (with the hub admin's URL)"
    )
    init.add_argument("url", metavar="URL", help="the hub admin role's URL (password in ~/.pgpass or PGPASSWORD)")
    init.add_argument("--timezone", metavar="TZ", help="the department's time zone for service dates (first init)")
    actions.add_parser(
        "push", parents=[common], help="push what is waiting now, in the foreground, and say where it stands"
    )
    actions.add_parser("verify", parents=[common], help="compare every local case with what the hub holds")
    cases = actions.add_parser("cases", parents=[common], help="the department's cases, newest first")
    cases.add_argument("--json", action="store_true", help="print a JSON array")
    cases.add_argument("--room", dest="of_room", metavar="R", help="only this room's cases")
    cases.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    cases.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD")
    cases.add_argument("--limit", type=int, metavar="N")
    actions.add_parser("pull", parents=[common], help="copy the shared staff directory and catalogue for offline use")
    note = actions.add_parser("note", parents=[common], help="print the note of any room's case from the hub (PDF)")
    note.add_argument("case", metavar="CASE", help="the case id as the department list shows it")
    note.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")


def run(args: argparse.Namespace, db: Path) -> int:
    handler = {
        "init": _init,
        "push": _push,
        "verify": _verify,
        "cases": _cases,
        "pull": _pull,
        "note": _note,
    }[args.department_command]
    return handler(args, db)


def expected_errors() -> tuple[type[Exception], ...]:
    from .sync.config import DepartmentConfigError
    from .sync.errors import HubError

    return (DepartmentCommandError, DepartmentConfigError, HubError)


def config_from(args: argparse.Namespace, *, need_room: bool = True):
    """The department settings for this run (None when no hub is configured)."""
    from .sync.config import load_department

    return load_department(
        paths.data_dir(),
        cli_url=getattr(args, "department", None),
        cli_room=getattr(args, "room_code", None),
        need_room=need_room,
    )


def _required(args: argparse.Namespace, *, need_room: bool = True):
    config = config_from(args, need_room=need_room)
    if config is None:
        raise DepartmentCommandError(
            "no department hub is configured: give --department URL, set CHECKLIST_APP_DEPARTMENT, or write "
            "department.toml in the data folder (docs/department.md)"
        )
    return config


def _init(args: argparse.Namespace, db: Path) -> int:
    from .sync.hub_admin import HubAdmin

    with HubAdmin(args.url) as admin:
        before = admin.schema_version()
        after = admin.init(timezone=args.timezone)
    print(f"Hub schema at version {after}" + (" (unchanged)" if after == before else f" (was {before})"))
    return EXIT_OK


def _push(args: argparse.Namespace, db: Path) -> int:
    from .department import StoreRecord, connect, marks_path
    from .domain.clock import SystemClock
    from .sync.pusher import Marks, Pusher

    config = _required(args)
    store = _open_room(db, config)
    try:
        marks = Marks(marks_path(db), f"{config.url} {config.room}")
        pusher = Pusher(config.room, StoreRecord(store), lambda: connect(config), SystemClock(), marks=marks)
        try:
            status = pusher.run_once()
            while status.state == "waiting" and pusher.next_delay == 0:
                status = pusher.run_once()
        finally:
            pusher.close()
    finally:
        store.close()
    print(status.text())
    for why in status.parked.values():
        print(f"REFUSED {why}")
    if status.message:
        print(status.message, file=sys.stderr)
    return EXIT_OK if status.state in ("in_step", "waiting") and not status.parked else EXIT_PROBLEM


def _open_room(db: Path, config):
    """The room's database, read-only, checked to belong to the configured room."""
    from .department import adopt_room
    from .store import open_store

    if not db.exists():
        raise DepartmentCommandError(f"no database at {db}")
    store = open_store(db, readonly=True)
    try:
        adopt_room(store, config.room)
    except BaseException:
        store.close()
        raise
    return store


def _verify(args: argparse.Namespace, db: Path) -> int:
    from .department import connect, verify_against_hub

    config = _required(args)
    store = _open_room(db, config)
    try:
        with connect(config) as hub:
            findings = verify_against_hub(store, hub, config.room)
            forks = [fork for fork in hub.forks() if fork.room == config.room]
    finally:
        store.close()
    problems = [finding for finding in findings if finding.problem]
    for finding in findings:
        print(f"{'PROBLEM' if finding.problem else 'ok':7} {finding.kind:18} {finding.message}")
    for fork in forks:
        print(
            f"FORK    case {fork.case_id} event {fork.seq}: the hub holds {fork.hub_hash[:12]}, this room offered "
            f"{fork.offered_hash[:12]} ({fork.offers} time(s))"
        )
    summary = f"{len(findings)} case(s) compared with the hub: {len(problems)} problem(s), {len(forks)} fork(s)"
    print(summary, file=sys.stderr if problems or forks else sys.stdout)
    return EXIT_PROBLEM if problems or forks else EXIT_OK


def _cases(args: argparse.Namespace, db: Path) -> int:
    from .sync.hub import Hub

    config = _required(args, need_room=False)
    filters = {"room": args.of_room, "date_from": args.date_from, "date_to": args.date_to, "limit": args.limit}
    with Hub(config.url, password=config.password) as hub:
        if args.json:
            sys.stdout.write(hub.cases_json(**filters))
            sys.stdout.write("\n")
            return EXIT_OK
        rows = hub.cases(**filters)
    if not rows:
        print("No cases on the hub.")
    for r in rows:
        print(f"{r.case_id}  {r.room}  {r.service_date}  {r.patient_name}  {r.procedure}  {r.levels}  {r.status}")
    return EXIT_OK


def _pull(args: argparse.Namespace, db: Path) -> int:
    from .sync import local_directory
    from .sync.hub import Hub

    config = _required(args, need_room=False)
    target = local_directory.directory_path(db)
    with Hub(config.url, password=config.password) as hub:
        result = local_directory.pull(hub, target)
    people = local_directory.staff(target)
    catalogue = local_directory.catalogue_in_force(target)
    print(
        f"Pulled {result.staff} staff and {result.catalogue} catalogue entr(ies) into {target}: "
        f"{sum(p.active for p in people.values())} active people, catalogue "
        f"{catalogue[0] if catalogue else 'none yet'}"
    )
    return EXIT_OK


def _note(args: argparse.Namespace, db: Path) -> int:
    from .department import DepartmentCases
    from .note import render_note, write_private
    from .site import load_site_config

    config = _required(args, need_room=False)
    state = DepartmentCases(config, load_site_config()).case(args.case)
    write_private(args.output, render_note(state), protected=(db,))
    print(f"Note of {args.case} (from the department hub, read-only) written to {args.output}")
    return EXIT_OK
