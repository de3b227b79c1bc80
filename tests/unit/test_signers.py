"""Signatures bound to people (SPEC §6, issue 12): signers from the staff directory only, names
compared in NFKC with look-alikes refused, five wrong PINs lock the signer for five minutes (on the
injectable clock, never a sleep), every failure logged in the directory's chain, and a site setting
that makes a PIN mandatory."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checklist_app.domain.errors import Refusal
from checklist_app.domain.settings import Settings
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.sync.directory import PIN_ACCEPTED, PIN_REFUSED
from tests.conftest import advance, setup_kwargs

PIN = "4821"


def staff_id(service: ChecklistService, name: str, role: str) -> int:
    return next(p["id"] for p in service.staff(role) if p["name"] == name)


@pytest.fixture
def ready(service, clock, started) -> str:
    """A completed case, every step answered: the nurse may sign."""
    advance(service, clock, started)
    return started


def nurse_with_pin(service: ChecklistService) -> int:
    person = staff_id(service, "Nurse Dana Demo", "nurse")
    service.staff_directory.change_pin(staff_id=person, pin=PIN)
    return person


def attempts(service: ChecklistService, kind: str) -> list[dict]:
    return [dict(e.body) for e in service.store.staff.entries() if e.kind == kind]


def test_a_signer_who_is_not_in_the_staff_directory_is_refused(db_path, clock) -> None:
    service = ChecklistService(open_store(db_path), clock=clock)  # nobody enrolled
    try:
        case_id = service.start_case(**setup_kwargs()).case_id
        advance(service, clock, case_id)
        with pytest.raises(Refusal, match="not in the staff directory") as err:
            service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
        assert err.value.field == "name"
        service.add_staff(name="Nurse Dana Demo", role="nurse")
        assert service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse").facts.signature("nurse")
    finally:
        service.close()


@pytest.mark.parametrize(
    "look_alike",
    [
        "Nurse Dana\u00a0Demo",
        "Nurse Dana\u200dDemo",
        "Nurse Dana\u200bDemo",
        "Nurse D\u0430na Demo",
        "Nurse Dana Dem\u043e",
    ],
    ids=["no-break space", "zero-width joiner", "zero-width space", "Cyrillic a", "Cyrillic o"],
)
def test_a_look_alike_of_a_colleagues_name_cannot_sign_or_be_added(service, ready, look_alike) -> None:
    nurse_with_pin(service)
    before = len(service.store.events(ready))
    with pytest.raises(Refusal) as err:
        service.sign(case_id=ready, name=look_alike, role="nurse")  # no PIN: the real nurse has one
    assert err.value.field == "name"
    with pytest.raises(Refusal) as err:
        service.add_staff(name=look_alike, role="nurse")
    assert err.value.field == "name"
    assert len(service.store.events(ready)) == before


def test_a_team_typed_with_a_no_break_space_still_needs_the_real_persons_pin(db_path, clock) -> None:
    """The attack of issue 12: the case's nurse typed with a U+00A0 signed without the PIN."""
    service = ChecklistService(open_store(db_path), clock=clock)
    try:
        service.add_staff(name="Nurse Dana Demo", role="nurse", pin=PIN)
        kwargs = setup_kwargs()
        kwargs["team"] = {**kwargs["team"], "nurse": "Nurse Dana\u00a0Demo"}
        case_id = service.start_case(**kwargs).case_id
        advance(service, clock, case_id)
        for name in ("Nurse Dana\u00a0Demo", "Nurse Dana Demo"):
            with pytest.raises(Refusal):
                service.sign(case_id=case_id, name=name, role="nurse")
        state = service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse", pin=PIN)
        assert state.facts.signature("nurse").values["name"] == "Nurse Dana Demo"
    finally:
        service.close()


