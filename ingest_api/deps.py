"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need in their signature.

Dependencies that only read app state are `async def`: FastAPI runs a plain `def` dependency in the
thread pool, a thread hop per request for an attribute read.

- `SessionDep`: one transaction, committed before the response is sent (function scope), rolled
  back if the route raises; it first takes a connection slot on the event loop (`ConnectionSlots`).
- `CurrentKey`: the authenticated, rate-limited API key (401/429); `AdminKey`: one with role admin (403).
- `IdempotencyKey`: the request's valid `Idempotency-Key` header (400 `idempotency_key_required`).
- `VerifiedPhonePeEvent`, `VerifiedRazorpayXEvent`: a verified, parsed webhook delivery (401 otherwise).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Header, Request

from domain.users.api_keys import ApiKey
from ingest_api import patterns
from ingest_api.auth import current_key, require_admin
from ingest_api.verification import PhonePeDelivery, RazorpayXDelivery, verified_phonepe, verified_razorpayx


class ConnectionSlots:
    """As many slots as the transaction pool has connections, taken on the event loop before a
    request's transaction occupies a worker thread.

    A transaction holds its thread while it waits for a connection or a lock, and its commit (the
    dependency's exit) needs a thread again. Without slots, a burst of more requests than threads
    left the transactions holding connections unable to commit until the requests waiting for one
    timed out: 50 identical webhooks on one worker got 29 x 503. Waiting for a slot holds no thread,
    so at most `size` threads are ever busy with transactions. One semaphore per event loop, as an
    asyncio semaphore belongs to the loop it first waited in.
    """

    def __init__(self, size: int, timeout_s: float) -> None:
        self.size = size
        self.timeout_s = timeout_s
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._per_loop.get(loop)
        if semaphore is None:
            semaphore = self._per_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore

    async def take(self) -> asyncio.Semaphore:
        """The semaphore to release once the transaction has ended. After `timeout_s`, the pool's own
        timeout error, which the API answers like any pool timeout (503 `database_unavailable`)."""
        semaphore = self._semaphore()
        try:
            async with asyncio.timeout(self.timeout_s):
                await semaphore.acquire()
        except TimeoutError:
            raise sa.exc.TimeoutError(f"no connection slot free within {self.timeout_s} s") from None
        return semaphore


async def _engine(request: Request) -> sa.Engine:
    engine: sa.Engine = request.app.state.engine
    return engine


async def _connection_slot(request: Request) -> AsyncIterator[None]:
    slots: ConnectionSlots = request.app.state.connection_slots
    semaphore = await slots.take()
    try:
        yield
    finally:
        semaphore.release()


def _session(
    engine: Annotated[sa.Engine, Depends(_engine)], _slot: Annotated[None, Depends(_connection_slot)]
) -> Iterator[sa.Connection]:
    """One transaction per request: committed when the route returns, rolled back if it raises.
    The slot is released after the commit (dependencies exit in reverse order)."""
    with engine.begin() as conn:
        yield conn


async def _idempotency_key(
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            pattern=patterns.IDEMPOTENCY_KEY,
            description="Unique per intended request (1-128 visible ASCII characters); a retry reuses it.",
        ),
    ],
) -> str:
    """Missing or malformed, it is 400 `idempotency_key_required` (`ingest_api.errors`)."""
    return idempotency_key


async def _admin_key(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
    return require_admin(key)


EngineDep = Annotated[sa.Engine, Depends(_engine)]
SessionDep = Annotated[sa.Connection, Depends(_session, scope="function")]
CurrentKey = Annotated[ApiKey, Depends(current_key)]
AdminKey = Annotated[ApiKey, Depends(_admin_key)]
IdempotencyKey = Annotated[str, Depends(_idempotency_key)]
VerifiedPhonePeEvent = Annotated[PhonePeDelivery, Depends(verified_phonepe)]
VerifiedRazorpayXEvent = Annotated[RazorpayXDelivery, Depends(verified_razorpayx)]
