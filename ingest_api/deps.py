"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need in their signature.

Dependencies that only read app state are `async def`: FastAPI runs a plain `def` dependency in the
thread pool, a thread hop per request for an attribute read.

- `SessionDep`: one transaction, committed before the response is sent (function scope), rolled
  back if the route raises.
- `CurrentKey`: the authenticated, rate-limited API key (401/429); `AdminKey`: one with role admin (403).
- `VerifiedPhonePeEvent`, `VerifiedRazorpayXEvent`: a verified, parsed webhook delivery (401 otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from domain.api_keys import ApiKey
from domain.settings import Settings
from ingest_api.auth import current_key, require_admin
from ingest_api.verification import PhonePeDelivery, RazorpayXDelivery, verified_phonepe, verified_razorpayx


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _engine(request: Request) -> sa.Engine:
    engine: sa.Engine = request.app.state.engine
    return engine


def _session(engine: Annotated[sa.Engine, Depends(_engine)]) -> Iterator[sa.Connection]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with engine.begin() as conn:
        yield conn


async def _admin_key(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
    return require_admin(key)


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[sa.Engine, Depends(_engine)]
SessionDep = Annotated[sa.Connection, Depends(_session, scope="function")]
CurrentKey = Annotated[ApiKey, Depends(current_key)]
AdminKey = Annotated[ApiKey, Depends(_admin_key)]
VerifiedPhonePeEvent = Annotated[PhonePeDelivery, Depends(verified_phonepe)]
VerifiedRazorpayXEvent = Annotated[RazorpayXDelivery, Depends(verified_razorpayx)]
