"""Command-line subcommands for the hospital interfaces (issue 14): the outbox for IT, exports without a
network, and the headless link (ADT listener and outbox worker) for a room run without the window.

    checklist-app outbox [--json]          every message: waiting, sent, parked (with the reason)
    checklist-app outbox retry ID          a parked message is due again now
    checklist-app export CASE --fhir bundle.json --hl7 msg.hl7
    checklist-app interfaces               listen and send until interrupted (no window)
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import paths

OpenService = Callable[..., Any]  # cli._open(db, readonly=...)
Command = Callable[[argparse.Namespace, Path], int]
STATUS_WORDS = {"waiting": "waiting", "sent": "sent", "parked": "parked (needs IT)"}


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The subcommands, added to the main parser's sub-parsers."""
    outbox = sub.add_parser("outbox", parents=[common], help="messages to the hospital: sent, waiting, parked")
    outbox.add_argument("--json", action="store_true", help="print a JSON array")
    actions = outbox.add_subparsers(dest="outbox_action", metavar="ACTION")
    retry = actions.add_parser("retry", parents=[common], help="send a parked message again (it is due at once)")
    retry.add_argument("id", type=int, metavar="ID")
    export = sub.add_parser("export", parents=[common], help="write a signed case as FHIR bundle and/or HL7 MDM")
    export.add_argument("case", metavar="CASE")
    export.add_argument("--fhir", type=Path, metavar="FILE", help="the FHIR R4 transaction bundle (JSON)")
    export.add_argument("--hl7", type=Path, metavar="FILE", help="the HL7 v2.5 MDM message (segments end with CR)")
    sub.add_parser("interfaces", parents=[common], help="run the hospital link without the window (until Ctrl+C)")


def _config(error: type[Exception]) -> Any:
    from .interfaces.config import InterfaceConfigError, load_interface_config

    try:
        return load_interface_config(paths.site_interfaces_path())
    except InterfaceConfigError as exc:
        raise error(str(exc)) from None


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "kind": row.kind,
        "case": row.case_id,
        "status": row.status,
        "attempts": row.attempts,
        "created": row.created,
        "next_attempt": row.next_attempt,
        "last_error": row.last_error,
        "sent": row.sent,
    }


def cmd_outbox(args: argparse.Namespace, db: Path) -> int:
    from .store import open_store

    if getattr(args, "outbox_action", None) == "retry":
        store = open_store(db)  # the writer: refused with a clear message while the window has it open
        try:
            row = store.messages.retry(args.id)
        finally:
            store.close()
        print(f"Message {row.id} ({row.channel}, case {row.case_id}) is waiting and will be sent at the next attempt.")
        return 0
    if not db.exists():
        print("[]" if args.json else "The outbox is empty.")
        return 0
    store = open_store(db, readonly=True)
    try:
        rows = store.outbox()
    finally:
        store.close()
    if args.json:
        print(json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        when = f"sent {r.sent}" if r.sent else (f"next attempt {r.next_attempt}" if r.next_attempt else "due now")
        if r.status == "parked":
            when = "waits for IT: checklist-app outbox retry " + str(r.id)
        reason = f"  last answer: {r.last_error}" if r.last_error else ""
        status = STATUS_WORDS.get(r.status, r.status)
        print(f"{r.id:>5}  {r.channel:<4}  {r.case_id}  {r.dedupe_key.rsplit(':', 1)[-1]}  {status}  {when}{reason}")
    counts = {s: sum(r.status == s for r in rows) for s in STATUS_WORDS}
    print(f"{counts['waiting']} waiting, {counts['parked']} parked, {counts['sent']} sent")
    return 1 if counts["parked"] else 0


def cmd_export(args: argparse.Namespace, db: Path, open_service: OpenService, error: type[Exception]) -> int:
    from .interfaces.errors import ExportError
    from .interfaces.export import export_fhir, export_hl7

    if not args.fhir and not args.hl7:
        raise error("say what to write: --fhir FILE and/or --hl7 FILE")
    if args.fhir and args.hl7 and args.fhir.absolute() == args.hl7.absolute():
        raise error("--fhir and --hl7 must be different files")
    settings = _config(error).settings
    service = open_service(db, readonly=True)
    try:
        if args.fhir:
            export_fhir(service, args.case, args.fhir, settings)
            print(f"FHIR bundle written to {args.fhir}")
        if args.hl7:
            export_hl7(service, args.case, args.hl7, settings)
            print(f"HL7 MDM message written to {args.hl7}")
    except ExportError as exc:
        raise error(f"case {args.case}: {exc}") from None
    finally:
        service.close()
    return 0


def cmd_interfaces(args: argparse.Namespace, db: Path, open_service: OpenService, error: type[Exception]) -> int:
    """The link without the window: this thread is the database's writer and writes the worker's results."""
    from .domain.clock import SystemClock
    from .interfaces.link import HospitalLink
    from .interfaces.outbox_worker import AttemptQueue

    config = _config(error)
    if not config.configured:
        raise error(f"no hospital interfaces are configured ({paths.site_interfaces_path()})")
    service = open_service(db, readonly=False)
    results = AttemptQueue()
    link = HospitalLink(
        db, paths.patient_list_path(db), site=service.site, config=config, clock=SystemClock(), report=results
    )
    stop = threading.Event()
    _on_signal(lambda: stop.set())
    try:
        link.start()
        print(f"Hospital link running for {db} (Ctrl+C stops it).", flush=True)
        while not stop.is_set():
            results.apply(service.store, wait=1.0)
    finally:
        link.stop()
        results.apply(service.store)
        service.close()
    return 0


def _on_signal(handler: Callable[[], None]) -> None:
    for name in ("SIGTERM", "SIGINT"):
        number = getattr(signal, name, None)
        if number is not None and threading.current_thread() is threading.main_thread():
            signal.signal(number, lambda *_: handler())


def commands(open_service: OpenService, error: type[Exception]) -> dict[str, Command]:
    """The handlers, given how the command line opens a service and the error it reports as one line."""
    return {
        "outbox": cmd_outbox,
        "export": lambda args, db: cmd_export(args, db, open_service, error),
        "interfaces": lambda args, db: cmd_interfaces(args, db, open_service, error),
    }


__all__ = ["add_commands", "commands"]
