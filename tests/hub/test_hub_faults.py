"""Faults a worker must ride out: a hub killed mid-push, refused connections, a read-only standby, a
case held elsewhere, a week without a hub. Transient ones are HubUnavailable; nothing is lost or doubled."""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta

import pytest

from checklist_app.sync.errors import HubUnavailable
from checklist_app.sync.hub import Hub
from tests.conftest import advance, setup_kwargs
from tests.hub.hub_helpers import START, catch_up, local_heads, synthetic_case


@pytest.fixture
def restarts(cluster):
    """The test may kill the server; it runs again afterwards whatever happened."""
    yield cluster
    cluster.start()


def stored_count(env) -> int:
    with env.superuser() as conn:
        return conn.execute("SELECT count(*) FROM checklist_hub.events").fetchone()[0]


def test_a_hub_killed_between_pushes_loses_nothing_and_the_room_converges(env, restarts):
    cases = {f"A-{n}": synthetic_case(f"A-{n}", 40 + n) for n in range(6)}
    hub = env.hub("A")
    for case_id in ("A-0", "A-1", "A-2"):
        hub.push("A", case_id, cases[case_id])
    hub.push("A", "A-3", cases["A-3"][:20])

    restarts.stop_immediately()
    started = time.monotonic()
    with pytest.raises(HubUnavailable, match="not available now"):
        hub.push("A", "A-3", cases["A-3"])
    with pytest.raises(HubUnavailable):
        hub.heads("A")
    assert time.monotonic() - started < 5, "a dead hub is reported at once, not after long waits"
    restarts.start()

    pushed = catch_up(hub, "A", cases)  # the worker's resume: ask the hub's heads, push what follows
    assert pushed == sum(len(e) for e in cases.values()) - 3 * 40 - 3 - 20
    assert hub.heads("A") == {case_id: (len(e), e[-1].hash) for case_id, e in cases.items()}
    assert stored_count(env) == sum(len(e) for e in cases.values())
    assert hub.verify_hub() == []
    hub.close()


class KilledMidPush(Hub):
    """A Hub whose server dies after its `at`-th push_events call ran, before that batch commits."""

    def __init__(self, url: str, kill, at: int) -> None:
        super().__init__(url)
        self.kill, self.at, self.calls = kill, at, 0

    def _push_batch(self, room, case_id, batch):
        row = super()._push_batch(room, case_id, batch)
        self.calls += 1
        if self.calls == self.at:
            self.kill()
        return row


def test_a_hub_killed_inside_a_push_keeps_the_committed_batches_and_the_rest_follows(env, restarts):
    events = synthetic_case("A-big", 1200)  # three batches: 500, 500, 200
    hub = KilledMidPush(env.room_url("A"), restarts.stop_immediately, at=2)
    with pytest.raises(HubUnavailable):
        hub.push("A", "A-big", events)
    restarts.start()

    assert hub.heads("A") == {"A-big": (500, events[499].hash)}, "batch 1 committed, batch 2 never did"
    again = hub.push("A", "A-big", events)
    assert (again.accepted, again.skipped, again.head) == (700, 500, (1200, events[-1].hash))
    assert stored_count(env) == 1200
    assert hub.case_events("A-big") == events
    hub.close()


def test_a_hub_killed_before_the_first_commit_keeps_nothing_of_the_case(env, restarts):
    events = synthetic_case("A-new", 30)
    hub = KilledMidPush(env.room_url("A"), restarts.stop_immediately, at=1)
    with pytest.raises(HubUnavailable):
        hub.push("A", "A-new", events)
    restarts.start()
    assert hub.heads("A") == {} and hub.cases() == []
    assert hub.push("A", "A-new", events).accepted == 30
    hub.close()


def test_a_refused_connection_is_unavailable_at_once(env):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://room:secret-password@127.0.0.1:{port}/{env.database}"
    started = time.monotonic()
    with Hub(url, connect_timeout=2) as hub, pytest.raises(HubUnavailable, match=f"127.0.0.1:{port}/") as refused:
        hub.push("A", "A-1", synthetic_case("A-1", 2))
    assert time.monotonic() - started < 1.5
    assert "secret-password" not in str(refused.value)


def test_a_read_only_standby_is_unavailable_for_pushes_but_still_readable(cluster, env, hub_a):
    events = synthetic_case("A-1", 6)
    hub_a.push("A", "A-1", events[:3])
    with cluster.superuser() as conn:
        conn.execute(f'ALTER DATABASE "{env.database}" SET default_transaction_read_only = on')
    try:
        with env.hub("A") as standby:
            assert standby.heads("A") == {"A-1": (3, events[2].hash)}
            with pytest.raises(HubUnavailable, match="cannot execute INSERT in a read-only transaction"):
                standby.push("A", "A-1", events)
    finally:
        with cluster.superuser() as conn:
            conn.execute(f'ALTER DATABASE "{env.database}" RESET default_transaction_read_only')
    hub_a.close()  # sessions opened before the switch are as they were; a new one sees the primary again
    assert hub_a.push("A", "A-1", events).accepted == 3


def test_a_case_locked_by_a_stuck_push_makes_the_next_wait_briefly_then_retry(env):
    events = synthetic_case("A-1", 4)
    with env.hub("A") as hub:
        hub.push("A", "A-1", events[:2])
    with env.superuser() as conn, conn.transaction():
        conn.execute("SELECT 1 FROM checklist_hub.cases WHERE case_id = 'A-1' FOR UPDATE")
        with env.hub("A", lock_timeout_ms=300) as hub:
            started = time.monotonic()
            with pytest.raises(HubUnavailable, match="lock timeout"):
                hub.push("A", "A-1", events)
            assert time.monotonic() - started < 3
    with env.hub("A") as hub:
        assert hub.push("A", "A-1", events).accepted == 2


def test_a_room_offline_for_a_week_catches_up_in_one_go(env, room_service):
    service, clock = room_service("A")
    for day in range(7):
        clock.set(START + timedelta(days=day))
        for _ in range(3):
            clock.advance(minutes=20)
            case_id = service.start_case(**setup_kwargs(procedure="vertebroplasty")).case_id
            advance(service, clock, case_id)
            service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
            service.record_findings(case_id=case_id, complications="none", findings="As planned", ebl_ml=5)
            service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))
    local = {row.id: service.store.events(row.id) for row in service.store.list_cases()}

    with env.hub("A") as hub:
        assert catch_up(hub, "A", local) == sum(len(e) for e in local.values())
        rows = hub.cases(room="A")
        assert [row.case_id for row in rows] == [row.id for row in service.store.list_cases()]
        assert [row.service_date for row in rows[::3]] == [date(2026, 3, 8) - timedelta(days=d) for d in range(7)]
        assert {row.status for row in rows} == {"signed"}
        one_day = hub.cases(room="A", date_from=date(2026, 3, 4), date_to=date(2026, 3, 4))
        assert [row.case_id for row in one_day] == [row.case_id for row in rows if row.service_date == date(2026, 3, 4)]
        assert len(one_day) == 3
        findings = hub.department_verify("A", local_heads(service.store), lambda *_: None)
        assert {finding.kind for finding in findings} == {"in_step"}
        assert catch_up(hub, "A", local) == 0, "a second catch-up finds nothing to do"
