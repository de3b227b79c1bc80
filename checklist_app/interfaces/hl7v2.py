"""HL7 v2 through python-hl7: parsing with our own errors, field access, escaping, time stamps and ACKs.

Three things python-hl7 0.4.5 does that a clinical program must not, and what we do instead:

* its `unescape` and `split_file` log the field being decoded (a patient name, an MRN) at
  WARNING/ERROR on loggers named after their file paths: a filter installed here replaces those
  records' text before any handler sees it;
* its `escape` turns every non-ASCII character into ``\\Xhh\\`` of the code point (wrong for
  UTF-8, where ``\\Xhh\\`` means bytes): `escape` here escapes only the delimiters and sends
  Unicode as it is, declared in MSH-18 as ``UNICODE UTF-8``;
* its parser raises whatever Python raises on hostile input (IndexError, AssertionError...):
  `parse` here turns any failure into `HL7Error`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import hl7
import hl7.containers
import hl7.util

from .errors import AR, ERR_DATA_TYPE, ERR_REQUIRED_FIELD, ERR_SEGMENT_SEQUENCE, HL7Error

ENCODING = "utf-8"
CHARSET = "UNICODE UTF-8"  # MSH-18 (HL7 table 0211)
FIELD, COMPONENT, REPETITION, ESCAPE, SUBCOMPONENT = "|", "^", "~", "\\", "&"
ENCODING_CHARACTERS = COMPONENT + REPETITION + ESCAPE + SUBCOMPONENT
MAX_MESSAGE_CHARS = 4 * 1024 * 1024


class _WithholdFieldValues(logging.Filter):
    """Rewrites python-hl7's own log records, which quote the field being decoded, before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = "python-hl7 reported a problem decoding a field (value withheld)"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def _install_log_filter() -> None:
    for module in (hl7.util, hl7.containers):
        logger = logging.getLogger(module.__file__)
        if not any(isinstance(f, _WithholdFieldValues) for f in logger.filters):
            logger.addFilter(_WithholdFieldValues())


_install_log_filter()


@dataclass(frozen=True)
class Header:
    """What MSH says about a message: enough to acknowledge it and to log it without patient data."""

    control_id: str
    message_code: str
    trigger: str
    structure: str
    version: str
    charset: str

    @property
    def message_type(self) -> str:
        return f"{self.message_code}^{self.trigger}" if self.trigger else self.message_code


def normalise(text: str) -> str:
    """Segments separated by CR only (some engines send LF or CRLF), outer whitespace trimmed."""
    return text.replace("\r\n", "\r").replace("\n", "\r").strip()


def parse(text: str) -> hl7.Message:
    """One HL7 v2 message as python-hl7's tree; `HL7Error` (AR) for anything that is not one."""
    if not isinstance(text, str):
        raise HL7Error("message is not text", ack_code=AR)
    if len(text) > MAX_MESSAGE_CHARS:
        raise HL7Error("message is too long", ack_code=AR)
    body = normalise(text)
    if not body.startswith("MSH") or len(body) < 8:
        raise HL7Error("message does not start with an MSH segment", ack_code=AR, condition=ERR_SEGMENT_SEQUENCE)
    separator, encoding = body[3], body[4:8]
    delimiters = separator + encoding
    if len(set(delimiters)) != 5 or any(ch.isalnum() or ch in "\r " for ch in delimiters):
        raise HL7Error("MSH-1/MSH-2 delimiters are not five distinct punctuation characters", ack_code=AR)
    if body.count("\rMSH") or any(seg[:3] in ("BHS", "FHS") for seg in body.split("\r")):
        raise HL7Error("batches and files are not accepted: one message per MLLP block", ack_code=AR)
    try:
        message = hl7.parse(body)
        message.segment("MSH")
    except Exception as exc:  # python-hl7 raises assorted built-in errors on hostile input
        raise HL7Error(f"message could not be parsed ({type(exc).__name__})", ack_code=AR) from None
    if not isinstance(message, hl7.Message):
        raise HL7Error("message could not be parsed", ack_code=AR)
    return message


def value(segment: hl7.Segment, field: int, component: int = 1, subcomponent: int = 1, repetition: int = 1) -> str:
    """One unescaped value ('' when absent); never raises for a missing or oddly shaped field."""
    reps = repetitions(segment, field)
    if repetition > len(reps):
        return ""
    components = reps[repetition - 1]
    if component > len(components):
        return ""
    subs = components[component - 1]
    return subs[subcomponent - 1] if subcomponent <= len(subs) else ""


def repetitions(segment: hl7.Segment, field: int) -> list[list[list[str]]]:
    """A field as repetitions -> components -> subcomponents, every leaf unescaped."""
    if field >= len(segment):
        return []
    raw = segment[field]
    if segment[0][0] == "MSH" and field in (1, 2):
        return [[[str(raw)]]]
    out = []
    for rep in raw if isinstance(raw, hl7.Field) else [raw]:
        comps = rep if isinstance(rep, hl7.Repetition) else [rep]
        out.append([_subcomponents(segment, comp) for comp in comps])
    return out


