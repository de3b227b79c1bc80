"""Hub failures in three classes a background worker can act on: retry, park and show, or a bug.

`classify` decides the class from what the database said (SQLSTATE and message); it is pure, so the
rules are tested without a server. Messages are one line for a person and never hold patient data:
only case ids, event numbers, hashes, room codes and the server's primary message (never its DETAIL,
which can quote row values).
"""

from __future__ import annotations

# Custom SQLSTATEs raised by the hub's own functions and triggers (hub_schema.py).
CHAIN_BROKEN = "HUB01"  # an offered event does not continue the hub's chain, or its hash is wrong
OTHER_ROOM = "HUB02"  # the case id was pushed by another room
DIRECTORY_BROKEN = "HUB03"  # a directory entry does not continue its chain
APPEND_ONLY = "HUB09"  # UPDATE, DELETE or TRUNCATE on an append-only table

# Transient: the server is away, starting, stopping, overloaded, read-only, or we waited too long.
_TRANSIENT_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator intervention, system
_TRANSIENT_STATES = {
    "25006",  # read_only_sql_transaction: a standby, or a primary being switched over
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available (lock_timeout)
}
_NOT_TRANSIENT = {"57P04"}  # database_dropped: retrying will not bring it back
# Refused for good (until a person acts): credentials, privileges, a missing database or schema.
_REJECTED_STATES = {
    "28000",  # invalid_authorization_specification (no pg_hba entry, role may not log in)
    "28P01",  # invalid_password
    "3D000",  # invalid_catalog_name: the database does not exist
    "42501",  # insufficient_privilege
    "3F000",  # invalid_schema_name: the hub was never initialised here
    "42P01",  # undefined_table: likewise
    "42883",  # undefined_function: likewise
}
# What libpq says, without a SQLSTATE, when it could not even log in.
_REJECTED_CONNECT_WORDS = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # role or database
    "is not permitted to log in",
    "no password supplied",
    "permission denied",
)
_TRANSIENT_CONNECT_WORDS = ("read-only", "hot standby", "starting up", "shutting down", "recovery mode")


class HubError(Exception):
    """Any hub failure; str(error) is one line meant for a person (no patient data)."""


class HubUnavailable(HubError):  # noqa: N818
    """Transient: the hub cannot be reached or cannot take writes now. Retry with backoff."""


class HubRejected(HubError):  # noqa: N818
    """The hub refused, and will refuse again until a person acts. Park the work and show it."""


class ForkRefused(HubRejected):  # noqa: N818
    """A different event already stands at this case's `seq` on the hub; it was recorded as a fork."""

    def __init__(self, case_id: str, seq: int, hub_hash: str, offered_hash: str) -> None:
        super().__init__(
            f"Case {case_id}: event {seq} differs from the one the hub already holds "
            f"(hub {hub_hash[:12]}, this room {offered_hash[:12]}). Nothing was overwritten; "
            "the fork is recorded on the hub for the department to resolve."
        )
        self.case_id, self.seq, self.hub_hash, self.offered_hash = case_id, seq, hub_hash, offered_hash


class ChainRefused(HubRejected):  # noqa: N818
    """The offered events do not continue the hub's chain (gap, wrong prev_hash, wrong hash)."""


class OtherRoomsCase(HubRejected):  # noqa: N818
    """The case id is already on the hub for another room."""


class NotPermitted(HubRejected):  # noqa: N818
    """Authentication or privileges: wrong password, not a room, or an action only the admin may do."""


class HubSchemaMismatch(HubRejected):  # noqa: N818
    """The hub's schema is newer (or older) than this program's; nothing was changed."""


class HubCorrupt(HubRejected):  # noqa: N818
    """What the hub holds does not verify (a stored hash or link is wrong)."""


class HubBug(HubError):
    """An error neither transient nor an expected refusal: a defect to report, not to retry."""


def classify(sqlstate: str | None, message: str, *, connecting: bool = False) -> type[HubError]:
    """The failure class for a database error with this SQLSTATE and (primary) message."""
    text = (message or "").lower()
    if sqlstate in (CHAIN_BROKEN, DIRECTORY_BROKEN):
        return ChainRefused
    if sqlstate == OTHER_ROOM:
        return OtherRoomsCase
    if sqlstate == APPEND_ONLY:
        return NotPermitted
    if sqlstate in _REJECTED_STATES:
        return NotPermitted if sqlstate.startswith(("28", "42501")) else HubRejected
    if sqlstate in _NOT_TRANSIENT:
        return HubRejected
    if sqlstate in _TRANSIENT_STATES or (sqlstate or "")[:2] in _TRANSIENT_CLASSES:
        return HubUnavailable
    if sqlstate is None:
        if any(words in text for words in _TRANSIENT_CONNECT_WORDS):
            return HubUnavailable
        if connecting and any(words in text for words in _REJECTED_CONNECT_WORDS):
            return NotPermitted
        # No SQLSTATE means libpq itself gave up: refused, timed out, reset, name not resolved.
        return HubUnavailable
    return HubBug
