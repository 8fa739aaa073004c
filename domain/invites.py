"""Invite codes: random, single-use, stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

# 16 random bytes (128 bits) in URL-safe base64 is 22 characters, all of which
# Telegram allows in a /start parameter.
CODE_BYTES = 16
CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22}$")
_EXPIRY = re.compile(r"^(\d{1,4})([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def new_invite_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def hash_invite_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def looks_like_invite_code(text: str) -> bool:
    return CODE_SHAPE.fullmatch(text) is not None


def parse_expiry(text: str) -> timedelta:
    """Read "30m", "12h", "7d" or "2w"; raise ValueError with the accepted forms."""
    match = _EXPIRY.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration such as 30m, 12h, 7d or 2w, got {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"
