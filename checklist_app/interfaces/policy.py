"""Which messages a case's events cause: the operator's signature and every addendum send the record out.

The case log calls the policy inside the append, and the store writes its rows in the same
transaction as the signature or addendum event: the message exists exactly when its event does.
A row names what to build (the MDM or the bundle of the case's events 1..upto_seq), not the bytes:
the worker builds them off the tick path, and the same events always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..domain import events as ev
from ..domain.events import Event
from ..domain.state import CaseState
from ..store.outbox import Outbound

KIND_BY_CHANNEL = {"mllp": "mdm", "fhir": "fhir_bundle"}


def dedupe_key(channel: str, case_id: str, version: int) -> str:
    """One message per channel, case and document version: a second enqueue is impossible."""
    return f"{channel}:{KIND_BY_CHANNEL[channel]}:{case_id}:v{version}"


def sends_record(event: Event) -> bool:
    """The operator's signature (version 1) and each addendum (the next version)."""
    return (event.kind == ev.SIGNATURE and event.values.get("role") == "operator") or event.kind == ev.ADDENDUM


def record_out(channels: Sequence[str]) -> Callable[[CaseState, list[Event]], Sequence[Outbound]]:
    """The outbox policy for a room sending on `channels` ("mllp", "fhir")."""
    unknown = [c for c in channels if c not in KIND_BY_CHANNEL]
    if unknown:
        raise ValueError(f"unknown outbox channel {unknown[0]!r}")

    def policy(state: CaseState, new: list[Event]) -> Sequence[Outbound]:
        if not any(sends_record(event) for event in new):
            return ()
        version = 1 + len(state.addenda)
        upto = new[-1].seq
        return tuple(
            Outbound(channel, KIND_BY_CHANNEL[channel], upto, dedupe_key(channel, state.case_id, version))
            for channel in channels
        )

    return policy
