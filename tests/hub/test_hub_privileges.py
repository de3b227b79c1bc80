"""Least privilege, enforced by the server: a room writes only its own cases, through push_events."""

from __future__ import annotations

import psycopg
import pytest

from checklist_app.sync.errors import HubBug, HubSchemaMismatch, NotPermitted, OtherRoomsCase
from checklist_app.sync.hub import Hub
from tests.hub.conftest import ROOM_PASSWORD
from tests.hub.hub_helpers import synthetic_case

FORGED = "INSERT INTO checklist_hub.events (case_id, seq, kind, clinical_time, recorded_time, actor, prev_hash, hash, "


def test_a_room_cannot_push_in_another_rooms_name(env, hub_a):
    with pytest.raises(NotPermitted, match="belongs to room A, not to room B"):
        hub_a.push("B", "B-1", synthetic_case("B-1", 3))
    assert hub_a.heads("B") == {}


def test_a_room_cannot_add_to_a_case_another_room_pushed(env, hub_a, hub_b):
    hub_a.push("A", "X-1", synthetic_case("X-1", 3))
    with pytest.raises(OtherRoomsCase, match="X-1 is already on the hub for room A"):
        hub_b.push("B", "X-1", synthetic_case("X-1", 5))
    assert hub_b.heads_of(["X-1"]) == {"X-1": (3, synthetic_case("X-1", 3)[-1].hash)}


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO checklist_hub.cases (case_id, room) VALUES ('A-9', 'A')",
        "UPDATE checklist_hub.events SET actor = 'someone else'",
        "DELETE FROM checklist_hub.events",
        "TRUNCATE checklist_hub.events",
        "UPDATE checklist_hub.cases SET head_seq = 1",
        "DELETE FROM checklist_hub.forks",
        "INSERT INTO checklist_hub.rooms (code, role_name) VALUES ('Z', 'postgres')",
        "INSERT INTO checklist_hub.directory (directory, seq, kind, prev_hash, hash, canonical) "
        "VALUES ('staff', 1, 'person_added', '', '', '{}')",
        "ALTER TABLE checklist_hub.events DISABLE TRIGGER events_append_only",
        "ALTER TABLE checklist_hub.cases ADD COLUMN note text",
        "DROP TABLE checklist_hub.forks",
        "CREATE TABLE checklist_hub.mine (x int)",
        "CREATE OR REPLACE FUNCTION checklist_hub.next_status(text, text, text) RETURNS text "
        "LANGUAGE sql AS $$ SELECT 'x' $$",
        "SELECT checklist_hub.project_setup('A-1', '{}'::json, now())",
        "ALTER FUNCTION checklist_hub.push_events(text, text, integer[], text[], text[]) SECURITY INVOKER",
    ],
)
def test_a_room_login_can_neither_write_tables_nor_change_the_schema(env, hub_a, statement):
    hub_a.push("A", "A-1", synthetic_case("A-1", 2))
    with pytest.raises(NotPermitted):
        hub_a.db.execute(statement)
    assert hub_a.heads("A") == {"A-1": (2, synthetic_case("A-1", 2)[-1].hash)}


def test_a_room_login_cannot_insert_an_event_directly(env, hub_a):
    hub_a.push("A", "A-1", synthetic_case("A-1", 2))
    with pytest.raises(NotPermitted, match="permission denied for table events"):
        hub_a.db.execute(FORGED + "canonical, room) VALUES ('A-1', 3, 'x', now(), now(), 'a', '', '', '', 'A')")


def test_events_are_append_only_for_the_owner_too(env, hub_a):
    hub_a.push("A", "A-1", synthetic_case("A-1", 2))
    with env.admin() as admin:
        for statement in ("UPDATE checklist_hub.events SET actor = 'x'", "DELETE FROM checklist_hub.events"):
            with pytest.raises(NotPermitted, match="append-only"):
                admin.db.execute(statement)
        admin.add_person("p1", "Nurse One", "nurse")
        with pytest.raises(NotPermitted, match="append-only"):
            admin.db.execute("TRUNCATE checklist_hub.directory")
    assert hub_a.heads("A") == {"A-1": (2, synthetic_case("A-1", 2)[-1].hash)}


def test_the_room_password_is_checked_and_only_its_verifier_is_stored(env):
    with Hub(env.room_url("A", password="not-the-password")) as hub, pytest.raises(NotPermitted, match="password"):
        hub.heads("A")
    with env.superuser() as conn:
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [f"{env.database}_room_a"])
        assert stored.fetchone()[0].startswith("SCRAM-SHA-256$")
    with env.admin() as admin:
        admin.set_room_password("A", "a-brand-new-password")
    with Hub(env.room_url("A", password="a-brand-new-password")) as hub:
        assert hub.heads("A") == {}


def test_a_disabled_room_can_no_longer_log_in_and_its_cases_stay(env, hub_a):
    hub_a.push("A", "A-1", synthetic_case("A-1", 2))
    hub_a.close()
    with env.admin() as admin:
        admin.disable_room("A")
    with env.hub("A") as hub, pytest.raises(NotPermitted, match="not permitted to log in"):
        hub.heads("A")
    with env.hub("B") as hub:
        assert [case.case_id for case in hub.cases(room="A")] == ["A-1"]


def test_only_the_admin_makes_rooms_and_names_are_checked(env, hub_a):
    with env.admin() as admin:
        with pytest.raises(ValueError, match="room: 1 to 32 letters"):
            admin.create_room("no spaces", "long-enough-password")
        with pytest.raises(ValueError, match="password: at least 12"):
            admin.create_room("C", "short")
        with pytest.raises(Exception, match="Room A already exists"):
            admin.create_room("A", "long-enough-password")
        assert admin.rooms() == {"A": f"{env.database}_room_a", "B": f"{env.database}_room_b"}
    with pytest.raises(NotPermitted):
        hub_a.db.execute("CREATE ROLE intruder LOGIN")


def test_rooms_of_one_hub_database_cannot_read_another(cluster, env, make_env):
    """Roles are cluster-wide; each hub database has its own rooms' group, so no reading across."""
    second = make_env()
    with second.hub("A") as hub:
        hub.push("A", "A-1", synthetic_case("A-1", 2))
    first_rooms_login_on_second = cluster.url(f"{env.database}_room_a", ROOM_PASSWORD, second.database)
    with Hub(first_rooms_login_on_second) as hub, pytest.raises(HubSchemaMismatch, match="may not read it"):
        hub.cases()
    with psycopg.connect(first_rooms_login_on_second) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM checklist_hub.cases")


def test_error_messages_never_quote_row_values(env):
    with env.admin() as admin, pytest.raises(HubBug) as refused:
        admin.db.execute("INSERT INTO checklist_hub.rooms (code, role_name) VALUES ('A', 'Alba Example')")
    assert "duplicate key" in str(refused.value)
    assert "Alba" not in str(refused.value) and "(code)=" not in str(refused.value)
