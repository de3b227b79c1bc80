"""Command line: the room window by default, and subcommands for people away from the room."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from . import __version__, department_cli, hospital_cli, paths
from .domain.errors import Refusal

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
NOTE_DOCUMENTS = ("report", "nursing", "audit")  # checklist_app.note.DOCUMENTS, without importing reportlab


class CliError(Exception):
    """A problem to report as one line on stderr (exit 1)."""


def build_parser() -> argparse.ArgumentParser:
    # --db is accepted before or after the subcommand: the sub-parsers share it with SUPPRESS so
    # a value given after the subcommand does not get reset to the default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="database file (default: per-user data directory)"
    )
    common.add_argument(
        "--department",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="the department hub's PostgreSQL URL, no password (default: CHECKLIST_APP_DEPARTMENT or department.toml)",
    )
    common.add_argument(
        "--room-code", default=argparse.SUPPRESS, metavar="CODE", help="this room's code on the department hub"
    )
    parser = argparse.ArgumentParser(
        prog="checklist-app",
        description="Kyphoplasty and vertebroplasty room checklist. With no command, opens the room window.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("gui", parents=[common], help="open the room window (the default)")
    cases = sub.add_parser("cases", parents=[common], help="list the cases, newest first")
    cases.add_argument("--json", action="store_true", help="print a JSON array")
    show = sub.add_parser("show", parents=[common], help="show one case: set-up, state and timeline")
    show.add_argument("case", metavar="CASE")
    show.add_argument("--json", action="store_true", help="print JSON")
    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="check the database: every chain, the case list, the staff directory, the schema",
        description="Check everything the file holds. With --reference or --manifest, also check it against an "
        "anchor kept outside the file: a printed note's record reference, or a backup's manifest.",
    )
    verify.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="REF",
        help="a record reference printed at the foot of a note (CASE:EVENT:HASH); repeat for several notes",
    )
    verify.add_argument("--manifest", type=Path, metavar="FILE", help="the manifest written beside a backup")
    demo = sub.add_parser("demo", parents=[common], help="simulate complete cases (training, demonstrations, load)")
    demo.add_argument("--cases", type=_positive_int, default=5, metavar="N")
    demo.add_argument("--procedure", choices=("kyphoplasty", "vertebroplasty", "mixed"), default="mixed")
    demo.add_argument("--seed", type=int, default=None, metavar="S")
    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="consistent copy of the database and its manifest, safe while in use",
        description="Write a copy of the database to a new file, and beside it FILE.manifest.json: every case's "
        "head, to keep apart from the live database (verify --manifest checks a database against it).",
    )
    backup.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    backup.add_argument(
        "--force",
        action="store_true",
        help="replace an existing old backup (never a database in use, a device, or a link out of its folder)",
    )
    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="restore a backup into a new file, verified (the current database is kept)",
        description="Copy BACKUP into the new file given with -o, verify it (and against the backup's manifest, "
        "if it lies beside it), and only then make it appear. Nothing existing is replaced: start the program "
        "with --db on the restored file.",
    )
    restore.add_argument("backup_file", type=Path, metavar="BACKUP")
    restore.add_argument("-o", "--output", type=Path, required=True, metavar="NEW_FILE")
    note = sub.add_parser(
        "note",
        parents=[common],
        help="write the operative note of a case as PDF",
        description="Write the note of a case as PDF: the operative report, the intraoperative nursing record "
        "and the audit trail, each starting on a new page (all three by default).",
    )
    note.add_argument("case", metavar="CASE")
    note.add_argument(
        "-o", "--out", "--output", dest="output", type=Path, required=True, metavar="FILE", help="the PDF file to write"
    )
    note.add_argument(
        "--document",
        action="append",
        choices=NOTE_DOCUMENTS,
        metavar="{report,nursing,audit}",
        help="write only this document: report (the operative report the operator signs), nursing (the "
        "intraoperative nursing record) or audit (the audit trail); repeat to choose several "
        "(default: all three in one PDF)",
    )
    sub.add_parser("selftest", parents=[common], help="deployment check for a new workstation")
    department_cli.add_parser(sub, common)  # department (issue 13)
    hospital_cli.add_commands(sub, common)  # outbox, export, interfaces (issue 14)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    _tolerate_narrow_encodings()
    args = build_parser().parse_args(argv)
    db = Path(getattr(args, "db", None) or paths.default_db_path())
    command = args.command or "gui"
    handler = COMMANDS[command]
    try:
        code = handler(args, db)
        sys.stdout.flush()  # inside the try: a reader that went away (`| head`) is not an error
        return code
    except BrokenPipeError:
        return _reader_gone()
    except (Refusal, CliError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the command line never shows a traceback
        if isinstance(exc, _expected_errors()):
            return _fail(str(exc))
        return _fail(f"unexpected error ({type(exc).__name__}): {exc}")


def _tolerate_narrow_encodings() -> None:
    """A console or file in ASCII, Latin-1 or cp1252 still gets every name (Zoë, Δοκιμή, 山田), escaped."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def _expected_errors() -> tuple[type[Exception], ...]:
    """Failures whose message already says what is wrong and where: the database, a file, a site file."""
    from .domain.catalogue import CatalogueError
    from .domain.settings import SettingsError
    from .domain.template import TemplateError
    from .store import StoreError

    return (StoreError, OSError, SettingsError, CatalogueError, TemplateError, *department_cli.expected_errors())


