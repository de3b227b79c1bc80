"""The hub's schema: created and upgraded by numbered migrations, recorded, and never run backwards."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import psycopg
import pytest

from checklist_app.sync.errors import HubSchemaMismatch
from checklist_app.sync.hub import Hub
from checklist_app.sync.hub_schema import LATEST, MIGRATIONS
from checklist_app.sync.wire import to_wire
from tests.hub.hub_helpers import synthetic_case


def versions(env) -> list[int]:
    with env.superuser() as conn:
        return [row[0] for row in conn.execute("SELECT version FROM checklist_hub.schema_version ORDER BY 1")]


def test_init_creates_every_migration_once_and_running_it_again_changes_nothing(blank):
    with blank.admin() as admin:
        assert admin.schema_version() == 0
        assert admin.init() == LATEST
        assert admin.init() == LATEST
        assert admin.schema_version() == LATEST
    assert versions(blank) == [m.version for m in MIGRATIONS]
    with blank.superuser() as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'checklist_hub'")}
        owner = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'checklist_hub'"
        ).fetchone()
    assert tables == {"schema_version", "settings", "rooms", "cases", "events", "forks", "directory"}
    assert owner == ("hub_admin",), "the admin role that ran init owns the hub, not the superuser"


def test_an_older_hub_is_upgraded_in_place_and_keeps_its_records(blank):
    with blank.admin() as admin:
        assert admin.init(target=1) == 1
    blank.add_room("A")
    events = synthetic_case("A-1", 5)
    with Hub(blank.room_url("A")) as hub, pytest.raises(HubSchemaMismatch, match="DBA upgrades the hub"):
        hub.push("A", "A-1", events)

    # What an older program would have pushed, through the version 1 function.
    wire = to_wire("A-1", events)
    with psycopg.connect(blank.room_url("A"), autocommit=True) as conn:
        conn.execute(
            "SELECT * FROM checklist_hub.push_events('A', 'A-1', %s, %s, %s)",
            [[w.seq for w in wire], [w.hash for w in wire], [w.canonical for w in wire]],
        )

    with blank.admin() as admin:
        assert admin.init() == LATEST
        admin.add_person("p1", "Nurse Dana Demo", "nurse")
    assert versions(blank) == [m.version for m in MIGRATIONS]
    with Hub(blank.room_url("A")) as hub:
        assert hub.heads("A") == {"A-1": (5, events[-1].hash)}
        assert [entry.body["name"] for entry in hub.pull_staff()] == ["Nurse Dana Demo"]


def test_a_hub_newer_than_the_program_is_refused_and_left_alone(env):
    with env.superuser() as conn:
        conn.execute(
            "INSERT INTO checklist_hub.schema_version (version, title) VALUES (%s, 'from the future')", [LATEST + 1]
        )
    with (
        env.admin() as admin,
        pytest.raises(HubSchemaMismatch, match=f"version {LATEST + 1}, newer .*Nothing was changed"),
    ):
        admin.init()
    assert versions(env) == [*range(1, LATEST + 1), LATEST + 1]
    with env.hub("A") as hub, pytest.raises(HubSchemaMismatch, match="Update the program"):
        hub.heads("A")


def test_a_database_that_is_not_a_hub_is_refused_with_what_to_do(blank):
    refused = "no checklist schema.*DBA sets the hub up first"
    with Hub(blank.admin_url) as hub, pytest.raises(HubSchemaMismatch, match=refused):
        hub.cases()


def test_two_inits_at_once_run_the_migrations_once(blank):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def init():
        try:
            with blank.admin() as admin:
                barrier.wait()
                results.append(admin.init())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=init) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [LATEST, LATEST]
    assert versions(blank) == [m.version for m in MIGRATIONS]


def test_service_dates_are_days_in_the_departments_time_zone(blank):
    with blank.admin() as admin:
        admin.init(timezone="Pacific/Auckland")
    blank.add_room("A")
    late_evening_utc = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # already 3 March in Auckland
    with blank.hub("A") as hub:
        hub.push("A", "A-1", synthetic_case("A-1", 2, start=late_evening_utc))
        assert hub.cases()[0].service_date == date(2026, 3, 3)


def test_init_refuses_an_unknown_time_zone_or_a_late_one(blank):
    with blank.admin() as admin:
        with pytest.raises(ValueError, match="timezone: 'Mars/Olympus' is not a time zone"):
            admin.init(timezone="Mars/Olympus")
        assert admin.schema_version() == 0, "a refused init leaves nothing behind"
        admin.init(timezone="Europe/Paris")
        with pytest.raises(ValueError, match="set when the hub is created"):
            admin.init(timezone="UTC")
