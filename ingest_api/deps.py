"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need in their signature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from domain.settings import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _engine(request: Request) -> sa.Engine:
    engine: sa.Engine = request.app.state.engine
    return engine


def _session(engine: Annotated[sa.Engine, Depends(_engine)]) -> Iterator[sa.Connection]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with engine.begin() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[sa.Engine, Depends(_engine)]
SessionDep = Annotated[sa.Connection, Depends(_session)]
