"""Concurrent pushes: rooms side by side, and two pushers racing on one case, each event stored once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from checklist_app.sync.errors import OtherRoomsCase
from tests.hub.hub_helpers import synthetic_case


def together(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs in threads released at the same moment; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a push hung"
    return results


def test_two_rooms_push_their_cases_at_the_same_time(env):
    cases = {room: {f"{room}-{n}": synthetic_case(f"{room}-{n}", 30 + n) for n in range(12)} for room in "AB"}

    def push_all(room: str) -> int:
        with env.hub(room) as hub:
            return sum(hub.push(room, case_id, events).accepted for case_id, events in cases[room].items())

    assert together(lambda: push_all("A"), lambda: push_all("B")) == [
        sum(len(e) for e in cases["A"].values()),
        sum(len(e) for e in cases["B"].values()),
    ]
    with env.hub("A") as hub:
        for room in "AB":
            assert hub.heads(room) == {case_id: (len(e), e[-1].hash) for case_id, e in cases[room].items()}
        assert hub.verify_hub() == []


def test_two_pushers_racing_on_one_case_store_every_event_exactly_once(env):
    """Two workers of one room (a restart that overlapped, say) push the same case at once."""
    for round_ in range(4):
        case_id = f"A-race-{round_}"
        events = synthetic_case(case_id, 700)  # two batches each, so the pushes interleave
        with env.hub("A") as first, env.hub("A") as second:
            results = together(*pushes(first, second, case_id, events, cut=350 + 50 * round_))
            assert not [r for r in results if isinstance(r, Exception)], results
            assert sum(r.accepted for r in results) == 700
            assert results[0].head == (700, events[-1].hash)
            assert first.case_events(case_id) == events


def pushes(first, second, case_id, events, cut):
    return (lambda: first.push("A", case_id, events), lambda: second.push("A", case_id, events[:cut]))


def test_two_rooms_racing_for_one_new_case_id_only_one_gets_it(env):
    a_events, b_events = synthetic_case("SAME-1", 5), synthetic_case("SAME-1", 8)
    with env.hub("A") as hub_a, env.hub("B") as hub_b:
        results = together(lambda: hub_a.push("A", "SAME-1", a_events), lambda: hub_b.push("B", "SAME-1", b_events))
        refused = [r for r in results if isinstance(r, OtherRoomsCase)]
        stored = [r for r in results if not isinstance(r, Exception)]
        assert len(refused) == 1 and len(stored) == 1, results
        [case] = hub_a.cases()
        winner = a_events if case.room == "A" else b_events
        assert hub_a.case_events("SAME-1") == winner
