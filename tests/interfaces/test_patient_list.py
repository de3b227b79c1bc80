"""The stored patient list: fed by ADT over real MLLP, searched by name, MRN and birth date, owner-only,
purged after the configured days; and the interface configuration file, checked when read."""

from __future__ import annotations

import contextlib
import stat
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.interfaces.adt import AdtHandler
from checklist_app.interfaces.config import InterfaceConfigError, load_interface_config, parse_interface_config
from checklist_app.interfaces.errors import PatientDataError
from checklist_app.interfaces.mllp import MllpListener, send
from checklist_app.interfaces.patient_store import StoredPatientList, record_from_json, record_json
from checklist_app.interfaces.patients import Identifier, PatientRecord
from tests.interfaces.conftest import NOW, PATIENT, adt


@pytest.fixture
def stored(tmp_path):
    patients = StoredPatientList(tmp_path / "data" / "checklist-patients.sqlite3")
    yield patients
    patients.close()


def test_an_admitted_patient_is_stored_durably_before_the_aa(stored, tmp_path):
    with MllpListener(AdtHandler(stored, now=lambda: NOW), now=lambda: NOW) as listener:
        delivery = send("127.0.0.1", listener.port, adt("A01"), timeout=10)
    assert delivery.accepted
    stored.close()
    reopened = StoredPatientList(tmp_path / "data" / "checklist-patients.sqlite3")
    try:
        [record] = reopened.search(mrn=PATIENT["mrn"])
        assert (record.family, record.given, record.birth_date) == (
            PATIENT["family"],
            (PATIENT["given"],),
            date(1948, 2, 29),
        )
        assert record.mrn == Identifier("MRN7788", "GENERAL") and record.visit and record.visit.number == "V2026-55"
    finally:
        reopened.close()


def test_the_patient_file_is_readable_by_the_owner_only(stored):
    stored.upsert(PatientRecord(Identifier("M1", "H"), "Doe", ("Ann",)), at=NOW)
    assert stat.S_IMODE(stored.file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.file.path.parent.stat().st_mode) == 0o700


def test_search_by_part_of_a_name_in_any_script_by_mrn_and_by_birth_date(stored):
    stored.upsert(PatientRecord(Identifier("M1", "H"), "Ηλιόπουλος", ("Ζωή",), date(1948, 2, 29), "female"), at=NOW)
    stored.upsert(PatientRecord(Identifier("M2", "H"), "O'Brien", ("Seán",), date(1960, 1, 1), "male"), at=NOW)
    stored.upsert(PatientRecord(Identifier("M3", "H"), "山田", ("太郎",), date(1948, 2, 29), "male"), at=NOW)

    assert [r.mrn.value for r in stored.search(name="ΗΛΙΌ")] == ["M1"]  # case-folded
    assert [r.mrn.value for r in stored.search(name="seán o'b")] == ["M2"]  # as shown: given names, family
    assert [r.mrn.value for r in stored.search(name="o'brien")] == ["M2"]
    assert [r.mrn.value for r in stored.search(mrn=" M3 ")] == ["M3"]
    assert sorted(r.mrn.value for r in stored.search(birth_date=date(1948, 2, 29))) == ["M1", "M3"]
    assert [r.mrn.value for r in stored.search(name="%")] == []  # no wildcard injection
    assert len(stored.search()) == 3


def test_an_update_replaces_and_a_merge_retires_the_prior_mrn(stored):
    stored.upsert(PatientRecord(Identifier("OLD", "H"), "Doe", ("Ann",)), at=NOW)
    stored.upsert(PatientRecord(Identifier("OLD", "H"), "Doe-Smith", ("Ann",)), at=NOW)
    assert [r.family for r in stored.search()] == ["Doe-Smith"]
    stored.merge(prior=Identifier("OLD", "H"), record=PatientRecord(Identifier("NEW", "H"), "Doe-Smith"), at=NOW)
    assert [r.mrn.value for r in stored.search()] == ["NEW"]


