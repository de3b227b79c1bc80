"""The PostgreSQL adapter: the only module that imports psycopg.

`PgSession` is one lazily opened connection with short timeouts, whose every failure comes out as a
HubError of the right class (errors.classify). A connection that failed is dropped, so the next call
connects afresh: a hub that restarted, or a failover to a standby promoted in its place, needs
nothing from the caller but a retry. One session per thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from checklist_app.sync.errors import HubBug, HubError, HubRejected, HubUnavailable, classify

log = logging.getLogger("checklist_app.sync")

CONNECT_TIMEOUT_S = 5  # libpq's floor is 2 s
STATEMENT_TIMEOUT_MS = 15_000
LOCK_TIMEOUT_MS = 5_000  # waiting behind another push of the same case
IDLE_IN_TRANSACTION_MS = 30_000  # the server frees a killed client's case lock after this
APPLICATION_NAME = "checklist-app"
_KEEPALIVES = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5", "keepalives_count": "3"}


class PgSession:
    """One connection to the hub, opened on first use; `on_connect` runs once per new connection."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT_S,
        statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
        lock_timeout_ms: int = LOCK_TIMEOUT_MS,
        application_name: str = APPLICATION_NAME,
        on_connect: Callable[[PgSession], None] | None = None,
        password: str | None = None,
    ) -> None:
        """`password`, if given, replaces any in `url` (rooms keep theirs in a 0600 file or the
        environment, never in the URL or the room's database)."""
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error:
            raise HubRejected("The hub address is not a valid PostgreSQL URL or connection string.") from None
        self.where = _where(params)
        if password is not None:
            params["password"] = password
        params.setdefault("connect_timeout", str(connect_timeout))
        params.setdefault("application_name", application_name)
        timeouts = (
            f"-c statement_timeout={int(statement_timeout_ms)} -c lock_timeout={int(lock_timeout_ms)} "
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
        )
        params["options"] = f"{params['options']} {timeouts}" if params.get("options") else timeouts
        # A hub that vanished mid-statement is noticed within about 25 s even without a reply.
        for key, value in _KEEPALIVES.items():
            params.setdefault(key, value)
        self._conninfo = make_conninfo("", **params)
        self._conn: psycopg.Connection[Any] | None = None
        self._on_connect = on_connect
        self._depth = 0  # open transaction() blocks

    # -- plumbing ----------------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            with self._translated(connecting=True):
                # No server-side prepared statements: they break behind a transaction-pooling
                # pgbouncer, and each statement here runs too rarely to gain from them.
                self._conn = psycopg.connect(self._conninfo, autocommit=True, prepare_threshold=None)
            log.info("connected to the hub at %s", self.where)
            if self._on_connect is not None:
                try:
                    self._on_connect(self)
                except BaseException:
                    self.close()
                    raise
        return self._conn

    @contextmanager
    def _translated(self, *, connecting: bool = False) -> Iterator[None]:
        """psycopg errors out as HubErrors. After a transient failure the connection is dropped (once
        outside any transaction, whose rollback must run first): the next call starts afresh."""
        try:
            yield
        except HubError as failure:
            if isinstance(failure, HubUnavailable) and not self._depth:
                self.close()
            raise
        except psycopg.Error as exc:
            error = translate(exc, self.where, connecting=connecting)
            if (isinstance(error, HubUnavailable) or isinstance(exc, psycopg.OperationalError)) and not self._depth:
                self.close()
            log.warning("hub failure (%s): %s", type(error).__name__, error)
            raise error from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(psycopg.Error):  # a broken connection may fail to close; it is gone either way
                conn.close()

    # -- statements ------------------------------------------------------------------------------

    def rows(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one statement (autocommit, or inside `transaction()`)."""
        conn = self._connection()
        with self._translated():
            return conn.execute(query.encode("utf-8"), params or None).fetchall()

    def one(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple[Any, ...] | None:
        found = self.rows(query, params)
        return found[0] if found else None

    def execute(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        conn = self._connection()
        with self._translated():
            conn.execute(query.encode("utf-8"), params or None)

    def script(self, text: str) -> None:
        """Several statements at once (a migration): sent as they are, with no parameters."""
        conn = self._connection()
        with self._translated():
            conn.execute(text.encode("utf-8"))

    @contextmanager
    def transaction(self) -> Iterator[PgSession]:
        """BEGIN ... COMMIT; any error rolls back. A failed COMMIT leaves the outcome unknown: the
        caller finds out from the hub (every write here is idempotent or checked)."""
        conn = self._connection()
        with self._translated():
            self._depth += 1
            try:
                with conn.transaction():
                    yield self
            finally:
                self._depth -= 1

    # -- quoting, for DDL (which takes no parameters) --------------------------------------------

    def ident(self, name: str) -> str:
        return sql.Identifier(name).as_string(self._connection())

    def literal(self, value: str) -> str:
        return sql.Literal(value).as_string(self._connection())

    def password_verifier(self, role: str, password: str) -> str:
        """The SCRAM verifier of a password, made here so the password itself never reaches the
        server, its logs or its statistics."""
        conn = self._connection()
        with self._translated():
            verifier = conn.pgconn.encrypt_password(password.encode("utf-8"), role.encode("utf-8"), b"scram-sha-256")
        return verifier.decode("ascii")


def translate(exc: psycopg.Error, where: str, *, connecting: bool = False) -> HubError:
    """The HubError for a psycopg error: classified, one line, no DETAIL (it can quote row values)."""
    sqlstate = getattr(exc, "sqlstate", None)
    primary = exc.diag.message_primary if sqlstate else None
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    lost = isinstance(exc, psycopg.OperationalError)
    if not isinstance(exc, psycopg.DatabaseError) or (sqlstate is None and not lost):
        return HubBug(f"Unexpected hub client error ({type(exc).__name__}) talking to {where}: {text}")
    kind = classify(sqlstate, text, connecting=connecting)
    if kind is HubUnavailable:
        return HubUnavailable(f"The hub at {where} is not available now ({text}); nothing is lost, it will be retried.")
    if kind is HubBug:
        return HubBug(f"Unexpected hub error {sqlstate} at {where}: {text}")
    return kind(f"The hub at {where} refused: {text}.")


def _where(params: dict[str, Any]) -> str:
    """host:port/database for messages: never the user's password."""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or '?'}"
