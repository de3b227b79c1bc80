"""Implant barcodes: a GS1 scan (element string or Digital Link URI) read into GTIN, lot, expiry, serial.

Parsing is biip's (a maintained GS1 library), never ours. A USB scanner types like a keyboard,
so the text may carry the ASCII 29 group separator (GS, ``\\x1d``), the visible stand-in
``␝`` (U+241D, which the scan field inserts when the scanner sends GS, because a text field cannot
show a control character), no separator at all when the fields before the last are fixed length,
a symbology identifier such as ``]C1`` (GS1-128), ``]d2`` (GS1 DataMatrix), ``]Q3`` (GS1 QR) or
``]e0`` (GS1 DataBar), a scanner's text stand-in for GS (``<GS>``, ``^]``, ``{GS}``), or a trailing
Enter. Human-readable text typed from a label, ``(01)…(17)…(10)…``, is read too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from .catalogue import Catalogue, Product
from .errors import Refusal

if TYPE_CHECKING:
    from biip import ParseConfig
    from biip.gs1_element_strings import GS1ElementString

# biip is imported on the first scan, not with this module: it costs ~90 ms, and the batch panel
# imports this module when its page is built, before anyone scans anything.
GS = "\x1d"
GS_VISIBLE = "\u241d"  # ␝ SYMBOL FOR GROUP SEPARATOR
_GTIN_LENGTHS = (8, 12, 13, 14)
_SHOWN = 40  # characters of a bad scan quoted back in a message
AI_GTIN, AI_LOT, AI_EXPIRY, AI_SERIAL = "01", "10", "17", "21"


@dataclass(frozen=True)
class Scan:
    """What one scan says. `gtin` is 14 digits; `product` is the catalogue entry, or None if unknown.

    `messages` are for the person at the screen (unknown product, expired lot, missing expiry).
    """

    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    product: Product | None
    expired: bool
    messages: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        return " ".join(self.messages)


def parse_scan(text: str, *, today: date, catalogue: Catalogue) -> Scan:
    """Read a scan. Refuses (field ``barcode``) a wrong GTIN check digit or text that is not GS1."""
    raw = _clean(text)
    elements = _elements(raw)
    gtin = _gtin(elements)
    lot = _text(elements, AI_LOT)
    serial = _text(elements, AI_SERIAL)
    expiry_element = elements.get(AI_EXPIRY)
    expiry = expiry_element.date if expiry_element else None
    if gtin is None and lot is None and expiry is None and serial is None:
        raise _unreadable(raw, "it holds no GTIN, lot, expiry or serial number")
    product = catalogue.by_gtin(gtin) if gtin else None
    expired = expiry is not None and expiry < today
    messages = []
    if gtin is None:
        messages.append("The scan has no GTIN; choose the product by hand.")
    elif product is None:
        messages.append(f"Unknown product GTIN {gtin}; choose the product by hand.")
    if expiry is None:
        messages.append("The scan has no expiry date; type it from the label.")
    elif expired:
        messages.append(f"Lot {lot or '?'} EXPIRED on {expiry.isoformat()}.")
    return Scan(gtin, lot, expiry, serial, product, expired, tuple(messages))


@cache
def _config() -> ParseConfig:
    from biip import ParseConfig

    return ParseConfig(separator_chars=(GS, GS_VISIBLE))


# What scanners send instead of a real GS when the keyboard path cannot carry ASCII 29: the text
# "<GS>" (a common scanner setting), caret notation "^]", and "{GS}". None of "^", "{" or "}" is in
# the GS1 character set of lot and serial numbers; "<GS>" could only clash with a lot that contains
# those four characters, which no GS1 label uses as data.
GS_SUBSTITUTES = ("<GS>", "<gs>", "^]", "{GS}", "{gs}")


def normalise_separators(text: str) -> str:
    """Every stand-in for the group separator made the real GS (ASCII 29)."""
    for substitute in (*GS_SUBSTITUTES, GS_VISIBLE):
        text = text.replace(substitute, GS)
    return text


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise Refusal("barcode", "the scan is not text")
    # str.strip() also removes a leading or trailing GS (Python counts it as white space): harmless.
    raw = normalise_separators(text).strip()
    if not raw:
        raise Refusal("barcode", "the scan is empty: scan again, or type the fields by hand")
    return raw


def _elements(raw: str) -> dict[str, GS1ElementString]:
    """The element strings of the scan by AI (a bare GTIN becomes a one-element message)."""
    import biip
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    if raw.startswith("("):
        try:
            message = GS1Message.parse_hri(raw, config=_config())
        except (ParseError, ValueError, IndexError) as exc:
            raise _unreadable(raw, str(exc)) from None
        return _by_ai(message.element_strings, raw)
    if raw.isascii() and raw.isdigit() and len(raw) in _GTIN_LENGTHS:
        raw = f"{AI_GTIN}{raw.zfill(14)}"  # a plain EAN/UPC/GTIN-14 symbol: the product only
    try:
        result = biip.parse(raw, config=_config())
    except (ParseError, ValueError, IndexError) as exc:  # biip raises IndexError on a lone "]"
        raise _unreadable(raw, str(exc)) from None
    if result.gs1_digital_link_uri is not None:
        return _by_ai(result.gs1_digital_link_uri.element_strings, raw)
    if result.gs1_message is not None and result.gs1_message.element_strings:
        return _by_ai(result.gs1_message.element_strings, raw)
    errors = [result.gs1_digital_link_uri_error, result.gs1_message_error, result.gtin_error]
    _refuse_check_digit(raw, [e for e in errors if e])
    reason = result.gs1_digital_link_uri_error if raw.lower().startswith("http") else result.gs1_message_error
    raise _unreadable(raw, reason or "no GS1 data found")


def _by_ai(elements: list[GS1ElementString], raw: str) -> dict[str, GS1ElementString]:
    found: dict[str, GS1ElementString] = {}
    for element in elements:
        ai = element.ai.ai
        if ai in found and found[ai].value != element.value:
            raise _unreadable(raw, f"AI ({ai}) appears twice with different values")
        found[ai] = element
    return found


def _gtin(elements: dict[str, GS1ElementString]) -> str | None:
    element = elements.get(AI_GTIN)
    if element is None:
        return None
    if element.gtin is None:
        _refuse_check_digit(element.value, [element.gtin_error or ""], digits=element.value)
        raise Refusal("barcode", f"GTIN {element.value} is not valid: {element.gtin_error}")
    return element.gtin.as_gtin_14()


def _refuse_check_digit(raw: str, errors: list[str], *, digits: str | None = None) -> None:
    if not any("check digit" in error.lower() for error in errors):
        return
    shown = digits or _shown(raw)
    detail = ""
    if digits and digits.isdigit() and len(digits) > 1:
        from biip.checksums import gs1_standard_check_digit

        expected = gs1_standard_check_digit(digits[:-1])
        detail = f" (the last digit is {digits[-1]}, it should be {expected})"
    raise Refusal(
        "barcode",
        f"wrong check digit in GTIN {shown}{detail}: the scan was misread or the label is damaged. "
        "Scan again, or type the fields by hand.",
    )


def _text(elements: dict[str, GS1ElementString], ai: str) -> str | None:
    element = elements.get(ai)
    return element.value if element and element.value else None


def _unreadable(raw: str, reason: str) -> Refusal:
    return Refusal("barcode", f"'{_shown(raw)}' is not a GS1 barcode this program can read ({reason})")


def _shown(raw: str) -> str:
    visible = raw.replace(GS, GS_VISIBLE)
    return visible if len(visible) <= _SHOWN else visible[: _SHOWN - 1] + "…"
