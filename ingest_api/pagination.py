"""The one cursor codec of every paginated listing: opaque, URL-safe, and refused unless this API made it.

A cursor is the sort key of the last row of a page, its parts joined by "|" and base64url-encoded.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Query

from ingest_api.errors import ApiError

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,400}={0,2}$"

Cursor = Annotated[
    str | None,
    Query(max_length=402, pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page."),
]


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The cursor's parts; `invalid_cursor` unless it has exactly `parts` non-empty ones."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (binascii.Error, UnicodeError, ValueError):
        raise ApiError("invalid_cursor") from None
    if len(decoded) != parts or not all(decoded):
        raise ApiError("invalid_cursor")
    return decoded
