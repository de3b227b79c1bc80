"""Patient data protection: owner-only files, nothing in log output, slow salted PINs, signed cases locked."""

from __future__ import annotations

import importlib
import logging
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from checklist_app.demo import PATIENTS, simulate
from checklist_app.domain import events as ev
from checklist_app.domain.clock import FakeClock
from checklist_app.domain.errors import Refusal
from checklist_app.domain.events import Event
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, open_store
from tests.conftest import advance, give_pin, setup_kwargs

from .harness import SERVICE_DRIVER, Child, raw, run_cli
from .ledger import LEDGER

DEMO_CASES = 12
NAMES = [name for name, _ in PATIENTS]
MRNS = [f"DEMO{i:06d}" for i in range(DEMO_CASES)]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- owner-only files, whatever the user's umask --------------------------------------------------------


def test_database_files_and_new_folders_are_owner_only_even_with_an_open_umask(tmp_path: Path) -> None:
    db = tmp_path / "site" / "room-3" / "checklist.sqlite3"  # two folders the program must create
    writer = Child.start([str(SERVICE_DRIVER), str(db), "--cases", "1", "--hold-after", "12"], tmp_path, umask=0)
    try:
        assert writer.read_until("HOLD"), writer.stderr
        live = {p.name: mode(p) for p in db.parent.iterdir()}  # while the program runs: -wal and -shm exist
    finally:
        writer.finish()
    LEDGER.add("security.file_mode_checks", len(live) + 2)
    assert {"checklist.sqlite3", "checklist.sqlite3-wal", "checklist.sqlite3-shm"} <= set(live), live
    assert all(m == 0o600 for m in live.values()), {name: oct(m) for name, m in live.items()}
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700


def test_backup_is_owner_only_even_with_an_open_umask(tmp_path: Path) -> None:
    db, copy = tmp_path / "checklist.sqlite3", tmp_path / "backups" / "copy.sqlite3"
    assert run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db), umask=0).code == 0
    copy.parent.mkdir(mode=0o777)
    outcome = run_cli(tmp_path, "backup", "-o", str(copy), "--db", str(db), umask=0)
    LEDGER.add("security.file_mode_checks")
    assert outcome.code == 0, outcome
    assert mode(copy) == 0o600
    # no temporary file left behind; the manifest (issue 12) is owner-only too
    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.sqlite3", "copy.sqlite3.manifest.json"]
    assert mode(copy.parent / "copy.sqlite3.manifest.json") == 0o600


def test_exported_note_is_owner_only_even_with_an_open_umask(tmp_path: Path) -> None:
    try:
        importlib.import_module("checklist_app.note").write_note  # noqa: B018
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"checklist_app.note.write_note is not available ({exc})")
    db, note = tmp_path / "checklist.sqlite3", tmp_path / "notes" / "note.pdf"
    demo = run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db), umask=0)
    assert demo.code == 0, demo
    note.parent.mkdir(mode=0o777)
    outcome = run_cli(tmp_path, "note", demo.out.split()[0], "-o", str(note), "--db", str(db), umask=0)
    LEDGER.add("security.file_mode_checks")
    assert outcome.code == 0, outcome
    assert mode(note) == 0o600 and note.read_bytes().startswith(b"%PDF")


# -- no patient data in log output ---------------------------------------------------------------------


def _patient_data_in(text: str) -> list[str]:
    return [item for item in (*NAMES, *MRNS) if item in text]


def test_demo_program_prints_no_patient_name_or_mrn(tmp_path: Path) -> None:
    outcome = run_cli(
        tmp_path,
        "demo",
        "--cases",
        str(DEMO_CASES),
        "--db",
        str(tmp_path / "checklist.sqlite3"),
        env_extra={"PYTHONWARNINGS": "always", "PYTHONDEVMODE": "1"},
    )
    LEDGER.add("security.log_scans")
    assert outcome.code == 0, outcome
    assert _patient_data_in(outcome.out + outcome.err) == []


def test_service_logs_no_patient_name_or_mrn_at_debug_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger, so every library's records are captured too
    clock = FakeClock()
    service = ChecklistService(open_store(tmp_path / "checklist.sqlite3"), clock=clock)
    try:
        results = list(simulate(service, clock, cases=DEMO_CASES, seed=1))
        service.store.backup(tmp_path / "copy.sqlite3")
        service.store.verify()
    finally:
        service.close()
    LEDGER.add("security.log_scans")
    assert {r.patient for r in results} <= set(NAMES)
    captured = capsys.readouterr()
    assert _patient_data_in(caplog.text + captured.out + captured.err) == []


def test_lock_file_holds_only_the_process_id(tmp_path: Path) -> None:
    db = tmp_path / "checklist.sqlite3"
    assert run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db)).code == 0
    assert re.fullmatch(r"\d+\n", (tmp_path / "checklist.sqlite3.lock").read_text())


