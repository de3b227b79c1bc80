"""The outbox: messages for the outside world, enqueued with the events that cause them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
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


# -- the worker's results and IT's retry (written by the store's one writer thread) ---------------
SENT, WAITING, PARKED = "sent", "waiting", "parked"
# How a delivery attempt ended (checklist_app.interfaces.errors.Outcome values), and the row's new status.
_AFTER = {"accepted": SENT, "transient": WAITING, "rejected": PARKED}


def _stamp(moment: datetime) -> str:
    """Times in the outbox: UTC ISO 8601 with microseconds, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class OutboxTable:
    """The outbox's reads and writes beyond the enqueue, through the Store's connection and transaction."""

    def __init__(
        self,
        connection: Callable[[], sqlite3.Connection],
        writing: Callable[[], AbstractContextManager[sqlite3.Connection]],
    ) -> None:
        self._connection, self._writing = connection, writing

    def due(self, now: datetime, *, limit: int = 20) -> list[OutboxRow]:
        """Waiting messages whose next attempt is due at `now`, oldest first.

        In order per case and channel: an addendum (version 2) is not due while the original (version
        1) on the same channel is not acknowledged, so a receiver never gets a T06 before its T02."""
        rows = self._connection().execute(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE status = 'waiting' "
            "AND (next_attempt IS NULL OR next_attempt <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.case_id = outbox.case_id "
            "AND earlier.channel = outbox.channel AND earlier.id < outbox.id AND earlier.status != 'sent') "
            "ORDER BY id LIMIT ?",
            [_stamp(now), int(limit)],
        )
        return [OutboxRow(*row) for row in rows]

    def row(self, message_id: int) -> OutboxRow | None:
        found = self._connection().execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE id = ?", [message_id])
        row = found.fetchone()
        return OutboxRow(*row) if row else None

    def record_attempt(
        self, message_id: int, outcome: str, detail: str, *, at: datetime, next_attempt: datetime | None = None
    ) -> bool:
        """Store how one attempt ended: accepted -> sent, transient -> waiting until `next_attempt`,
        rejected -> parked. Only a waiting row changes (a sent message is never demoted); False if none did."""
        status = _AFTER.get(outcome)
        if status is None:
            raise ValueError(f"unknown delivery outcome {outcome!r}")
        with self._writing() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt = ?, "
                "sent = ? WHERE id = ? AND status = 'waiting'",
                [
                    status,
                    None if status == SENT else detail,
                    _stamp(next_attempt) if status == WAITING and next_attempt else None,
                    _stamp(at) if status == SENT else None,
                    message_id,
                ],
            )
            return cursor.rowcount == 1

    def retry(self, message_id: int) -> OutboxRow:
        """IT's retry: a parked (or waiting) message is due again now. A sent one is refused: it arrived."""
        with self._writing() as conn:
            row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE id = ?", [message_id]).fetchone()
            if row is None:
                raise StoreError(f"There is no message {message_id} in the outbox.")
            if OutboxRow(*row).status == SENT:
                raise StoreError(
                    f"Message {message_id} was acknowledged by the receiver; it is not sent again "
                    "(export it to a file if the receiver lost it)."
                )
            conn.execute("UPDATE outbox SET status = 'waiting', next_attempt = NULL WHERE id = ?", [message_id])
            updated = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE id = ?", [message_id]).fetchone()
        return OutboxRow(*updated)
