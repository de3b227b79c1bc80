"""Hospital interfaces (SPEC §13): patients in (HL7 ADT over MLLP, FHIR R4 Patient search) and the
signed record out (HL7 v2.5 MDM, FHIR R4 transaction bundle). Qt-free and store-free.

Builders and parsers are pure (data in, bytes or records out). The transports (`mllp`,
`fhir_http`, `fhir_patient.search_patients`) do network I/O and are meant to be called from the
outbox worker's thread, never the GUI thread; each returns a `Delivery` whose `outcome` is
ACCEPTED, REJECTED (park, show IT) or TRANSIENT (retry). Every parser raises only subclasses of
`InterfaceError`, whose messages carry no patient data. See docs/interfaces.md.
"""

from .errors import (
    Delivery,
    ExportError,
    FhirError,
    FramingError,
    HL7Error,
    InterfaceError,
    Outcome,
    PatientDataError,
)

__all__ = [
    "Delivery",
    "ExportError",
    "FhirError",
    "FramingError",
    "HL7Error",
    "InterfaceError",
    "Outcome",
    "PatientDataError",
]
