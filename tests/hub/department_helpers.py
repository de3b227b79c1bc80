"""Rooms wired to a hub the way the program wires them: config, adopted room code, pushers and workers."""

from __future__ import annotations

import threading
from collections.abc import Callable

from psycopg.conninfo import make_conninfo

from checklist_app.department import StoreRecord, adopt_room, connect
from checklist_app.domain.clock import FakeClock
from checklist_app.service import ChecklistService
from checklist_app.sync.config import DepartmentConfig
from checklist_app.sync.pusher import Pusher, PushStatus
from tests.conftest import advance, setup_kwargs
from tests.hub.conftest import ROOM_PASSWORD

REFUSED = "host=127.0.0.1 port=1 dbname=hub user=nobody connect_timeout=2"  # nothing listens on port 1


def room_config(env, room: str) -> DepartmentConfig:
    """Room `room`'s settings: the address without a password, the password apart (as from a 0600 file)."""
    url = make_conninfo(host=env.cluster.socket_dir, dbname=env.database, user=f"{env.database}_room_{room}".lower())
    return DepartmentConfig(url=url, room=room, password=ROOM_PASSWORD)


def refused_config(room: str) -> DepartmentConfig:
    return DepartmentConfig(url=REFUSED, room=room, password="x" * 12)


def joined_room(room_service, room: str) -> tuple[ChecklistService, FakeClock]:
    """A room's service whose database has adopted its room code (new case ids carry it)."""
    service, clock = room_service(room)
    adopt_room(service.store, room)
    return service, clock


def pusher(service: ChecklistService, config: DepartmentConfig, clock, **options) -> Pusher:
    return Pusher(config.room, StoreRecord(service.store), lambda: connect(config), clock, **options)


def complete_case(service: ChecklistService, clock, **setup) -> str:
    case_id = service.start_case(**setup_kwargs(**setup)).case_id
    advance(service, clock, case_id)
    return case_id


def until_settled(pushes: Pusher, rounds: int = 50) -> PushStatus:
    """Run rounds until nothing is left to push (or a failure), as the worker would."""
    status = pushes.run_once()
    for _ in range(rounds):
        if status.state != "waiting":
            break
        status = pushes.run_once()
    return status


class StatusWatch:
    """Collects a worker's statuses (from its thread) and waits, with a timeout, for one that matches."""

    def __init__(self) -> None:
        self.statuses: list[PushStatus] = []
        self._changed = threading.Condition()

    def __call__(self, status: PushStatus) -> None:
        with self._changed:
            self.statuses.append(status)
            self._changed.notify_all()

    def wait_for(self, match: Callable[[PushStatus], bool], timeout: float = 60.0) -> PushStatus:
        with self._changed:
            found = self._changed.wait_for(lambda: any(match(s) for s in self.statuses), timeout)
            assert found, f"no matching status within {timeout} s; last: {self.statuses[-1:]}"
            return next(s for s in reversed(self.statuses) if match(s))
