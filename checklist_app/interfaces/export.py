"""Files for `checklist-app export CASE --fhir bundle.json --hl7 msg.hl7` (no network), and the builders'
one entry point from a case state.

The command line is wired by the main engineer; these take a service (anything with `state(case_id)`
and, for the safe write, `store.path`) and a path, and write atomically, readable by the owner only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from ..domain.errors import Refusal
from ..domain.state import CaseState
from ..note import check_writable, database_files, render_note, write_private
from .case_export import OutboundCase, outbound_case
from .fhir_bundle import build_bundle
from .hl7_mdm import build_mdm_bytes
from .profile import InterfaceSettings


class CaseSource(Protocol):
    """What export needs of the service: the case state by id."""

    def state(self, case_id: str) -> CaseState: ...


def outbound(state: CaseState) -> tuple[OutboundCase, bytes]:
    """The case at its current document version and its PDF operative note."""
    return outbound_case(state), render_note(state)


def fhir_bytes(state: CaseState, settings: InterfaceSettings | None = None) -> bytes:
    case, pdf = outbound(state)
    return build_bundle(case, pdf, settings)


def hl7_bytes(state: CaseState, settings: InterfaceSettings | None = None) -> bytes:
    case, pdf = outbound(state)
    return build_mdm_bytes(case, pdf, settings)


def export_fhir(
    service: CaseSource, case_id: str, path: os.PathLike[str] | str, settings: InterfaceSettings | None = None
) -> Path:
    """Write the FHIR R4 transaction bundle of a signed case to `path`."""
    return _write(service, case_id, path, lambda state: fhir_bytes(state, settings), b"{")


def export_hl7(
    service: CaseSource, case_id: str, path: os.PathLike[str] | str, settings: InterfaceSettings | None = None
) -> Path:
    """Write the HL7 v2.5 MDM message of a signed case to `path` (segments separated by CR)."""
    return _write(service, case_id, path, lambda state: hl7_bytes(state, settings), b"MSH|")


def _write(service: CaseSource, case_id: str, path: os.PathLike[str] | str, build, magic: bytes) -> Path:
    """Write atomically (owner-only temporary file, then rename); an earlier export of the same kind
    may be replaced, any other existing file (the database above all) is refused."""
    target = Path(path)
    protected = database_files(service)
    staging = target.with_name(f".{target.name}.export")
    if target.exists() and not target.is_dir():
        if not _starts_with(target, magic):
            raise Refusal("output", f"{target} already exists and is not an earlier export; choose another file name")
        check_writable(staging, protected=protected)
    else:
        check_writable(target, protected=protected)  # before building: a wrong path fails fast
    write_private(staging, build(service.state(case_id)), protected=protected)
    os.replace(staging, target)
    return target


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return False
