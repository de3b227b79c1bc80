"""The staff directory: who may be named on a case and sign, their signature PINs, and PIN lockouts.

The directory is an append-only hash chain in the store (adding a person, a PIN change, a
deactivation, every PIN refused or accepted at a signature). A signer is always a person found
here by name (NFKC, look-alikes refused), never free text; their PIN hash is read from the chain.
Five wrong PINs in a row lock the signer for five minutes, measured with the service's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .domain.errors import Refusal
from .domain.names import look_alike_problem, normal, skeleton
from .domain.pins import hash_pin, verify_pin
from .domain.settings import Settings
from .domain.setup import clean_name
from .store import Store
from .sync.directory import PIN_ACCEPTED, PIN_CHANGED, PIN_REFUSED, DirectoryEntry, StaffMember

ROLES = ("nurse", "operator", "anaesthesia", "assistant")
MAX_WRONG_PINS = 5
LOCKOUT = timedelta(minutes=5)


class StaffDirectory:
    """The site's staff directory in the store."""

    def __init__(
        self, store: Store, *, now: Callable[[], datetime] | None = None, settings: Callable[[], Settings] | None = None
    ) -> None:
        self.store = store
        self._now = now
        self._settings = settings or Settings

    def now(self) -> datetime:
        return self._now() if self._now else datetime.now(UTC)

    def add(self, *, name: str, role: str, pin: str | None = None) -> int:
        """Add someone to the site staff list; a PIN, if set, is stored only as a salted slow hash."""
        if not isinstance(role, str) or role not in ROLES:
            raise Refusal("role", f"must be one of {', '.join(ROLES)}")
        person = directory_name(name, "name")
        known = self.store.staff.list_staff(active_only=False)
        if any(p["name"] == person and p["role"] == role for p in known):
            raise Refusal("name", f"{person} is already on the staff list as {role}")
        twin = next((p for p in known if skeleton(p["name"]) == skeleton(person) and p["name"] != person), None)
        if twin is not None:
            raise Refusal("name", f"'{person}' looks like '{twin['name']}', who is already on the staff list")
        pin_hash = hash_pin(pin) if pin is not None and pin != "" else None
        return self.store.staff.add_staff(person, role, pin_hash, at=self.now())

    def change_pin(self, *, staff_id: int, pin: str | None) -> None:
        """A new PIN (or none) for someone on the list: an entry of the directory's chain."""
        self.store.staff.set_pin(staff_id, hash_pin(pin) if pin else None, at=self.now())

    def set_active(self, *, staff_id: int, active: bool) -> None:
        self.store.staff.set_staff_active(staff_id, active, at=self.now())

    def people(self, role: str | None = None) -> list[dict[str, Any]]:
        """Active staff (of `role`, if given) with id, name, role, has_pin and active."""
        return [p for p in self.store.staff.list_staff() if role is None or p["role"] == role]

    def signer(self, name: str, role: str) -> StaffMember:
        """The active person of the directory's chain with this name and role (NFKC); a Refusal on `name` otherwise."""
        person = directory_name(name, "name")
        found = [
            m for m in self.store.staff.directory().values() if m.active and m.role == role and normal(m.name) == person
        ]
        if not found:
            raise Refusal(
                "name", f"{person} is not in the staff directory as {role}: only people listed there can sign"
            )
        return found[0]

    def check_pin(self, member: StaffMember, pin: str | None, case_id: str) -> None:
        """Refuse a signature without the signer's PIN (when they have one, or the site requires one).

        Every refusal is logged in the directory's chain before it is raised; five wrong PINs in a
        row lock the signer for LOCKOUT.
        """
        if member.pin_hash is None:
            if self._settings().signature_pin == "always":
                raise Refusal(
                    "pin", f"this site requires a PIN for every signature: set one for {member.name} in the staff list"
                )
            return
        staff_id = int(member.person_id)
        now = self.now()
        locked_until = lockout(self._entries_of(member.person_id), now)
        if locked_until is not None:
            self.store.staff.log_attempt(staff_id, PIN_REFUSED, case_id, at=now)
            raise Refusal(
                "pin", f"{member.name} is locked after {MAX_WRONG_PINS} wrong PINs until {_hhmm(locked_until)}"
            )
        if not isinstance(pin, str) or not pin or not verify_pin(pin, member.pin_hash):
            self.store.staff.log_attempt(staff_id, PIN_REFUSED, case_id, at=now)
            if lockout(self._entries_of(member.person_id), now) is not None:
                raise Refusal("pin", f"the PIN is not correct: {member.name} is locked for {_minutes(LOCKOUT)} minutes")
            raise Refusal("pin", "the PIN is not correct")
        self.store.staff.log_attempt(staff_id, PIN_ACCEPTED, case_id, at=now)

    def _entries_of(self, person_id: str) -> list[DirectoryEntry]:
        return [e for e in self.store.staff.entries() if str(e.body.get("person_id")) == person_id]


def lockout(entries: Sequence[DirectoryEntry], now: datetime) -> datetime | None:
    """Until when a person is locked out at `now`, from their directory entries in order (None: not locked).

    Wrong PINs count in a row; an accepted PIN or a PIN change starts the count again; the fifth
    locks for LOCKOUT from its own time, and attempts while locked do not count.
    """
    wrong, until = 0, None
    for entry in entries:
        if entry.kind in (PIN_ACCEPTED, PIN_CHANGED):
            wrong, until = 0, None if entry.kind == PIN_CHANGED else until
        elif entry.kind == PIN_REFUSED:
            if until is not None and entry.recorded_at < until:
                continue
            wrong += 1
            if wrong >= MAX_WRONG_PINS:
                wrong, until = 0, entry.recorded_at + LOCKOUT
    return until if until is not None and now < until else None


def directory_name(value: Any, field: str) -> str:
    """A name as the directory holds it: one clean line, NFKC, no look-alike characters."""
    person = clean_name(value, field)
    problem = look_alike_problem(person)
    if problem:
        raise Refusal(field, problem)
    return normal(person)


def _hhmm(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
