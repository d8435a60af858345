"""Pure-ASGI middleware: request id, access log and metrics on every request; a body size limit.

Pure ASGI (not `BaseHTTPMiddleware`) because it is on every request's path and must stay cheap.
"""

from __future__ import annotations

import re
import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.platform.ids import random_hex
from ingest_api.errors import ApiError, error_response
from ingest_api.metrics import LATENCY, REQUESTS

log = structlog.get_logger("ingest_api.access")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MAX_SERIES = 1_000
_series_cache: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one label set, looked up once per process
    (`labels()` takes a lock and builds a key on every call)."""
    found = _series_cache.get((method, route, status))
    if found is None:
        labels = (method[:16], route, str(status))
        found = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        if len(_series_cache) < _MAX_SERIES:
            _series_cache[(method, route, status)] = found
    return found


class RequestContextMiddleware:
    """Accept a caller's X-Request-ID if it is short and plain, else make one; bind it for logging.

    The access line names the API key (set in the scope state by the auth dependency), never the key.
    Metrics use the route template, so hostile paths cannot blow up label cardinality.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else random_hex(16)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None)
            requests, latency = _series(scope["method"], template or "unmatched", status)
            requests.inc()
            latency.observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                route=template or scope["path"][:200],
                status=status,
                latency_ms=round(elapsed * 1000, 2),
                key_name=state.get("api_key_name"),
                request_id=request_id,
            )
            structlog.contextvars.clear_contextvars()


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413 before anything parses them.

    A declared Content-Length over the limit is refused without reading; otherwise the body is read
    (chunked or not) and counted, refused as soon as it passes the limit, and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._reject(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        buffered: Message | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay() -> Message:
            nonlocal buffered
            if buffered is not None:
                message, buffered = buffered, None
                return message
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(Request(scope), ApiError("payload_too_large"))
        response.headers["connection"] = "close"
        await response(scope, receive, send)
