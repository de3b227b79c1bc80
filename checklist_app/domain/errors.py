"""The one error the domain and services raise for anything a person must fix."""

from __future__ import annotations


class Refusal(ValueError):
    """A clear refusal: `field` names what is wrong, the message says why and the limit.

    Raised before anything is written, so a refusal never leaves a partial record.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
