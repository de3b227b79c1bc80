"""The outbox: messages for the outside world, enqueued with the events that cause them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from checklist_app.store.errors import StoreError

CHANNELS = ("mllp", "fhir")
KINDS = ("mdm", "fhir_bundle")


@dataclass(frozen=True)
class Outbound:
    """A message to enqueue: what to build (`kind`) for which channel, from the events up to `upto_seq`.

    `dedupe_key` names the message itself (channel, kind, case and document version), so a resend
    is recognised and an enqueue can never happen twice.
    """

    channel: str
    kind: str
    upto_seq: int
    dedupe_key: str


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as stored."""

    id: int
    channel: str
    kind: str
    case_id: str
    upto_seq: int
    dedupe_key: str
    created: str
    status: str
    attempts: int
    next_attempt: str | None
    last_error: str | None
    sent: str | None


_COLUMNS = tuple(f.name for f in fields(OutboxRow))


def enqueue(conn: sqlite3.Connection, case_id: str, message: Outbound) -> None:
    """Insert one waiting message (inside the caller's transaction)."""
    if message.channel not in CHANNELS or message.kind not in KINDS:
        raise ValueError(f"unknown outbox channel or kind: {message.channel}/{message.kind}")
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    try:
        conn.execute(
            "INSERT INTO outbox (channel, kind, case_id, upto_seq, dedupe_key, created, status, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, 'waiting', 0)",
            [message.channel, message.kind, case_id, message.upto_seq, message.dedupe_key, now],
        )
    except sqlite3.IntegrityError as exc:
        if "dedupe" in str(exc) or "UNIQUE" in str(exc):
            raise StoreError(f"Message {message.dedupe_key} is already in the outbox; nothing was saved.") from None
        raise


def outbox_rows(conn: sqlite3.Connection, statuses: tuple[str, ...]) -> list[OutboxRow]:
    where = f" WHERE status IN ({', '.join('?' for _ in statuses)})" if statuses else ""
    rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox{where} ORDER BY id", list(statuses))
    return [OutboxRow(*row) for row in rows]