def _subcomponents(segment: hl7.Segment, comp: object) -> list[str]:
    parts = comp if isinstance(comp, hl7.Component) else [comp]
    try:
        return [hl7.util.unescape(segment, str(p)) for p in parts]
    except Exception:  # an escape sequence python-hl7 cannot decode: keep the text as sent
        return [str(p) for p in parts]


def header(message: hl7.Message) -> Header:
    """MSH-9, MSH-10, MSH-12 and MSH-18, as text."""
    msh = message.segment("MSH")
    return Header(
        control_id=value(msh, 10)[:50],
        message_code=value(msh, 9, 1)[:10],
        trigger=value(msh, 9, 2)[:10],
        structure=value(msh, 9, 3)[:10],
        version=value(msh, 12)[:10],
        charset=value(msh, 18)[:30],
    )


def segments(message: hl7.Message, name: str) -> list[hl7.Segment]:
    return [seg for seg in message if seg and seg[0] and str(seg[0][0]) == name]


def required_segment(message: hl7.Message, name: str, head: Header) -> hl7.Segment:
    found = segments(message, name)
    if not found:
        raise _content_error(f"{name} segment is missing", head, ERR_SEGMENT_SEQUENCE)
    return found[0]


def _content_error(reason: str, head: Header, condition: str = ERR_REQUIRED_FIELD) -> HL7Error:
    return HL7Error(reason, condition=condition, control_id=head.control_id, message_type=head.message_type)


# -- writing ------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Delimiters escaped (HL7 v2.5 §2.7.4), line breaks as \\.br\\; every other character sent as it is."""
    out = []
    for ch in text:
        if ch == ESCAPE:
            out.append("\\E\\")
        elif ch == FIELD:
            out.append("\\F\\")
        elif ch == COMPONENT:
            out.append("\\S\\")
        elif ch == SUBCOMPONENT:
            out.append("\\T\\")
        elif ch == REPETITION:
            out.append("\\R\\")
        elif ch == "\n":
            out.append("\\.br\\")
        elif ch == "\r" or (ord(ch) < 32 and ch != "\t"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def components(*parts: str) -> str:
    """Escaped components joined with ^, trailing empties dropped."""
    joined = COMPONENT.join(escape(p) for p in parts)
    return joined.rstrip(COMPONENT)


def segment(name: str, *fields: str) -> str:
    """A segment from already-escaped fields; trailing empty fields dropped."""
    return FIELD.join([name, *fields]).rstrip(FIELD)


def assemble(segment_texts: list[str]) -> str:
    """Join segments and have python-hl7 parse the result back: what we send is what it reads."""
    text = "\r".join(segment_texts) + "\r"
    parsed = parse(text)
    if str(parsed) != text:
        raise ValueError("python-hl7 does not read the built message back identically")
    return text


def timestamp(moment: datetime) -> str:
    """HL7 TS/DTM in UTC with its offset, to the second: 20260302081500+0000."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def parse_date(text: str) -> date | None:
    """A DT/TS to its date; None for an empty or partial (year or month only) value."""
    digits = text.strip()[:8]
    if len(digits) < 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def parse_timestamp(text: str) -> datetime | None:
    """A TS/DTM to an aware datetime (no offset is read as UTC); None when it cannot be read."""
    raw = text.strip()
    body, sign, offset = raw, "", ""
    for mark in ("+", "-"):
        if mark in raw[8:]:
            at = raw.index(mark, 8)
            body, sign, offset = raw[:at], mark, raw[at + 1 :]
    body = body.split(".")[0]
    if len(body) < 8 or not body.isdigit() or len(body) > 14:
        return None
    body = body.ljust(14, "0")
    try:
        moment = datetime.strptime(body, "%Y%m%d%H%M%S")
        tz = UTC
        if offset:
            if len(offset) != 4 or not offset.isdigit():
                return None
            delta = timedelta(hours=int(offset[:2]), minutes=int(offset[2:]))
            tz = timezone(-delta if sign == "-" else delta)
        return moment.replace(tzinfo=tz)
    except ValueError:
        return None


def acknowledgement(
    message: hl7.Message | None,
    code: str,
    *,
    text: str = "",
    condition: str = "",
    control_id: str,
    sending: tuple[str, str],
    at: datetime,
) -> str:
    """An original-mode ACK (MSA, and ERR for AE/AR). From the message when its MSH could be read."""
    if message is not None:
        ack = message.create_ack(code, control_id, escape(sending[0]), escape(sending[1]))
        ack.segment("MSH").assign_field(timestamp(at), 7)
        ack.segment("MSH").assign_field(CHARSET, 18)
        lines = str(ack).rstrip("\r").split("\r")
        if text:
            lines[1] = f"{lines[1]}|{escape(text[:80])}"
    else:
        msh = segment("MSH", ENCODING_CHARACTERS, escape(sending[0]), escape(sending[1]), "", "", timestamp(at))
        msh += f"||ACK|{escape(control_id)}|P|2.5||||||{CHARSET}"
        lines = [msh, segment("MSA", code, "", escape(text[:80]))]
    if code != "AA":
        lines.append(segment("ERR", "", "", f"{condition or ERR_DATA_TYPE}^^HL70357", "E", "", "", "", escape(text)))
    return "\r".join(lines) + "\r"
