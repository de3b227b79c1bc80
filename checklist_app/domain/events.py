"""Events: the append-only facts a case is made of, and their canonical (hashable) form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

# Every kind of event a case log may hold.
CASE_STARTED = "case_started"
STEP_DONE = "step_done"
NOT_APPLICABLE = "not_applicable"
CORRECTION = "correction"
RETRACTION = "retraction"
GATE_OVERRIDE = "gate_override"
WARNING_ACKNOWLEDGED = "warning_acknowledged"
ALARM_ACKNOWLEDGED = "alarm_acknowledged"
STAFF_CHANGE = "staff_change"
FINDINGS = "findings"
SIGNATURE = "signature"
ADDENDUM = "addendum"

KINDS = (
    CASE_STARTED,
    STEP_DONE,
    NOT_APPLICABLE,
    CORRECTION,
    RETRACTION,
    GATE_OVERRIDE,
    WARNING_ACKNOWLEDGED,
    ALARM_ACKNOWLEDGED,
    STAFF_CHANGE,
    FINDINGS,
    SIGNATURE,
    ADDENDUM,
)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Event:
    """One fact about a case. `seq` counts from 1 within the case; `ref` is the seq it corrects.

    Times are timezone-aware UTC. `clinical_time` is when it happened, `recorded_time` when it
    was entered (never editable). `prev_hash`/`hash` form the per-case chain and are filled in by
    the store when the event is appended.
    """

    case_id: str
    seq: int
    kind: str
    clinical_time: datetime
    recorded_time: datetime
    actor: str
    step: str | None = None
    level: str | None = None
    side: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    late_reason: str | None = None
    ref: int | None = None
    prev_hash: str = ""
    hash: str = ""

    def canonical(self) -> bytes:
        """The exact bytes the chain hash covers (everything but the hash itself)."""
        body = {
            "case_id": self.case_id,
            "seq": self.seq,
            "kind": self.kind,
            "step": self.step,
            "level": self.level,
            "side": self.side,
            "values": self.values,
            "clinical_time": format_time(self.clinical_time),
            "recorded_time": format_time(self.recorded_time),
            "actor": self.actor,
            "reason": self.reason,
            "late_reason": self.late_reason,
            "ref": self.ref,
            "prev_hash": self.prev_hash,
        }
        return canonical_json(body).encode("utf-8")

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def chained(self, prev_hash: str) -> Event:
        """This event linked after `prev_hash`, with its own hash filled in."""
        linked = replace(self, prev_hash=prev_hash, hash="")
        return replace(linked, hash=linked.compute_hash())

    @property
    def instance(self) -> tuple[str | None, str | None, str | None]:
        return (self.step, self.level, self.side)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def format_time(moment: datetime) -> str:
    """UTC ISO-8601 with offset, to the microsecond (the stored form)."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {text!r}")
    return moment.astimezone(UTC)


# The record reference printed on every page of the note (SPEC §6, anchoring): `case:seq:prefix`,
# the case's last event and the first 16 hex digits (64 bits) of its hash. Short enough to copy
# from paper, long enough that nobody can make a rewritten chain end on the same prefix.
REFERENCE_PREFIX = 16


def record_reference(case_id: str, seq: int, hash_: str) -> str:
    """The short record reference of a case whose last event is `seq` with hash `hash_`."""
    return f"{case_id}:{seq}:{hash_[:REFERENCE_PREFIX]}"


def parse_reference(text: str) -> tuple[str, int, str]:
    """(case, seq, hash prefix) of a printed record reference; ValueError if it is not one."""
    parts = str(text).strip().rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or int(parts[1]) < 1:
        raise ValueError(f"{text!r} is not a record reference (CASE:EVENT:HASH, as printed at the foot of the note)")
    prefix = parts[2].lower()
    if not 8 <= len(prefix) <= 64 or any(ch not in "0123456789abcdef" for ch in prefix):
        raise ValueError(f"{text!r}: the hash part must be 8 to 64 hexadecimal digits")
    return parts[0], int(parts[1]), prefix
