"""The only errors the interfaces package raises, and the outcome of a delivery attempt.

Every parser in this package (ADT, MLLP framing, FHIR Patient bundles) raises nothing but an
`InterfaceError` subclass for bad input. Their messages name the field and the problem, never a
patient's name, MRN or birth date, so they can be logged and shown to IT as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# HL7 table 0008 acknowledgment codes used by the listener.
AA, AE, AR = "AA", "AE", "AR"
# HL7 table 0357 message error condition codes used in ERR-3.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_UNSUPPORTED_MESSAGE = "200"
ERR_UNSUPPORTED_EVENT = "201"
ERR_UNSUPPORTED_VERSION = "203"
ERR_INTERNAL = "207"


class InterfaceError(Exception):
    """Base of every error this package raises for input it cannot use."""


class HL7Error(InterfaceError):
    """An HL7 v2 message that is malformed (AR), unsupported (AR) or has bad content (AE).

    `control_id` and `message_type` come from MSH when it could be read; `condition` is the HL7
    table 0357 code for ERR-3. The text never contains patient data.
    """

    def __init__(
        self,
        reason: str,
        *,
        ack_code: str = AE,
        condition: str = ERR_DATA_TYPE,
        control_id: str = "",
        message_type: str = "",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ack_code = ack_code
        self.condition = condition
        self.control_id = control_id
        self.message_type = message_type


class FramingError(InterfaceError):
    """Bytes that are not one MLLP block (<VT> message <FS><CR>), or a block over the size limit."""


class FhirError(InterfaceError):
    """FHIR content that does not validate against the R4 models, or is not the expected resource."""


class PatientDataError(InterfaceError):
    """A patient identifier, name or birth date this program cannot accept (see `PatientRecord`)."""


class ExportError(InterfaceError):
    """A case that cannot be sent out yet (for example, not signed by the operator)."""


def redacted(text: str, words: tuple[str, ...] = (), limit: int = 200) -> str:
    """Text from a remote system made safe to log: known patient words replaced, control characters
    removed, cut to `limit` characters. The words are what we sent (names, MRN, birth date)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    for word in sorted({w for w in words if len(w) >= 2}, key=len, reverse=True):
        cleaned = cleaned.replace(word, "[withheld]")
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class Outcome(Enum):
    """How a delivery attempt ended, which decides what the outbox does next."""

    ACCEPTED = "accepted"  # acknowledged: mark sent
    REJECTED = "rejected"  # the receiver refused it (AE/AR, HTTP 4xx): park it and show IT, do not retry blindly
    TRANSIENT = "transient"  # network fault, timeout, 5xx, dropped connection: retry with backoff


@dataclass(frozen=True)
class Delivery:
    """The result of one attempt to deliver a message: outcome plus a detail safe to log and show.

    `code` is the ACK code (AA/AE/AR/...) for MLLP or the HTTP status for FHIR; `control_id` is
    the MSH-10 of the message sent (MLLP) so a resend can be matched to its first attempt.
    """

    outcome: Outcome
    detail: str
    code: str = ""
    control_id: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED
