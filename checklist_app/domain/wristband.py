"""The patient's wristband barcode: the MRN read from a scan by the site's pattern, and the hard stop
when it is not this case's patient (SPEC §5, §13).

A USB scanner types the barcode (e.g. the MRN in Code 128) into the scan field. The site's
`wristband_pattern` (a regular expression with a group named `mrn`, matched against the whole
scan) takes the MRN out of whatever else the hospital prints in the code (a prefix, a check
character, the visit number). The MRN is then compared exactly, character for character, with
the case's: wrong-patient errors are what this prevents, so nothing close counts as a match.
Messages never quote either MRN: a refusal may be logged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .errors import Refusal

DEFAULT_PATTERN = r"\s*(?P<mrn>[^\s]{1,64})\s*"
MATCHED = "wristband scanned: matches the case's MRN"


class WrongPatient(Refusal):
    """The wristband scanned belongs to another patient: a hard stop, nothing is recorded."""

    def __init__(self) -> None:
        super().__init__(
            "wristband",
            "STOP: this wristband is not this case's patient (the MRN differs). Check the patient's identity "
            "with two identifiers before going on; nothing was recorded.",
        )


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise Refusal("wristband", f"the site's wristband pattern is not a valid regular expression ({exc})") from None
    if "mrn" not in compiled.groupindex:
        raise Refusal("wristband", "the site's wristband pattern has no group named 'mrn'")
    return compiled


def mrn_from_scan(scan: str, pattern: str = DEFAULT_PATTERN) -> str:
    """The MRN a wristband scan carries; `Refusal` for a scan that does not fit the site's pattern."""
    if not isinstance(scan, str) or not scan.strip():
        raise Refusal("wristband", "nothing was scanned")
    if len(scan) > 500 or any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in scan.strip("\r\n\t ")):
        raise Refusal("wristband", "this is not a wristband barcode (control characters or too long)")
    match = _compiled(pattern).fullmatch(scan.strip("\r\n"))
    mrn = match.group("mrn") if match else None
    if not mrn or not mrn.strip():
        raise Refusal("wristband", "this barcode is not a wristband of this hospital (it does not fit the pattern)")
    return mrn.strip()


def confirm_wristband(case_mrn: str, scan: str, pattern: str = DEFAULT_PATTERN) -> str:
    """What the record says after a matching scan; `WrongPatient` when the MRN differs."""
    if mrn_from_scan(scan, pattern) != case_mrn.strip():
        raise WrongPatient()
    return MATCHED


# Where the set-up's patient identity came from (recorded in the case's first event, SPEC §13).
SOURCES = {
    "typed": "typed by hand",
    "hospital_list": "picked from the hospital's patient list",
}
LISTS = ("", "adt", "fhir")


def identity_record(identity: object, case_mrn: str, pattern: str = DEFAULT_PATTERN) -> dict[str, str]:
    """The set-up's identity provenance as stored: source, which list, and the wristband check.

    None means typed by hand. A wristband scan given here must match the MRN (else `WrongPatient`).
    """
    if identity is None:
        identity = {}
    if not isinstance(identity, dict):
        raise Refusal("identity", "must say where the patient's identity came from")
    unknown = sorted(set(identity) - {"source", "list", "wristband"})
    if unknown:
        raise Refusal("identity", f"{unknown[0]!r} is not part of the identity's provenance")
    source = identity.get("source") or "typed"
    if source not in SOURCES:
        raise Refusal("identity", f"the source must be one of {', '.join(SOURCES)}")
    which = identity.get("list") or ""
    if which not in LISTS or (source == "typed" and which):
        raise Refusal("identity", "the list must be 'adt' or 'fhir', and only for a patient picked from a list")
    scan = identity.get("wristband")
    checked = confirm_wristband(case_mrn, scan, pattern) if scan else ""
    return {"source": source, "list": which, "wristband": checked}
