"""Field types every request body and path shares. Requests are strict (no type coercion) and refuse
unknown fields; patterns are published in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

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


PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]
"""A user, order or payout id in a path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
