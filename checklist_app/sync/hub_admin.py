"""The department's side of the hub: create or upgrade its schema, make room logins, append to the
shared staff directory and product catalogue. Run with the hub admin role's URL (the DBA's tool or
the quality office's), never from a room: room logins can do none of this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checklist_app.domain.clock import Clock, SystemClock
from checklist_app.domain.events import GENESIS_HASH
from checklist_app.sync.directory import (
    CATALOGUE,
    CATALOGUE_VERSION,
    DEACTIVATED,
    PERSON_ADDED,
    PIN_CHANGED,
    REACTIVATED,
    STAFF,
    DirectoryEntry,
    build_entry,
    catalogue_version,
    check_chain,
    entry_from_row,
    fold_staff,
    staff_change,
)
from checklist_app.sync.errors import HubCorrupt, HubRejected, HubSchemaMismatch
from checklist_app.sync.hub_pg import CONNECT_TIMEOUT_S, PgSession
from checklist_app.sync.hub_schema import (
    LATEST,
    MIGRATIONS,
    ROOM_CODE_PATTERN,
    ROOMS_TOKEN,
    room_role_for,
    rooms_role_for,
)

_INIT_LOCK = 0x43484B31  # "CHK1": pg_advisory_xact_lock key that serialises concurrent inits
_DIRECTORY_LOCK = 0x43484B32  # with 1 (staff) or 2 (catalogue): serialises directory appends
MIN_SERVER = 130000  # PostgreSQL 13: the oldest release its developers still supported when written
MIN_PASSWORD = 12


class HubAdmin:
    """The hub's owner: schema migrations, room logins and the shared directories."""

    def __init__(self, admin_url: str, *, clock: Clock | None = None, connect_timeout: int = CONNECT_TIMEOUT_S):
        # Migrations may wait for rooms' pushes to finish with a case, so the statements get longer.
        self.db = PgSession(
            admin_url, connect_timeout=connect_timeout, statement_timeout_ms=120_000, application_name="checklist-admin"
        )
        self.clock = clock or SystemClock()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HubAdmin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The hub's schema version: 0 where the hub was never initialised."""
        row = self.db.one("SELECT to_regclass('checklist_hub.schema_version') IS NOT NULL")
        if not row or not row[0]:
            return 0
        found = self.db.one("SELECT coalesce(max(version), 0) FROM checklist_hub.schema_version")
        return int(found[0]) if found else 0

    def init(self, *, target: int | None = None, timezone: str | None = None) -> int:
        """Create the hub's schema and roles, or upgrade them to `target` (default: the latest).

        Idempotent; one transaction, so a failure leaves the hub as it was. Refuses a hub whose
        schema is newer than this program knows. `timezone` (the department's, for service dates)
        is set when the hub is created: by default the server's TimeZone.
        """
        target = LATEST if target is None else target
        if not 1 <= target <= LATEST:
            raise ValueError(f"target: this program knows hub schema versions 1 to {LATEST}")
        with self.db.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", [_INIT_LOCK])
            database = self._check_server(db)
            current = self.schema_version()
            if current > LATEST:
                raise HubSchemaMismatch(
                    f"The hub at {db.where} has schema version {current}, newer than this program knows "
                    f"({LATEST}). Nothing was changed; use the newer program."
                )
            if target < current:
                raise HubSchemaMismatch(f"The hub is already at schema version {current}; it never goes back.")
            if timezone is not None and current > 0:
                raise ValueError("timezone: the department's time zone is set when the hub is created")
            rooms = self._rooms_role(db, database, current)
            for migration in MIGRATIONS[current:target]:
                db.script(migration.sql.replace(ROOMS_TOKEN, db.ident(rooms)))
                if migration.version == 1:
                    zone = self._zone(db, timezone)
                    db.execute(
                        "INSERT INTO checklist_hub.settings VALUES ('rooms_role', %s), ('timezone', %s)", [rooms, zone]
                    )
                db.execute(
                    "INSERT INTO checklist_hub.schema_version (version, title) VALUES (%s, %s)",
                    [migration.version, migration.title],
                )
            db.execute(f"GRANT CONNECT ON DATABASE {db.ident(database)} TO {db.ident(rooms)}")
        return max(current, target)

    @staticmethod
    def _check_server(db: PgSession) -> str:
        row = db.one(
            "SELECT current_setting('server_version_num')::integer, current_setting('server_encoding'), "
            "current_database()"
        )
        assert row is not None
        version, encoding, database = row
        if version < MIN_SERVER or encoding != "UTF8":
            raise HubRejected(
                f"The hub at {db.where} needs PostgreSQL 13 or later with UTF8 encoding "
                f"(it has {version // 10000}, {encoding}). Nothing was changed."
            )
        return str(database)

    @staticmethod
    def _rooms_role(db: PgSession, database: str, current: int) -> str:
        if current > 0:
            row = db.one("SELECT value FROM checklist_hub.settings WHERE key = 'rooms_role'")
            if row is None:
                raise HubCorrupt(f"The hub at {db.where} has lost its settings (no rooms_role).")
            return str(row[0])
        try:
            rooms = rooms_role_for(database)
        except ValueError as exc:
            raise HubRejected(f"Cannot set up this database as a hub: {exc}.") from None
        if db.one("SELECT 1 FROM pg_roles WHERE rolname = %s", [rooms]) is None:
            db.execute(f"CREATE ROLE {db.ident(rooms)} NOLOGIN")
        return rooms

    @staticmethod
    def _zone(db: PgSession, timezone: str | None) -> str:
        if timezone is None:
            row = db.one("SELECT current_setting('TimeZone')")
            return str(row[0]) if row else "UTC"
        if db.one("SELECT 1 FROM pg_timezone_names WHERE name = %s", [timezone]) is None:
            raise ValueError(f"timezone: '{timezone}' is not a time zone the server knows (e.g. 'Europe/Paris')")
        return timezone

    # -- rooms -----------------------------------------------------------------------------------

    def create_room(self, room: str, password: str, *, role: str | None = None) -> str:
        """Make a room's login role (member of the rooms' group) and register it; returns its name.

        Only a SCRAM verifier of the password is sent to the server. The room keeps the password in
        its site configuration (or ~/.pgpass), never in its checklist database.
        """
        _check_room(room)
        _check_password(password)
        with self.db.transaction() as db:
            rooms = self._setting(db, "rooms_role")
            database = db.one("SELECT current_database()")
            role = role or room_role_for(str(database[0] if database else ""), room)
            existing = db.one("SELECT role_name FROM checklist_hub.rooms WHERE code = %s", [room])
            if existing is not None:
                raise HubRejected(f"Room {room} already exists (login {existing[0]}); set a new password instead.")
            if db.one("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) is not None:
                raise HubRejected(f"A role named {role} already exists; choose another login name for room {room}.")
            verifier = db.password_verifier(role, password)
            db.execute(f"CREATE ROLE {db.ident(role)} LOGIN PASSWORD {db.literal(verifier)} IN ROLE {db.ident(rooms)}")
            db.execute("INSERT INTO checklist_hub.rooms (code, role_name) VALUES (%s, %s)", [room, role])
        return role

    def set_room_password(self, room: str, password: str) -> None:
        _check_password(password)
        with self.db.transaction() as db:
            role = self._room_role(db, room)
            db.execute(f"ALTER ROLE {db.ident(role)} LOGIN PASSWORD {db.literal(db.password_verifier(role, password))}")

    def disable_room(self, room: str) -> None:
        """The room can no longer log in; everything it pushed stays."""
        with self.db.transaction() as db:
            db.execute(f"ALTER ROLE {db.ident(self._room_role(db, room))} NOLOGIN")

    def rooms(self) -> dict[str, str]:
        """{room code: login role} of every room registered on the hub."""
        return {code: role for code, role in self.db.rows("SELECT code, role_name FROM checklist_hub.rooms")}

    @staticmethod
    def _room_role(db: PgSession, room: str) -> str:
        row = db.one("SELECT role_name FROM checklist_hub.rooms WHERE code = %s", [room])
        if row is None:
            raise HubRejected(f"There is no room {room} on the hub.")
        return str(row[0])

    @staticmethod
    def _setting(db: PgSession, key: str) -> str:
        row = db.one("SELECT value FROM checklist_hub.settings WHERE key = %s", [key])
        if row is None:
            raise HubSchemaMismatch(f"The hub at {db.where} is not initialised; run init first.")
        return str(row[0])

    # -- shared directories ----------------------------------------------------------------------

    def add_person(self, person_id: str, name: str, role: str, pin_hash: str | None = None) -> DirectoryEntry:
        """Add someone to the staff directory; `pin_hash` is domain.pins.hash_pin's output, never a PIN."""
        body = {"person_id": person_id, "name": name, "role": role, "pin_hash": pin_hash}
        return self._append_staff(PERSON_ADDED, body)

    def change_pin(self, person_id: str, pin_hash: str | None) -> DirectoryEntry:
        return self._append_staff(PIN_CHANGED, {"person_id": person_id, "pin_hash": pin_hash})

    def deactivate(self, person_id: str) -> DirectoryEntry:
        return self._append_staff(DEACTIVATED, {"person_id": person_id})

    def reactivate(self, person_id: str) -> DirectoryEntry:
        return self._append_staff(REACTIVATED, {"person_id": person_id})

    def publish_catalogue(self, version: str, toml_text: str) -> DirectoryEntry:
        """A new catalogue version (the whole products TOML), refused unless the program can load it."""
        body = catalogue_version(version, toml_text)
        return self._append(CATALOGUE, CATALOGUE_VERSION, lambda _: body)

    def _append_staff(self, kind: str, body: Mapping[str, Any]) -> DirectoryEntry:
        return self._append(STAFF, kind, lambda entries: staff_change(fold_staff(entries), kind, body))

    def _append(
        self, directory: str, kind: str, make_body: Callable[[Sequence[DirectoryEntry]], Mapping[str, Any]]
    ) -> DirectoryEntry:
        """Read the chain, check it, build the next entry and insert it, in one locked transaction."""
        with self.db.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_DIRECTORY_LOCK, 1 if directory == STAFF else 2])
            rows = db.rows(
                "SELECT seq, hash, canonical FROM checklist_hub.directory WHERE directory = %s ORDER BY seq",
                [directory],
            )
            try:
                entries = [entry_from_row(directory, seq, text, hash_) for seq, hash_, text in rows]
                check_chain(entries)
            except (ValueError, KeyError, TypeError) as exc:
                raise HubCorrupt(f"The hub's {directory} directory does not verify: {exc}.") from None
            body = make_body(entries)
            seq, prev = (entries[-1].seq, entries[-1].hash) if entries else (0, GENESIS_HASH)
            text, hash_ = build_entry(directory, seq + 1, kind, body, prev, self.clock.now())
            db.execute(
                "INSERT INTO checklist_hub.directory (directory, seq, kind, prev_hash, hash, canonical) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [directory, seq + 1, kind, prev, hash_, text],
            )
        return entry_from_row(directory, seq + 1, text, hash_)


def init_hub(admin_url: str, *, target: int | None = None, timezone: str | None = None) -> int:
    """Create or upgrade the hub at `admin_url`; returns its schema version."""
    with HubAdmin(admin_url) as admin:
        return admin.init(target=target, timezone=timezone)


def create_room(admin_url: str, room: str, password: str, *, role: str | None = None) -> str:
    """Make room `room`'s login on the hub at `admin_url`; returns the login role's name."""
    with HubAdmin(admin_url) as admin:
        return admin.create_room(room, password, role=role)


def _check_room(room: str) -> None:
    if not isinstance(room, str) or not re.fullmatch(ROOM_CODE_PATTERN, room):
        raise ValueError("room: 1 to 32 letters, digits, '-' or '_', starting with a letter or digit")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
