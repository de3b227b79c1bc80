"""A real PostgreSQL 16 for the hub tests (pgserver's own binaries), one per session, and helpers.

Room logins must give their password (SCRAM); only the bootstrap superuser connects by trust, over
the server's Unix socket. Every test gets a fresh database owned by a non-superuser admin role with
CREATEROLE, as the DBA guide in docs/hub.md sets it up, so nothing leaks between tests.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from checklist_app.domain.clock import FakeClock
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.sync.hub import Hub
from checklist_app.sync.hub_admin import HubAdmin
from tests.conftest import enrol_team
from tests.hub.hub_helpers import START

with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset (root, no session)
    warnings.simplefilter("ignore")
    import pgserver

ADMIN, ADMIN_PASSWORD = "hub_admin", "admin-password-for-tests"
ROOM_PASSWORD = "room-password-for-tests"
HBA = """\
# tests/hub/conftest.py: the bootstrap superuser by trust on the socket; everyone else by password.
local   all     postgres                trust
local   all     all                     scram-sha-256
host    all     all     127.0.0.1/32    scram-sha-256
"""


class Cluster:
    """The test PostgreSQL server: URLs, fresh databases, and a hard stop and a restart."""

    def __init__(self, server: pgserver.PostgresServer) -> None:
        self.server = server
        self.pgdata = Path(server.pgdata)
        self.socket_dir = str(server.get_postmaster_info().socket_dir)
        self._names = itertools.count(1)

    def url(self, user: str, password: str | None = None, dbname: str = "postgres", **extra: object) -> str:
        return make_conninfo(host=self.socket_dir, dbname=dbname, user=user, password=password or "", **extra)

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url("postgres", dbname=dbname), autocommit=True)

    def new_database(self) -> str:
        name = f"hub_{next(self._names)}"
        with self.superuser() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {ADMIN}')
        return name

    def stop_immediately(self) -> None:
        """The postmaster and every backend killed at once, no checkpoint: a crash, as far as data goes."""
        pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start again on the same data and socket (crash recovery runs first); waits until ready."""
        self.server.ensure_postgres_running()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    # Not under pytest's private (0700) temporary folders: the server runs as another user
    # (pgserver's "pgserver" account when tests run as root) and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="checklist-hubpg-"))
    folder.chmod(0o755)
    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    (Path(server.pgdata) / "pg_hba.conf").write_text(HBA)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        # Test speed only: a killed server (the crash tests) loses nothing without fsync, since the
        # operating system keeps what was written; only a machine crash would need it.
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET full_page_writes = off")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE PASSWORD '{ADMIN_PASSWORD}'")
    cluster = Cluster(server)
    yield cluster
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class HubEnv:
    """One test's hub database: its admin URL and room URLs."""

    cluster: Cluster
    database: str

    @property
    def admin_url(self) -> str:
        return self.cluster.url(ADMIN, ADMIN_PASSWORD, self.database)

    def admin(self, **options) -> HubAdmin:
        return HubAdmin(self.admin_url, **options)

    def add_room(self, room: str) -> str:
        """Create room `room` on the hub and return its login URL."""
        with self.admin() as admin:
            role = admin.create_room(room, ROOM_PASSWORD)
        return self.cluster.url(role, ROOM_PASSWORD, self.database)

    def room_url(self, room: str, password: str = ROOM_PASSWORD) -> str:
        return self.cluster.url(f"{self.database}_room_{room}".lower(), password, self.database)

    def hub(self, room: str, **options) -> Hub:
        return Hub(self.room_url(room), **options)

    def superuser(self) -> psycopg.Connection:
        return self.cluster.superuser(self.database)


@pytest.fixture
def blank(cluster) -> HubEnv:
    """A fresh database owned by the admin role, not yet a hub."""
    return HubEnv(cluster, cluster.new_database())


@pytest.fixture
def make_env(cluster) -> Callable[[], HubEnv]:
    """make_env() -> a new initialised hub (department time zone UTC) with rooms A and B."""

    def make() -> HubEnv:
        env = HubEnv(cluster, cluster.new_database())
        with env.admin() as admin:
            admin.init(timezone="UTC")
        env.add_room("A")
        env.add_room("B")
        return env

    return make


@pytest.fixture
def env(make_env) -> HubEnv:
    """An initialised hub (department time zone UTC) with rooms A and B."""
    return make_env()


@pytest.fixture
def hub_a(env) -> Iterator[Hub]:
    with env.hub("A") as hub:
        yield hub


@pytest.fixture
def hub_b(env) -> Iterator[Hub]:
    with env.hub("B") as hub:
        yield hub


# -- rooms' local records ---------------------------------------------------------------------------


@pytest.fixture
def room_service(tmp_path) -> Iterator[Callable[..., tuple[ChecklistService, FakeClock]]]:
    """room_service(name) -> (ChecklistService, FakeClock) on a real store in tmp_path."""
    opened: list[ChecklistService] = []

    def make(name: str, start: datetime = START) -> tuple[ChecklistService, FakeClock]:
        clock = FakeClock(start)
        service = ChecklistService(open_store(tmp_path / name / "checklist.sqlite3"), clock=clock)
        opened.append(service)
        enrol_team(service)  # signers come from the staff directory (SPEC §6, issue 12)
        return service, clock

    yield make
    for service in opened:
        service.close()
