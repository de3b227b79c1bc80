"""`checklist-app outbox [--json]`, `outbox retry ID` and `export CASE --fhir --hl7` on a real database."""

from __future__ import annotations

import json
import stat

import pytest

from checklist_app.cli import main
from checklist_app.interfaces.fhir_bundle import validate_bundle
from checklist_app.interfaces.policy import record_out
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.interfaces.conftest import signers
from tests.note.note_cases import KYPHO, build_kyphoplasty


@pytest.fixture(autouse=True)
def site_folder(tmp_path, monkeypatch):
    """The site's files (interfaces.toml) in tmp_path, never the user's data folder."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setenv("CHECKLIST_APP_DATA", str(folder))
    return folder


@pytest.fixture
def signed_db(db_path, clock):
    """A database holding one signed case whose record waits in the outbox (both channels); the room is closed."""
    svc = signers(ChecklistService(open_store(db_path), clock=clock, outbox=record_out(("mllp", "fhir"))))
    case_id = build_kyphoplasty(svc, clock, addendum=False)
    first = svc.records.outbox()[0].id
    svc.store.messages.record_attempt(first, "rejected", "AE: document type not accepted", at=clock.now())
    svc.close()
    return db_path, case_id


def test_outbox_lists_every_message_with_its_status_and_reason(signed_db, capsys):
    db, case_id = signed_db
    assert main(["--db", str(db), "outbox"]) == 1  # something is parked: IT must look
    out = capsys.readouterr().out
    assert f"mllp  {case_id}  v1  parked (needs IT)" in out and "AE: document type not accepted" in out
    assert "outbox retry 1" in out and "1 waiting, 1 parked, 0 sent" in out
    assert KYPHO["patient"] not in out and KYPHO["mrn"] not in out


def test_outbox_json_is_machine_readable(signed_db, capsys):
    db, case_id = signed_db
    main(["--db", str(db), "outbox", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["channel"], r["case"], r["status"], r["attempts"]) for r in rows] == [
        (1, "mllp", case_id, "parked", 1),
        (2, "fhir", case_id, "waiting", 0),
    ]


def test_outbox_retry_makes_a_parked_message_due_again(signed_db, capsys):
    db, _case_id = signed_db
    assert main(["--db", str(db), "outbox", "retry", "1"]) == 0
    assert "Message 1 (mllp" in capsys.readouterr().out
    main(["--db", str(db), "outbox", "--json"])
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == ["waiting", "waiting"]


def test_outbox_retry_of_an_unknown_message_is_a_clear_error(signed_db, capsys):
    db, _case_id = signed_db
    assert main(["--db", str(db), "outbox", "retry", "99"]) == 1
    assert "There is no message 99 in the outbox" in capsys.readouterr().err


def test_export_writes_the_bundle_and_the_message_owner_only(signed_db, tmp_path, capsys):
    db, case_id = signed_db
    bundle, message = tmp_path / "bundle.json", tmp_path / "msg.hl7"
    assert main(["--db", str(db), "export", case_id, "--fhir", str(bundle), "--hl7", str(message)]) == 0
    validate_bundle(json.loads(bundle.read_bytes()))
    assert message.read_bytes().startswith(b"MSH|") and b"MDM^T02" in message.read_bytes()
    for path in (bundle, message):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_export_needs_a_file_and_refuses_an_unsigned_case(db_path, clock, tmp_path, capsys):
    svc = signers(ChecklistService(open_store(db_path), clock=clock))
    case_id = build_kyphoplasty(svc, clock, sign=False)
    svc.close()
    assert main(["--db", str(db_path), "export", case_id]) == 1
    assert "--fhir FILE and/or --hl7 FILE" in capsys.readouterr().err
    assert main(["--db", str(db_path), "export", case_id, "--hl7", str(tmp_path / "m.hl7")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"checklist-app: error: case {case_id}: the case is not signed by the operator yet")


def test_the_headless_link_without_interfaces_configured_says_so(db_path, capsys):
    assert main(["--db", str(db_path), "interfaces"]) == 1
    assert "no hospital interfaces are configured" in capsys.readouterr().err


def test_a_broken_interfaces_file_is_named_with_its_key(signed_db, site_folder, tmp_path, capsys):
    db, case_id = signed_db
    (site_folder / "interfaces.toml").write_text("[mdm]\nhost = 'engine'\nprot = 2576\n", encoding="utf-8")
    assert main(["--db", str(db), "export", case_id, "--hl7", str(tmp_path / "m.hl7")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("checklist-app: error: ") and "interfaces.toml: [mdm] 'port' is required" in err


def test_the_export_uses_the_sites_names(signed_db, site_folder, tmp_path):
    db, case_id = signed_db
    (site_folder / "interfaces.toml").write_text('[room]\nsending_facility = "IR_ROOM_2"\n', encoding="utf-8")
    assert main(["--db", str(db), "export", case_id, "--hl7", str(tmp_path / "m.hl7")]) == 0
    assert b"|CHECKLIST_APP|IR_ROOM_2|" in (tmp_path / "m.hl7").read_bytes()