def test_patients_not_updated_for_the_configured_days_are_purged(stored):
    stored.upsert(PatientRecord(Identifier("OLD", "H"), "Old"), at=NOW - timedelta(days=4))
    stored.upsert(PatientRecord(Identifier("NEW", "H"), "New"), at=NOW - timedelta(days=2))
    assert stored.purge_older_than(timedelta(days=3), now=NOW) == 1
    assert [r.mrn.value for r in stored.search()] == ["NEW"]


_letters = st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zs", "Zl", "Zp"))
_records = st.builds(
    PatientRecord,
    mrn=st.builds(Identifier, st.text(_letters, min_size=1, max_size=20).filter(str.strip)),
    family=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf")), min_size=1, max_size=40).filter(str.strip),
    birth_date=st.none() | st.dates(),
    sex=st.sampled_from(("female", "male", "other", "unknown")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_records)
def test_a_stored_record_reads_back_as_itself(record):
    assert record_from_json(record_json(record)) == record


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_a_damaged_stored_record_is_refused_cleanly(text):
    try:
        record_from_json(text)
    except PatientDataError as exc:
        assert str(exc) == "a stored patient record cannot be read"  # never quotes the content


# -- the configuration file ------------------------------------------------------------------------
def test_no_file_means_no_interfaces(tmp_path):
    config = load_interface_config(tmp_path / "interfaces.toml")
    assert not config.configured and config.channels == ()


def test_a_full_configuration_is_read(tmp_path):
    path = tmp_path / "interfaces.toml"
    path.write_text(
        '[room]\nsending_facility = "IR2"\nmrn_authority = "GENERAL"\n'
        '[adt]\nhost = "0.0.0.0"\nport = 2575\n[mdm]\nhost = "engine"\nport = 2576\n'
        '[fhir]\nbase_url = "https://fhir.example/r4"\npatient_search = true\n'
        "[patients]\nkeep_days = 2\n[outbox]\nfirst_retry_s = 10\nmax_retry_s = 100\n",
        encoding="utf-8",
    )
    config = load_interface_config(path)
    assert config.channels == ("mllp", "fhir") and config.adt_listen == ("0.0.0.0", 2575)
    assert config.settings.sending_facility == "IR2" and config.patient_search and config.keep_days == 2
    assert [config.backoff.after(n).total_seconds() for n in (1, 2, 3, 5, 9)] == [10, 20, 40, 100, 100]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mdm]\nhost = 'x'\n", "[mdm] 'port' is required"),
        ("[mdm]\nhost = 'x'\nport = 70000\n", "'port' must be a whole number"),
        ("[fhir]\nbase_url = 'ftp://x'\n", "must start with http"),
        ("[adt]\nport = 2575\nprot = 1\n", "[adt] unknown key 'prot'"),
        ("[hl7]\nport = 1\n", "unknown section 'hl7'"),
        ("[room]\naddendum_trigger = 'T99'\n", "'addendum_trigger'"),
        ("[patients]\nkeep_days = 0\n", "'keep_days' must be a number"),
        ("[room\n", "not valid TOML"),
    ],
)
def test_a_bad_configuration_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "interfaces.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InterfaceConfigError, match="interfaces.toml") as caught:
        load_interface_config(path)
    assert message in str(caught.value)


_toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["room", "adt", "mdm", "fhir", "patients", "outbox", "x"]), _toml_values))
def test_any_configuration_is_read_or_refused_with_an_interface_config_error(data):
    with contextlib.suppress(InterfaceConfigError):
        parse_interface_config(data)


def test_times_are_utc(stored):
    stored.upsert(PatientRecord(Identifier("M1", "H"), "Doe"), at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert stored.file.search()[0].updated == "2026-03-02T09:00:00.000000+00:00"
    assert tomllib  # the configuration format


def test_private_umask_blocks_on_two_threads_never_interleave(tmp_path):
    """The worker opens its read-only store on its own thread while the window may create files."""
    import os
    import threading

    from checklist_app.store import files

    inside = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def other() -> None:
        with files.private_umask():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    entered = threading.Event()

    def second() -> None:
        with files.private_umask():
            entered.set()
            seen.append(os.umask(0o077))

    waiting = threading.Thread(target=second)
    waiting.start()
    assert not entered.wait(0.2)  # the second block waits for the first
    release.set()
    thread.join(10)
    waiting.join(10)
    assert entered.is_set() and seen == [0o077]