# -- PINs ----------------------------------------------------------------------------------------------------

PIN = "73914628"


def test_pins_are_stored_only_as_salted_slow_hashes(service: ChecklistService, db_path: Path) -> None:
    give_pin(service, "Dr Ada Demo", "operator", PIN)  # enrolled by the fixture, without a PIN
    give_pin(service, "Dr Ben Example", "operator", PIN)
    with raw(db_path) as conn:
        sql = "SELECT pin_hash FROM staff WHERE pin_hash IS NOT NULL ORDER BY id"
        hashes = [row[0] for row in conn.execute(sql)]
    LEDGER.add("security.pin_checks")
    assert len(set(hashes)) == 2, "the same PIN must give different hashes (salted)"
    for stored in hashes:
        scheme, n, r, p, salt, digest = stored.split("$")
        assert scheme == "scrypt" and int(n) >= 2**14 and int(r) >= 8, stored
        assert PIN not in stored
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert not any(PIN.encode() in f.read_bytes() for f in files if f.exists())


def test_signature_with_pin_records_who_signed_but_never_the_pin(service: ChecklistService, clock) -> None:
    give_pin(service, "Nurse Dana Demo", "nurse", PIN)
    case_id = service.start_case(**setup_kwargs(levels=[("L2", "left")])).case_id
    advance(service, clock, case_id)
    with pytest.raises(Refusal) as wrong:
        service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse", pin="00000000")
    assert wrong.value.field == "pin"
    state = service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse", pin=PIN)
    LEDGER.add("security.pin_checks")
    assert state.facts.signature("nurse") is not None
    assert not any(PIN in ev.canonical_json(dict(e.values)) for e in service.store.events(case_id))


# -- a signed case cannot be altered ------------------------------------------------------------------------


@pytest.fixture
def signed(service: ChecklistService, clock) -> str:
    case_id = service.start_case(**setup_kwargs(levels=[("L2", "left")], screen={"cement_allergy": True})).case_id
    advance(service, clock, case_id)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    clock.advance(minutes=5)
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=case_id, complications="none", findings="Good fill", ebl_ml=5.0)
    service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))
    return case_id


def _every_change(service: ChecklistService, case_id: str) -> dict[str, object]:
    state = service.state(case_id)
    seq = next(iter(state.entries_by_seq))
    return {
        "record_step": lambda: service.record_step(case_id=case_id, step="cement_mix", values={}),
        "mark_not_applicable": lambda: service.mark_not_applicable(
            case_id=case_id, step="biopsy", level="L2", reason="x"
        ),
        "correct": lambda: service.correct(case_id=case_id, seq=seq, reason="x", clinical_time=service.clock.now()),
        "retract": lambda: service.retract(case_id=case_id, seq=seq, reason="x"),
        "override_gate": lambda: service.override_gate(
            case_id=case_id, step="cannula_placement", gate="time_out", reason="x"
        ),
        "acknowledge_warning": lambda: service.acknowledge_warning(case_id=case_id, warning_id="screen:cement_allergy"),
        "acknowledge_alarm": lambda: service.acknowledge_alarm(case_id=case_id, alarm_id="cement_ready:1"),
        "change_staff": lambda: service.change_staff(case_id=case_id, role="nurse", name="Nurse Eli Example"),
        "record_findings": lambda: service.record_findings(case_id=case_id, complications="none", findings="changed"),
        "sign_nurse": lambda: service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse"),
        "sign_operator": lambda: service.sign(
            case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id)
        ),
    }


def test_every_change_to_a_signed_case_is_refused_and_only_an_addendum_is_added(
    service: ChecklistService, signed: str, clock
) -> None:
    before = service.store.events(signed)
    for name, change in _every_change(service, signed).items():
        with pytest.raises(Refusal) as refused:
            change()  # type: ignore[operator]
        LEDGER.add("security.signed_case_changes_refused")
        assert refused.value.field == "case", (name, refused.value)
    assert service.store.events(signed) == before
    clock.advance(minutes=30)
    state = service.add_addendum(case_id=signed, text="Patient reviewed on the ward", reason="Follow-up", author="Dr A")
    assert state.facts.status == "amended" and len(service.store.events(signed)) == len(before) + 1
    assert service.store.verify() == []


def test_store_refuses_a_step_appended_directly_to_a_signed_case(service: ChecklistService, signed: str) -> None:
    last = service.store.events(signed)[-1]
    late = Event(
        case_id=signed,
        seq=last.seq + 1,
        kind=ev.STEP_DONE,
        clinical_time=last.clinical_time,
        recorded_time=last.recorded_time + timedelta(minutes=1),
        actor="Someone",
        step="closure",
        values={"closure": "suture", "dressing": "none"},
    )
    with pytest.raises(StoreError, match="only an addendum"):
        service.store.append(signed, [late])
    assert service.store.events(signed)[-1] == last
