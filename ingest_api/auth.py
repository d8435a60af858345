"""Bearer API keys: look-up with a short-lived per-worker cache, role checks, per-key rate limits.

The cache maps the key's SHA-256 to the key record (or to "unknown") for `API_KEY_CACHE_TTL_S`, so a
busy client costs one hash and a dict look-up per request; a revoked key stops working within that
time. The cache is bounded, so random keys cannot grow it without limit. When an entry expires under
load, one look-up runs and the requests that arrive meanwhile wait for it, rather than each taking a
connection for the same row.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from fastapi import Request
from fastapi.openapi.models import HTTPBearer
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from domain.platform.settings import Settings
from domain.users.api_keys import ApiKey, find_key, hash_key
from ingest_api.errors import ApiError
from ingest_api.metrics import RATE_LIMITED
from ingest_api.ratelimit import SharedRateLimiter

_MAX_CACHED = 10_000
_MAX_KEY_LENGTH = 256
_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


class ApiKeyCache:
    def __init__(self, engine: sa.Engine, ttl_s: float) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}
        self._loading: dict[str, asyncio.Task[ApiKey | None]] = {}

    async def get(self, key_hash: str) -> ApiKey | None:
        entry = self._entries.get(key_hash)
        if entry is not None and entry[0] >= time.monotonic():
            return entry[1]
        loading = self._loading.get(key_hash)
        # A look-up belongs to the event loop that started it; one left by a loop that stopped
        # mid-look-up (an app served by successive test clients, say) is never awaited again.
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            loading = self._loading[key_hash] = asyncio.ensure_future(self._load_once(key_hash))
        return await asyncio.shield(loading)  # a waiter that goes away does not cancel the others' look-up

    async def _load_once(self, key_hash: str) -> ApiKey | None:
        try:
            return await run_in_threadpool(self.load, key_hash)
        finally:
            if self._loading.get(key_hash) is asyncio.current_task():
                del self._loading[key_hash]

    def load(self, key_hash: str) -> ApiKey | None:
        with self._engine.connect() as conn:
            key = find_key(conn, key_hash)
        if self._ttl_s > 0:
            if len(self._entries) >= _MAX_CACHED:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic() + self._ttl_s, key)
        return key


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_KEY_LENGTH:
        raise ApiError("unauthorized", headers=_UNAUTHORIZED_HEADERS)
    return token


async def enforce_rate_limit(request: Request, bucket: str, limit: int, scope: str) -> None:
    limiter: SharedRateLimiter = request.app.state.rate_limiter
    decision = limiter.hit(bucket, limit)
    if decision.allowed and decision.flush:
        decision = await run_in_threadpool(limiter.flush, bucket, limit)
    if not decision.allowed:
        RATE_LIMITED.labels(scope).inc()
        raise ApiError("rate_limited", headers={"Retry-After": str(decision.retry_after_s)})


class BearerApiKey(SecurityBase):
    """The API key dependency, a FastAPI security scheme so that the OpenAPI schema declares the bearer
    key on every route taking one, with no extra dependency per request."""

    def __init__(self) -> None:
        self.model = HTTPBearer(description="An API key: `Authorization: Bearer <key>`; admin routes need role admin.")
        self.scheme_name = "ApiKey"

    async def __call__(self, request: Request) -> ApiKey:
        """The authenticated key (401 if missing, unknown or revoked), after its rate limit (429)."""
        key_hash = hash_key(_bearer(request))
        cache: ApiKeyCache = request.app.state.api_key_cache
        key = await cache.get(key_hash)
        if key is None:
            raise ApiError("unauthorized", headers=_UNAUTHORIZED_HEADERS)
        request.state.api_key_name = key.name
        settings: Settings = request.app.state.settings
        await enforce_rate_limit(request, f"key:{key.api_key_id}", settings.rate_limit_per_key_per_minute, "api_key")
        return key


current_key = BearerApiKey()


def require_admin(key: ApiKey) -> ApiKey:
    if key.role != "admin":
        raise ApiError("forbidden")
    return key