def test_a_name_that_only_looks_like_a_colleagues_is_refused_when_added(service) -> None:
    with pytest.raises(Refusal, match="looks like") as err:
        service.add_staff(name="Dr \u0410\u0501\u0430 Demo", role="assistant")  # "Аԁа": one word, all Cyrillic
    assert err.value.field == "name"
    with pytest.raises(Refusal, match="looks like"):
        service.add_staff(name="DR ADA DEMO", role="assistant")
    service.add_staff(name="\u0410\u043b\u043b\u0430 \u041f\u0435\u0442\u0440\u043e\u0432\u0430", role="nurse")


def test_a_name_is_stored_and_compared_in_nfkc(service) -> None:
    service.add_staff(name="Dr \uff2b\uff49\uff4d Wide", role="operator")  # fullwidth "Kim"
    assert "Dr Kim Wide" in [p["name"] for p in service.staff("operator")]


def test_five_wrong_pins_lock_the_signer_for_five_minutes_on_the_clock(service, clock, ready) -> None:
    person = nurse_with_pin(service)
    for attempt in range(1, 5):
        with pytest.raises(Refusal, match="not correct") as err:
            service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin="0000")
        assert "locked" not in err.value.message, attempt
        clock.advance(seconds=10)
    with pytest.raises(Refusal, match="locked for 5 minutes"):
        service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin="0000")
    clock.advance(minutes=4, seconds=59)
    with pytest.raises(Refusal, match="locked after 5 wrong PINs") as err:
        service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin=PIN)  # even the right PIN
    assert err.value.field == "pin"
    assert not service.state(ready).facts.signature("nurse")
    clock.advance(seconds=1)
    assert service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin=PIN).facts.signature("nurse")
    refused = attempts(service, PIN_REFUSED)
    assert len(refused) == 6 and {r["person_id"] for r in refused} == {str(person)}
    assert all(r["case_id"] == ready for r in refused)
    assert len(attempts(service, PIN_ACCEPTED)) == 1
    assert service.records.verify() == []


def test_a_right_pin_starts_the_count_of_wrong_ones_again(service, clock, ready) -> None:
    nurse_with_pin(service)
    second = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, second)
    for _ in range(4):
        with pytest.raises(Refusal, match="not correct"):
            service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin="0000")
    service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin=PIN)
    with pytest.raises(Refusal) as err:
        service.sign(case_id=second, name="Nurse Dana Demo", role="nurse", pin="0000")
    assert "locked" not in err.value.message


def test_every_failure_is_logged_before_the_refusal_and_survives_a_restart(service, db_path, clock, ready) -> None:
    nurse_with_pin(service)
    for _ in range(5):
        with pytest.raises(Refusal):
            service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin="9999")
    service.close()
    reopened = ChecklistService(open_store(db_path), clock=clock)
    try:
        with pytest.raises(Refusal, match="locked"):  # the lockout is in the file, not in memory
            reopened.sign(case_id=ready, name="Nurse Dana Demo", role="nurse", pin=PIN)
        assert len(attempts(reopened, PIN_REFUSED)) == 6
    finally:
        reopened.close()


def test_the_site_setting_makes_a_pin_mandatory_for_every_signature(db_path, clock) -> None:
    base = ChecklistService(open_store(db_path), clock=clock)
    site = replace(base.site, settings=replace(Settings(), signature_pin="always"))
    base.close()
    service = ChecklistService(open_store(db_path), clock=clock, site=site)
    try:
        service.add_staff(name="Nurse Dana Demo", role="nurse")  # no PIN set
        case_id = service.start_case(**setup_kwargs()).case_id
        advance(service, clock, case_id)
        with pytest.raises(Refusal, match="requires a PIN") as err:
            service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
        assert err.value.field == "pin"
        service.staff_directory.change_pin(staff_id=staff_id(service, "Nurse Dana Demo", "nurse"), pin=PIN)
        assert service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse", pin=PIN).facts.signature("nurse")
    finally:
        service.close()


def test_a_deactivated_person_cannot_sign(service, ready) -> None:
    service.staff_directory.set_active(staff_id=staff_id(service, "Nurse Dana Demo", "nurse"), active=False)
    with pytest.raises(Refusal, match="not in the staff directory"):
        service.sign(case_id=ready, name="Nurse Dana Demo", role="nurse")
