"""The hub's PostgreSQL schema as numbered migrations (SQL text only; hub_pg.py runs them).

Everything lives in the schema `checklist_hub`, owned by the admin role that ran `init`. Rooms log in
as their own roles, members of one group role per hub database (its name is recorded in
`settings.rooms_role`; roles are cluster-wide, so the group is named after the database). The group
may read every table (the department's views) and call `push_events`; it holds no INSERT, UPDATE,
DELETE or TRUNCATE privilege on any table. `push_events` is SECURITY DEFINER: it runs as the owner,
takes the room from `session_user` (which no SET ROLE changes), and writes only that room's cases.

`@ROOMS@` in the text stands for the group role's quoted identifier.
Append only: never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = "checklist_hub"
ROOMS_TOKEN = "@ROOMS@"
ROOM_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1, in bytes


@dataclass(frozen=True)
class Migration:
    """One numbered step of the hub schema."""

    version: int
    title: str
    sql: str


_CORE = r"""
CREATE SCHEMA checklist_hub;
REVOKE ALL ON SCHEMA checklist_hub FROM PUBLIC;
GRANT USAGE ON SCHEMA checklist_hub TO @ROOMS@;

CREATE TABLE checklist_hub.schema_version (
    version integer PRIMARY KEY,
    title text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by name NOT NULL DEFAULT session_user
);
CREATE TABLE checklist_hub.settings (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE checklist_hub.rooms (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
    role_name name NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per case: who pushed it, its chain head, and a projection for the department's list.
CREATE TABLE checklist_hub.cases (
    case_id text PRIMARY KEY CHECK (length(case_id) BETWEEN 1 AND 200),
    room text NOT NULL REFERENCES checklist_hub.rooms (code),
    service_date date,
    patient_name text,
    mrn text,
    procedure text,
    levels text,
    status text NOT NULL DEFAULT 'in_progress',
    head_seq integer NOT NULL DEFAULT 0,
    head_hash text NOT NULL DEFAULT repeat('0', 64),
    last_event_time timestamptz,
    first_pushed timestamptz NOT NULL DEFAULT now(),
    last_pushed timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_by_date ON checklist_hub.cases (service_date DESC, case_id DESC);
CREATE INDEX cases_by_room_date ON checklist_hub.cases (room, service_date DESC, case_id DESC);

-- The events exactly as the rooms hashed them: `canonical` is the hashed text, so the hub can
-- re-verify every chain at any time without trusting the extracted columns.
CREATE TABLE checklist_hub.events (
    case_id text NOT NULL REFERENCES checklist_hub.cases (case_id),
    seq integer NOT NULL CHECK (seq >= 1),
    kind text NOT NULL,
    clinical_time timestamptz NOT NULL,
    recorded_time timestamptz NOT NULL,
    actor text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL CHECK (hash = encode(sha256(convert_to(canonical, 'UTF8')), 'hex')),
    canonical text NOT NULL,
    room text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq)
);

-- A different event offered at a seq the hub already holds: refused, kept here for the department.
CREATE TABLE checklist_hub.forks (
    id bigserial PRIMARY KEY,
    case_id text NOT NULL REFERENCES checklist_hub.cases (case_id),
    seq integer NOT NULL,
    room text NOT NULL,
    hub_hash text NOT NULL,
    offered_hash text NOT NULL,
    offered_canonical text NOT NULL,
    first_offered timestamptz NOT NULL DEFAULT now(),
    last_offered timestamptz NOT NULL DEFAULT now(),
    offers integer NOT NULL DEFAULT 1,
    UNIQUE (case_id, seq, offered_hash)
);

CREATE FUNCTION checklist_hub.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'the hub''s % table is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'HUB09';
END
$fn$;
REVOKE ALL ON FUNCTION checklist_hub.refuse_change() FROM PUBLIC;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON checklist_hub.events
    FOR EACH ROW EXECUTE FUNCTION checklist_hub.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON checklist_hub.events
    FOR EACH STATEMENT EXECUTE FUNCTION checklist_hub.refuse_change();

-- The only way a room writes. One call is one transaction: every event is checked, and either
-- the new ones are all stored or (chain broken) none is. A fork is recorded and reported in the
-- result without raising, so its record commits.
CREATE FUNCTION checklist_hub.push_events(
    p_room text, p_case_id text, p_seqs integer[], p_hashes text[], p_canonicals text[]
) RETURNS TABLE (outcome text, accepted integer, skipped integer, head_seq integer, head_hash text,
                 fork_seq integer, fork_hub_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_room text;
    v_case record;
    v_n integer := coalesce(cardinality(p_seqs), 0);
    v_head_seq integer;
    v_head_hash text;
    v_status text;
    v_last timestamptz;
    v_hash text;
    v_existing text;
    v_doc json;
    v_kind text;
    v_clinical timestamptz;
    v_recorded timestamptz;
    v_accepted integer := 0;
    v_skipped integer := 0;
BEGIN
    SELECT r.code INTO v_room FROM checklist_hub.rooms r WHERE r.role_name = session_user;
    IF v_room IS NULL THEN
        RAISE EXCEPTION 'the login % is not a room of this hub', session_user USING ERRCODE = '42501';
    END IF;
    IF v_room IS DISTINCT FROM p_room THEN
        RAISE EXCEPTION 'this login belongs to room %, not to room %', v_room, p_room USING ERRCODE = '42501';
    END IF;
    IF v_n NOT BETWEEN 1 AND 1000 OR cardinality(p_hashes) <> v_n OR cardinality(p_canonicals) <> v_n THEN
        RAISE EXCEPTION 'push_events takes 1 to 1000 events with one seq, hash and text each'
            USING ERRCODE = '22023';
    END IF;

    INSERT INTO checklist_hub.cases (case_id, room) VALUES (p_case_id, v_room)
        ON CONFLICT (case_id) DO NOTHING;
    -- The case row is the per-case lock: racing pushes of one case queue here.
    SELECT c.room, c.head_seq, c.head_hash, c.status, c.last_event_time INTO v_case
        FROM checklist_hub.cases c WHERE c.case_id = p_case_id FOR UPDATE;
    IF v_case.room <> v_room THEN
        RAISE EXCEPTION 'case % is already on the hub for room %', p_case_id, v_case.room
            USING ERRCODE = 'HUB02';
    END IF;
    v_head_seq := v_case.head_seq;
    v_head_hash := v_case.head_hash;
    v_status := v_case.status;
    v_last := v_case.last_event_time;

    FOR i IN 1 .. v_n LOOP
        v_hash := encode(sha256(convert_to(p_canonicals[i], 'UTF8')), 'hex');
        IF p_seqs[i] IS NULL OR v_hash IS DISTINCT FROM p_hashes[i] THEN
            RAISE EXCEPTION 'case %: event % does not match its hash', p_case_id, p_seqs[i]
                USING ERRCODE = 'HUB01';
        END IF;
        IF p_seqs[i] <= v_head_seq THEN
            SELECT e.hash INTO v_existing FROM checklist_hub.events e
                WHERE e.case_id = p_case_id AND e.seq = p_seqs[i];
            IF v_existing = v_hash THEN
                v_skipped := v_skipped + 1;
                CONTINUE;
            END IF;
            INSERT INTO checklist_hub.forks AS f (case_id, seq, room, hub_hash, offered_hash, offered_canonical)
                VALUES (p_case_id, p_seqs[i], v_room, v_existing, v_hash, p_canonicals[i])
                ON CONFLICT (case_id, seq, offered_hash)
                DO UPDATE SET last_offered = now(), offers = f.offers + 1;
            RETURN QUERY SELECT 'fork'::text, v_accepted, v_skipped, v_head_seq, v_head_hash, p_seqs[i], v_existing;
            RETURN;
        END IF;
        IF p_seqs[i] <> v_head_seq + 1 THEN
            RAISE EXCEPTION 'case %: event % does not follow the hub''s last event %', p_case_id, p_seqs[i], v_head_seq
                USING ERRCODE = 'HUB01';
        END IF;
        BEGIN
            v_doc := p_canonicals[i]::json;
            v_kind := v_doc->>'kind';
            v_clinical := (v_doc->>'clinical_time')::timestamptz;
            v_recorded := (v_doc->>'recorded_time')::timestamptz;
            IF v_doc->>'case_id' IS DISTINCT FROM p_case_id OR (v_doc->>'seq')::integer IS DISTINCT FROM p_seqs[i]
               OR v_kind IS NULL OR v_clinical IS NULL OR v_recorded IS NULL OR v_doc->>'actor' IS NULL THEN
                RAISE EXCEPTION 'mismatch';
            END IF;
        EXCEPTION WHEN others THEN
            RAISE EXCEPTION 'case %: event % is not a readable event of this case', p_case_id, p_seqs[i]
                USING ERRCODE = 'HUB01';
        END;
        IF v_doc->>'prev_hash' IS DISTINCT FROM v_head_hash THEN
            RAISE EXCEPTION 'case %: event % does not link to the hub''s event % (prev_hash differs)',
                p_case_id, p_seqs[i], v_head_seq USING ERRCODE = 'HUB01';
        END IF;
        INSERT INTO checklist_hub.events
            (case_id, seq, kind, clinical_time, recorded_time, actor, prev_hash, hash, canonical, room)
            VALUES (p_case_id, p_seqs[i], v_kind, v_clinical, v_recorded, v_doc->>'actor', v_head_hash, v_hash,
                    p_canonicals[i], v_room);
        IF p_seqs[i] = 1 THEN
            PERFORM checklist_hub.project_setup(p_case_id, v_doc, v_clinical);
        END IF;
        v_status := checklist_hub.next_status(v_status, v_kind, v_doc->'values'->>'role');
        v_last := greatest(v_last, v_clinical);
        v_head_seq := p_seqs[i];
        v_head_hash := v_hash;
        v_accepted := v_accepted + 1;
    END LOOP;

    IF v_accepted > 0 THEN
        UPDATE checklist_hub.cases c
            SET head_seq = v_head_seq, head_hash = v_head_hash, status = v_status,
                last_event_time = v_last, last_pushed = now()
            WHERE c.case_id = p_case_id;
    END IF;
    RETURN QUERY SELECT 'ok'::text, v_accepted, v_skipped, v_head_seq, v_head_hash, NULL::integer, NULL::text;
END
$fn$;

-- The department's list columns, from the first event's set-up (patient, procedure, levels).
-- The service date is the first event's clinical day in the department's time zone (settings).
CREATE FUNCTION checklist_hub.project_setup(p_case_id text, p_doc json, p_started timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_setup json := p_doc->'values'->'setup';
    v_zone text;
BEGIN
    SELECT s.value INTO v_zone FROM checklist_hub.settings s WHERE s.key = 'timezone';
    UPDATE checklist_hub.cases c SET
        service_date = (p_started AT TIME ZONE coalesce(v_zone, 'UTC'))::date,
        patient_name = v_setup->'patient'->>'name',
        mrn = v_setup->'patient'->>'mrn',
        procedure = v_setup->>'procedure',
        levels = CASE WHEN json_typeof(v_setup->'levels') = 'array' THEN
            (SELECT string_agg(l.item->>'level', ' ' ORDER BY l.n)
               FROM json_array_elements(v_setup->'levels') WITH ORDINALITY AS l(item, n)) END
        WHERE c.case_id = p_case_id;
END
$fn$;

-- Status from the events alone: signatures and addenda. ("complete", all steps answered, needs the
-- procedure template, which the hub does not hold: such a case shows as in_progress here.)
CREATE FUNCTION checklist_hub.next_status(p_status text, p_kind text, p_role text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE
        WHEN p_kind = 'addendum' AND p_status IN ('signed', 'amended') THEN 'amended'
        WHEN p_kind = 'signature' AND p_role = 'operator' THEN 'signed'
        WHEN p_kind = 'signature' AND p_role = 'nurse' AND p_status = 'in_progress' THEN 'nurse_signed'
        ELSE p_status
    END
$fn$;

REVOKE ALL ON FUNCTION checklist_hub.push_events(text, text, integer[], text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION checklist_hub.project_setup(text, json, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION checklist_hub.next_status(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION checklist_hub.push_events(text, text, integer[], text[], text[]) TO @ROOMS@;
GRANT SELECT ON checklist_hub.schema_version, checklist_hub.settings, checklist_hub.rooms, checklist_hub.cases,
    checklist_hub.events, checklist_hub.forks TO @ROOMS@;
"""

_DIRECTORIES = r"""
-- Shared directories, one hash chain each: the staff directory (people, PIN-hash changes,
-- deactivations) and the product catalogue (versions). Only the owner (admin) may append.
CREATE TABLE checklist_hub.directory (
    directory text NOT NULL CHECK (directory IN ('staff', 'catalogue')),
    seq integer NOT NULL CHECK (seq >= 1),
    kind text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    canonical text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by name NOT NULL DEFAULT session_user,
    PRIMARY KEY (directory, seq)
);

CREATE FUNCTION checklist_hub.check_directory_entry() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_doc json;
    v_head record;
BEGIN
    IF NEW.hash IS DISTINCT FROM encode(sha256(convert_to(NEW.canonical, 'UTF8')), 'hex') THEN
        RAISE EXCEPTION '% entry % does not match its hash', NEW.directory, NEW.seq USING ERRCODE = 'HUB03';
    END IF;
    BEGIN
        v_doc := NEW.canonical::json;
        IF v_doc->>'directory' IS DISTINCT FROM NEW.directory OR (v_doc->>'seq')::integer IS DISTINCT FROM NEW.seq
           OR v_doc->>'kind' IS DISTINCT FROM NEW.kind OR v_doc->>'prev_hash' IS DISTINCT FROM NEW.prev_hash THEN
            RAISE EXCEPTION 'mismatch';
        END IF;
    EXCEPTION WHEN others THEN
        RAISE EXCEPTION '% entry % does not hold what its columns say', NEW.directory, NEW.seq
            USING ERRCODE = 'HUB03';
    END;
    SELECT d.seq, d.hash INTO v_head FROM checklist_hub.directory d
        WHERE d.directory = NEW.directory ORDER BY d.seq DESC LIMIT 1;
    IF NEW.seq <> coalesce(v_head.seq, 0) + 1 OR NEW.prev_hash <> coalesce(v_head.hash, repeat('0', 64)) THEN
        RAISE EXCEPTION '% entry % does not continue the directory (last is %)', NEW.directory, NEW.seq,
            coalesce(v_head.seq, 0) USING ERRCODE = 'HUB03';
    END IF;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION checklist_hub.check_directory_entry() FROM PUBLIC;
CREATE TRIGGER directory_chain BEFORE INSERT ON checklist_hub.directory
    FOR EACH ROW EXECUTE FUNCTION checklist_hub.check_directory_entry();
CREATE TRIGGER directory_append_only BEFORE UPDATE OR DELETE ON checklist_hub.directory
    FOR EACH ROW EXECUTE FUNCTION checklist_hub.refuse_change();
CREATE TRIGGER directory_no_truncate BEFORE TRUNCATE ON checklist_hub.directory
    FOR EACH STATEMENT EXECUTE FUNCTION checklist_hub.refuse_change();
GRANT SELECT ON checklist_hub.directory TO @ROOMS@;
"""


def _qualified_ids() -> str:
    """Migration 3: `push_events` also takes a case filed as `<room>/<id>` whose events name `<id>`.

    A room's cases made before it had a room code keep their ids (the id is in every hashed event);
    the hub files them under the room-qualified id (sync/case_ids.py). Only the pushing room's own
    code may qualify an id. The function is migration 1's, with that one condition widened: its
    text is taken from migration 1 (which never changes) so the two cannot drift apart.
    """
    start = _CORE.index("CREATE FUNCTION checklist_hub.push_events(")
    end = _CORE.index("$fn$;", _CORE.index("AS $fn$", start) + 7) + len("$fn$;")
    function = _CORE[start:end]
    narrow = "IF v_doc->>'case_id' IS DISTINCT FROM p_case_id OR"
    wide = (
        "IF (v_doc->>'case_id' IS DISTINCT FROM p_case_id\n"
        "                AND v_room || '/' || (v_doc->>'case_id') IS DISTINCT FROM p_case_id) OR"
    )
    # The status step inline: a SQL function with its own SET search_path is called (not inlined)
    # for every event, which cost about a fifth of a push. Same CASE as next_status.
    call = "checklist_hub.next_status(v_status, v_kind, v_doc->'values'->>'role')"
    inline = (
        "CASE WHEN v_kind = 'addendum' AND v_status IN ('signed', 'amended') THEN 'amended'\n"
        "            WHEN v_kind = 'signature' AND v_doc->'values'->>'role' = 'operator' THEN 'signed'\n"
        "            WHEN v_kind = 'signature' AND v_doc->'values'->>'role' = 'nurse' AND v_status = 'in_progress'\n"
        "                THEN 'nurse_signed'\n"
        "            ELSE v_status END"
    )
    if function.count(narrow) != 1 or function.count(call) != 1:  # pragma: no cover - a guard on migration 1
        raise RuntimeError("migration 1's push_events is not the one migration 3 widens")
    function = function.replace(narrow, wide).replace(call, inline)
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) + "\n"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "rooms, cases, events, forks and the push function", _CORE),
    Migration(2, "staff directory and product catalogue", _DIRECTORIES),
    Migration(3, "cases filed under a room-qualified id (ids made before the room code)", _qualified_ids()),
)
LATEST = len(MIGRATIONS)


def rooms_role_for(database: str) -> str:
    """The group role of a hub database's rooms (roles are cluster-wide, so it names the database)."""
    return _identifier(f"{database}_checklist_rooms", "the rooms' group role")


def room_role_for(database: str, room: str) -> str:
    """The default login role of one room of a hub database."""
    return _identifier(f"{database}_room_{room}".lower(), "the room's login role")


def _identifier(name: str, what: str) -> str:
    if len(name.encode("utf-8")) > MAX_IDENTIFIER:
        raise ValueError(f"{what} would be named {name!r}, longer than PostgreSQL's {MAX_IDENTIFIER} bytes")
    return name
