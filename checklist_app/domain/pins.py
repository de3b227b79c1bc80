"""Signature PINs: stored only as salted, slow (scrypt) hashes, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from .errors import Refusal

# scrypt cost: about 50 ms per check on a room workstation; slow enough to make guessing dear.
_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str) -> str:
    """'scrypt$N$r$p$salt$hash' for a PIN of 4 to 12 digits."""
    if not isinstance(pin, str) or not (pin.isascii() and pin.isdigit()) or not 4 <= len(pin) <= 12:
        raise Refusal("pin", "must be 4 to 12 digits")
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        check = hashlib.scrypt(
            str(pin).encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(check, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
