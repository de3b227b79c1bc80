"""The staff directory: who may be named on a case and sign, and their signature PINs (slow salted hashes)."""

from __future__ import annotations

from typing import Any

from .domain.errors import Refusal
from .domain.pins import hash_pin, verify_pin
from .domain.setup import clean_name
from .store import Store

ROLES = ("nurse", "operator", "anaesthesia", "assistant")


class StaffDirectory:
    """The site's staff list in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, *, name: str, role: str, pin: str | None = None) -> int:
        """Add someone to the site staff list; a PIN, if set, is stored only as a salted slow hash."""
        if not isinstance(role, str) or role not in ROLES:
            raise Refusal("role", f"must be one of {', '.join(ROLES)}")
        person = clean_name(name, "name")
        if any(p["name"] == person and p["role"] == role for p in self.store.staff.list_staff(active_only=False)):
            raise Refusal("name", f"{person} is already on the staff list as {role}")
        return self.store.staff.add_staff(person, role, hash_pin(pin) if pin is not None and pin != "" else None)

    def people(self, role: str | None = None) -> list[dict[str, Any]]:
        """Active staff (of `role`, if given) with id, name, role, has_pin and active."""
        return [p for p in self.store.staff.list_staff() if role is None or p["role"] == role]

    def check_pin(self, person: str, role: str, pin: str | None) -> None:
        """Refuse a signature whose signer has a PIN on the staff list and did not give it."""
        match = next((p for p in self.store.staff.list_staff() if p["name"] == person and p["role"] == role), None)
        if match is None or not match["has_pin"]:
            return
        stored = self.store.staff.staff_pin_hash(match["id"])
        if not pin or not stored or not verify_pin(pin, stored):
            raise Refusal("pin", "the PIN is not correct")
