"""The shared staff directory and product catalogue: hash-chained on the hub, appended by the admin only,
pulled by rooms from where they left off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.pins import hash_pin, verify_pin
from checklist_app.paths import resources_dir
from checklist_app.sync.directory import fold_staff
from checklist_app.sync.errors import HubCorrupt, NotPermitted
from tests.hub.hub_helpers import START


@pytest.fixture
def admin(env):
    with env.admin(clock=FakeClock(START)) as admin:
        yield admin


def test_staff_changes_are_entries_a_room_pulls_and_folds(env, admin, hub_a):
    pin = hash_pin("4321")
    admin.add_person("N1", "Nurse Dana Demo", "nurse", pin_hash=pin)
    admin.add_person("D1", "Dr Ada Demo", "operator")
    entries = hub_a.pull_staff()
    assert [(e.seq, e.kind) for e in entries] == [(1, "person_added"), (2, "person_added")]
    assert entries[0].recorded_at == START

    admin.clock.advance(minutes=5)
    new_pin = hash_pin("9876")
    admin.change_pin("N1", new_pin)
    admin.deactivate("D1")
    later = hub_a.pull_staff(since=2, since_hash=entries[-1].hash)
    assert [(e.seq, e.kind) for e in later] == [(3, "pin_changed"), (4, "deactivated")]
    assert later[0].recorded_at == START + timedelta(minutes=5)

    people = fold_staff(entries + later)
    assert verify_pin("9876", people["N1"].pin_hash) and not verify_pin("4321", people["N1"].pin_hash)
    assert (people["D1"].active, people["N1"].active) == (False, True)
    assert hub_a.pull_staff(since=4, since_hash=later[-1].hash) == []


def test_a_catalogue_version_holds_the_whole_toml_and_must_load(env, admin, hub_b):
    text = (resources_dir() / "products.toml").read_text(encoding="utf-8")
    admin.publish_catalogue("2026-03", text)
    admin.publish_catalogue("2026-04", text.replace("[[cement]]", "# April\n[[cement]]", 1))
    versions = hub_b.pull_catalogue()
    assert [(e.seq, e.body["version"]) for e in versions] == [(1, "2026-03"), (2, "2026-04")]
    assert versions[0].body["toml"] == text
    with pytest.raises(ValueError, match="catalogue: .*not valid TOML"):
        admin.publish_catalogue("broken", "[[cement]\nid =")
    assert len(hub_b.pull_catalogue()) == 2


def test_directory_entries_that_make_no_sense_are_refused(env, admin):
    admin.add_person("N1", "Nurse Dana Demo", "nurse")
    with pytest.raises(ValueError, match="person_id: N1 is already in the staff directory"):
        admin.add_person("N1", "Someone Else", "nurse")
    with pytest.raises(ValueError, match="person_id: X9 is not in the staff directory"):
        admin.deactivate("X9")
    with pytest.raises(ValueError, match="pin_hash: must be a salted scrypt hash"):
        admin.change_pin("N1", "1234")
    admin.deactivate("N1")
    with pytest.raises(ValueError, match="already inactive"):
        admin.deactivate("N1")
    admin.reactivate("N1")


def test_only_the_admin_appends_to_the_directories(env, admin, hub_a):
    admin.add_person("N1", "Nurse Dana Demo", "nurse")
    for statement in (
        "INSERT INTO checklist_hub.directory (directory, seq, kind, prev_hash, hash, canonical) "
        "VALUES ('staff', 2, 'deactivated', '', '', '{}')",
        "UPDATE checklist_hub.directory SET canonical = canonical",
        "DELETE FROM checklist_hub.directory",
    ):
        with pytest.raises(NotPermitted, match="permission denied for table directory"):
            hub_a.db.execute(statement)
    assert len(hub_a.pull_staff()) == 1


def test_the_hub_refuses_an_entry_that_breaks_the_chain_even_from_the_admin(env, admin):
    first = admin.add_person("N1", "Nurse Dana Demo", "nurse")
    with pytest.raises(Exception, match="does not continue the directory") as refused:
        admin.db.execute(
            "INSERT INTO checklist_hub.directory (directory, seq, kind, prev_hash, hash, canonical) "
            "VALUES ('staff', 1, %s, %s, %s, %s)",
            [first.kind, first.prev_hash, first.hash, first.canonical],
        )
    assert type(refused.value).__name__ == "ChainRefused"


def test_a_room_notices_when_the_hubs_directory_is_not_the_one_it_pulled(env, admin, hub_a):
    admin.add_person("N1", "Nurse Dana Demo", "nurse")
    admin.add_person("N2", "Nurse Two", "nurse")
    pulled = hub_a.pull_staff()
    with pytest.raises(HubCorrupt, match="staff entry 2 differs from the one this room holds"):
        hub_a.pull_staff(since=2, since_hash="0" * 64)
    with pytest.raises(HubCorrupt, match="has no entry 5, which this room holds"):
        hub_a.pull_staff(since=5, since_hash=pulled[-1].hash)