def _reader_gone() -> int:
    """The reader of our output closed the pipe (e.g. `checklist-app cases | head -1`): stop quietly."""
    # Point stdout at devnull so the interpreter's final flush does not complain on stderr.
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_OK


def _fail(message: str) -> int:
    print(f"checklist-app: error: {_one_line(message)}", file=sys.stderr)
    return EXIT_PROBLEM


def _one_line(text: str) -> str:
    """Control characters (a newline in a file name...) shown escaped, so an error stays one line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _open(db: Path, *, readonly: bool):
    from .service import ChecklistService
    from .site import load_site_config
    from .store import open_store

    if readonly and not db.exists():
        raise CliError(f"no database at {db} (start the program or run 'checklist-app demo' first)")
    site = load_site_config()  # a broken site file is reported before the database is opened
    return ChecklistService(_notify(open_store(db, readonly=readonly)), site=site)


def _notify(store):
    """Show the one-line notices of opening (a loose file mode tightened) on stderr."""
    for notice in store.notices:
        print(f"checklist-app: notice: {_one_line(notice)}", file=sys.stderr)
    return store


# -- commands ---------------------------------------------------------------------------------
def cmd_gui(args: argparse.Namespace, db: Path) -> int:
    from .app import run

    return run(db, department=department_cli.config_from(args))


def cmd_cases(args: argparse.Namespace, db: Path) -> int:
    if not db.exists():
        print("[]" if args.json else "No cases yet.")
        return EXIT_OK
    from .store import open_store

    # The store alone: listing needs no templates, catalogue or settings, so it starts faster.
    store = _notify(open_store(db, readonly=True))
    try:
        rows = store.list_cases()
        training = store.training_cases()
    finally:
        store.close()
    if args.json:
        print(json.dumps([_case_json(r, r.id in training) for r in rows], ensure_ascii=False, indent=1))
        return EXIT_OK
    if not rows:
        print("No cases yet.")
    for r in rows:
        # Every field shown escaped: a name edited in the file to hold a line break cannot fake a line.
        fields = (r.id, r.service_date, r.patient_name, r.procedure, r.levels, _status(r.status))
        line = "  ".join(_one_line(str(f)) for f in fields)
        print(f"{line}  TRAINING" if r.id in training else line)
    return EXIT_OK


def _case_json(row, training: bool = False) -> dict[str, Any]:
    return {
        "training": training,
        "id": row.id,
        "date": row.service_date,
        "patient_name": row.patient_name,
        "mrn": row.mrn,
        "procedure": row.procedure,
        "levels": row.levels.split(),
        "status": row.status,
        "events": row.event_count,
    }


def _status(code: str) -> str:
    from .domain.facts import STATUS_LABELS

    return STATUS_LABELS.get(code, code)


def cmd_show(args: argparse.Namespace, db: Path) -> int:
    from .report import case_report, format_report

    service = _open(db, readonly=True)
    try:
        report = case_report(service, args.case)
    finally:
        service.close()
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_report(report))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, db: Path) -> int:
    service = _open(db, readonly=True)
    anchored: list[str] = []
    try:
        problems = service.records.verify()
        cases = len(service.list_cases())
        for reference in args.reference:
            found, count = service.records.verify_reference(reference)
            problems += found
            if not found:
                anchored.append(f"the printed note {reference} matches the file ({count} event(s) in the case now)")
        if args.manifest is not None:
            try:
                found = service.records.verify_manifest(args.manifest)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            problems += found
            if not found:
                anchored.append(f"every case of the manifest {args.manifest} is there, unshortened and unchanged")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        service.close()
    for problem in problems:
        where = " ".join(
            p
            for p in (
                f"case {problem.case_id}" if problem.case_id else "",
                f"event {problem.seq}" if problem.seq else "",
            )
            if p
        )
        print(f"BROKEN {where}: {problem.message}" if where else f"BROKEN: {problem.message}")
    if problems:
        print(f"{len(problems)} problem(s) found in {db}", file=sys.stderr)
        return EXIT_PROBLEM
    print(f"OK: {db}: database intact, {cases} case(s) with intact hash chains")
    for line in anchored:
        print(f"OK: {line}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, db: Path) -> int:
    if getattr(args, "db", None) is None:
        # Simulated cases never go into the database the room uses unless someone names it on purpose.
        raise CliError(
            f"the demo writes simulated training cases; it does not write into the default database ({db}). "
            "Name a database with --db (for example --db demo.sqlite3)"
        )
    from .demo import simulate
    from .domain.clock import FakeClock
    from .service import ChecklistService
    from .site import load_site_config
    from .store import open_store

    clock = FakeClock()
    site = load_site_config()
    service = ChecklistService(_notify(open_store(db)), clock=clock, site=site)
    try:
        for result in simulate(service, clock, cases=args.cases, procedure=args.procedure, seed=args.seed):
            line = f"{result.case_id}  {result.procedure}  {result.levels}  {result.events} events"
            print(f"{line}  {_status(result.status)}", flush=True)
    finally:
        service.close()
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, db: Path) -> int:
    service = _open(db, readonly=True)
    try:
        manifest = service.records.backup(args.output, force=args.force, known=_known_databases())
    finally:
        service.close()
    print(f"Backup written to {args.output}")
    print(f"Manifest written to {manifest}: keep it apart from the live database (verify --manifest checks against it)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, db: Path) -> int:
    from .store import restore

    count = restore(args.backup_file, args.output, known=[db, *_known_databases()])
    print(f"Restored {args.backup_file} into {args.output}: {count} case(s), verified.")
    print(f"Nothing else was changed. To use it: checklist-app --db {args.output}")
    return EXIT_OK


def _known_databases() -> list[Path]:
    """The databases the program knows, which a backup or restore may never write onto."""
    with suppress(Exception):
        return [paths.default_db_path()]
    return []


def cmd_note(args: argparse.Namespace, db: Path) -> int:
    from .note import write_note

    documents = tuple(args.document or NOTE_DOCUMENTS)
    service = _open(db, readonly=True)
    try:
        write_note(service, args.case, args.output, documents)
    finally:
        service.close()
    print(f"Note written to {args.output}")
    return EXIT_OK


def cmd_selftest(args: argparse.Namespace, db: Path) -> int:
    from .app import selftest

    return selftest(db)


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "gui": cmd_gui,
    "cases": cmd_cases,
    "show": cmd_show,
    "verify": cmd_verify,
    "demo": cmd_demo,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "note": cmd_note,
    "selftest": cmd_selftest,
    "department": department_cli.run,
}
COMMANDS.update(hospital_cli.commands(_open, CliError))
