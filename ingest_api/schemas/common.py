"""Field types the request bodies, paths and queries share. Requests are strict (no type coercion) and refuse
unknown fields; patterns are published in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ingest_api import patterns

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=patterns.NAME)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=patterns.EMAIL)]
Phone = Annotated[str, StringConstraints(min_length=10, max_length=16, pattern=patterns.PHONE)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=patterns.FREE_TEXT)]


def _integral(value: object) -> object:
    """JSON Schema's `integer` is any number without a fraction, so `1.0` and `1e3` are integers the schema
    allows; strict mode alone would refuse them as floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Paise = Annotated[int, Field(ge=1, le=2**53 - 1), BeforeValidator(_integral)]
"""At most 2^53 - 1, the largest integer every JSON parser reads exactly (RFC 7493). FastAPI publishes
bounds as doubles: 2^63 - 1 went out as 2^63, and a validator comparing doubles took 2^63 + 191 for valid.
The bounds come before the validator, or pydantic publishes them as `ge`/`le`, which no client reads."""

SignedPaise = Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1), BeforeValidator(_integral)]
"""An amount whose sign the domain judges, so a zero or negative one gets its own error code."""

PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]
"""A user, order or payout id in a path."""


def _rfc3339(pattern: str) -> Callable[[object], object]:
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and compiled.fullmatch(value) is None:
            raise ValueError("not an RFC 3339 date or date-time (a date-time needs its UTC offset)")
        return value

    return check


def _utc(value: dt.datetime) -> dt.datetime:
    """In UTC, as PostgreSQL refuses offsets beyond 15:59. An instant out of Python's range in UTC is
    beyond every row, so the first or last representable instant filters alike."""
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        if value.year == dt.MINYEAR:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        return dt.datetime.max.replace(tzinfo=dt.UTC)


QueryDate = Annotated[dt.date, BeforeValidator(_rfc3339(patterns.FULL_DATE))]
QueryDateTime = Annotated[dt.datetime, BeforeValidator(_rfc3339(patterns.DATE_TIME)), AfterValidator(_utc)]
"""A query time, in UTC."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
