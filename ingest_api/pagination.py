"""The cursors of the paginated listings: the sort key of a page's last row, as text in a format the
OpenAPI schema publishes exactly.

Keyset pagination needs no row at the key, so every cursor that matches its published pattern is a
position in the listing's order: a request the schema allows is never refused for its cursor, and
one it does not allow is `invalid_cursor`. Clients still pass `next_cursor` back as it came; the
format may change with the API version.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from ingest_api import patterns

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)

TIME_CURSOR_PATTERN = r"^[0-9]{1,17}\.[A-Za-z0-9_-]{1,64}$"
"""`<microseconds since the Unix epoch>.<id>`; 17 digits reach the year 5138."""

TimeCursor = Annotated[
    str | None,
    Query(max_length=82, pattern=TIME_CURSOR_PATTERN, description="`next_cursor` of the previous page."),
]
"""The cursor of a listing ordered by a time and an id (orders: `created_at`, `order_id`)."""

IdCursor = Annotated[
    str | None,
    Query(max_length=64, pattern=patterns.IDENTIFIER, description="`next_cursor` of the previous page."),
]
"""The cursor of a listing ordered by its time-ordered ids (payouts): the last id of the page."""


def time_cursor(at: dt.datetime, row_id: str) -> str:
    return f"{(at - _EPOCH) // _MICROSECOND}.{row_id}"


def parse_time_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The position of a `TimeCursor`, which FastAPI has already matched against its pattern."""
    micros, row_id = cursor.split(".", 1)
    return _EPOCH + int(micros) * _MICROSECOND, row_id


SEQUENCE_CURSOR_PATTERN = r"^[0-9]{1,18}$"
"""A position in a bigint sequence; 18 digits always fit a bigint."""

SequenceCursor = Annotated[
    str | None,
    Query(max_length=18, pattern=SEQUENCE_CURSOR_PATTERN, description="`next_cursor` of the previous page."),
]
"""The cursor of a listing ordered by a sequence number (a user's notifications: their delivery's)."""
