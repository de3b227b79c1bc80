"""Case ids unique across a department's rooms: the room code in the id, old ids qualified on the hub.

A room with a room code makes its new cases `<ROOM>-YYYYMMDD-NNN` (the store reads the code from
the database, where it is recorded once). A database made before it had a room code keeps its
cases' ids `YYYYMMDD-NNN` for ever: the id is inside every event's hashed text, so renaming a case
would break its chain and the signatures over it. On the hub such a case is filed as
`<ROOM>/YYYYMMDD-NNN` (the room code, a slash, the id its events carry): unique across rooms, and
the events pushed are the room's own bytes, so old ids stay readable and verifiable everywhere.
A slash never appears in a room code or in an id the program makes, so the two forms never meet.
"""

from __future__ import annotations

import re

# Stricter than the hub's own pattern (hub_schema.ROOM_CODE_PATTERN): a case-id prefix starts with
# a letter, so `OR1-20260302-001` can never be read as an old id `20260302-001` of another room.
ROOM_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
QUALIFIER = "/"


def check_room_code(code: str) -> str:
    """The room code, or ValueError saying what a room code may be."""
    if not isinstance(code, str) or not ROOM_CODE.match(code):
        raise ValueError(
            f"{code!r} is not a usable room code: 1-16 letters, digits or '_', starting with a letter (e.g. OR1)"
        )
    return code


def prefix(room: str) -> str:
    """What starts the id of every case a room with this code makes."""
    return f"{room}-"


def hub_case_id(room: str, local_id: str) -> str:
    """The id a room's case is filed under on the hub: its own id if it carries the room code."""
    return local_id if local_id.startswith(prefix(room)) else f"{room}{QUALIFIER}{local_id}"


def named_case_id(hub_id: str) -> str:
    """The id the case's events carry (what its chain hashed) for a hub id."""
    return hub_id.split(QUALIFIER, 1)[1] if QUALIFIER in hub_id else hub_id


def local_case_id(room: str, hub_id: str) -> str | None:
    """The room's own id for a hub id of that room (None if the id is not of this room's forms)."""
    if hub_id.startswith(f"{room}{QUALIFIER}"):
        return hub_id[len(room) + 1 :]
    return hub_id if hub_id.startswith(prefix(room)) else None
