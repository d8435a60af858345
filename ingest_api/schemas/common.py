"""Field types every request body and path shares. Requests are strict (no type coercion) and refuse
unknown fields; patterns are published in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ingest_api import patterns

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=patterns.NAME)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=patterns.EMAIL)]
Phone = Annotated[str, StringConstraints(min_length=10, max_length=16, pattern=patterns.PHONE)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=patterns.FREE_TEXT)]
Paise = Annotated[int, Field(ge=1, le=2**63 - 1)]

PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]
"""A user, order or payout id in a path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
