"""FHIR REST transport (httpx): POST a transaction bundle and classify the answer. Worker thread only.

2xx with a transaction-response Bundle -> ACCEPTED; 4xx -> REJECTED with the OperationOutcome's
diagnostics (patient words withheld); 5xx, timeouts and connection errors -> TRANSIENT. A 2xx
whose body is not a transaction-response is REJECTED: something answered that is not a FHIR server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import Delivery, Outcome, redacted

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class FhirEndpoint:
    """A FHIR R4 server: base URL, timeout (s) and optional headers (e.g. Authorization).

    `trust_env` is off by default: proxies come from explicit configuration, not from whatever
    HTTP(S)_PROXY the workstation happens to have.
    """

    base_url: str
    timeout: float = 30.0
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool = True
    trust_env: bool = False

    def client(self) -> httpx.Client:
        headers = {"Accept": FHIR_JSON, **dict(self.headers)}
        return httpx.Client(
            base_url=self.base_url.rstrip("/") + "/",
            timeout=self.timeout,
            headers=headers,
            verify=self.verify,
            trust_env=self.trust_env,
            follow_redirects=False,
        )


def post_transaction(endpoint: FhirEndpoint, bundle: bytes, *, patient_words: tuple[str, ...] = ()) -> Delivery:
    """POST the bundle to [base] and say what became of it."""
    try:
        with endpoint.client() as client:
            response = client.post("", content=bundle, headers={"Content-Type": f"{FHIR_JSON}; charset=utf-8"})
    except httpx.TimeoutException:
        return Delivery(Outcome.TRANSIENT, f"no answer within {endpoint.timeout:g} s")
    except httpx.TransportError as exc:  # connect, read, write, protocol errors
        return Delivery(Outcome.TRANSIENT, f"network error ({type(exc).__name__})")
    return classify_response(response.status_code, response.content, patient_words)


def classify_response(status: int, body: bytes, patient_words: tuple[str, ...] = ()) -> Delivery:
    """The outcome of a transaction POST from its HTTP status and body."""
    code = str(status)
    if 200 <= status < 300:
        data = _json(body)
        if data.get("resourceType") == "Bundle" and data.get("type") == "transaction-response":
            return Delivery(Outcome.ACCEPTED, f"transaction-response with {len(data.get('entry') or [])} entries", code)
        return Delivery(Outcome.REJECTED, "HTTP 2xx without a transaction-response Bundle", code)
    if 400 <= status < 500:
        text = outcome_text(_json(body)) or f"HTTP {status}"
        return Delivery(Outcome.REJECTED, redacted(text, patient_words), code)
    if status >= 500:
        return Delivery(Outcome.TRANSIENT, f"server error HTTP {status}", code)
    return Delivery(Outcome.REJECTED, f"unexpected HTTP {status}", code)


def outcome_text(data: dict[str, Any]) -> str:
    """The issues of an OperationOutcome as one line: 'error invalid: diagnostics; ...'."""
    if data.get("resourceType") != "OperationOutcome" or not isinstance(data.get("issue"), list):
        return ""
    parts = []
    for issue in data["issue"][:5]:
        if not isinstance(issue, dict):
            continue
        raw = issue.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        said = issue.get("diagnostics") or details.get("text") or ""
        parts.append(f"{issue.get('severity', '')} {issue.get('code', '')}: {said}".strip())
    return "; ".join(parts)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
