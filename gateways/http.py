"""One HTTP transport for both gateways: pooled `requests` session, explicit timeouts, error classes.

The classification is the contract callers rely on (see gateways/errors.py):
- nothing was sent (connect timeout, refused, DNS) -> RetriableError;
- the gateway answered 5xx or 429 -> RetriableError (429 carries `retry_after_s`);
- the gateway answered another 4xx -> FinalError (404 -> NotFoundError);
- the request may have arrived (read timeout, connection dropped after sending, unreadable 2xx) ->
  OutcomeUnknownError on a money-moving call, RetriableError on a read-only one.
Money-moving calls are sent exactly once; read-only calls retry retriable errors with jittered backoff.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import structlog
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from domain.platform.gateway_errors import FinalError, GatewayError, NotFoundError, OutcomeUnknownError, RetriableError
from domain.platform.settings import Settings

log = structlog.get_logger(__name__)

MAX_BODY_IN_ERROR = 2000


@dataclass(frozen=True, slots=True)
class HttpOptions:
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    pool_size: int = 8
    read_retries: int = 2
    backoff_base_s: float = 0.2
    backoff_max_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        """The configured timeouts, and a pool large enough for the payout submitters and the confirmers."""
        return cls(
            connect_timeout_s=settings.gateway_connect_timeout_s,
            read_timeout_s=settings.gateway_read_timeout_s,
            pool_size=max(8, settings.payout_concurrency, settings.payment_confirmation_concurrency),
        )


ErrorParser = Callable[[Any], str | None]


class GatewayHttp:
    """A pooled session bound to one gateway's base URL."""

    def __init__(self, gateway: str, base_url: str, options: HttpOptions, error_code: ErrorParser) -> None:
        self.gateway = gateway
        self.base_url = base_url.rstrip("/")
        self.options = options
        self._error_code = error_code
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=options.pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._random = random.Random()

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, path: str, *, endpoint: str, money_moving: bool, **kwargs: Any) -> requests.Response:
        """One request, no retries; returns a 2xx response or raises a classified GatewayError."""
        url = self.base_url + path
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                timeout=(self.options.connect_timeout_s, self.options.read_timeout_s),
                allow_redirects=False,
                **kwargs,
            )
            _ = response.content  # read the whole body inside the try: a reset mid-body is classified too
        except requests.RequestException as exc:
            error = classify_exception(exc, money_moving=money_moving)
            log.warning(
                "gateway_call_failed",
                gateway=self.gateway,
                endpoint=endpoint,
                error=type(error).__name__,
                reason=str(error),
                elapsed_ms=round((time.monotonic() - started) * 1000),
            )
            raise error from exc
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.info(
            "gateway_call", gateway=self.gateway, endpoint=endpoint, status=response.status_code, elapsed_ms=elapsed_ms
        )
        if 200 <= response.status_code < 300:
            return response
        raise classify_response(response, self._error_code)

    def send_json(self, method: str, path: str, *, endpoint: str, money_moving: bool, **kwargs: Any) -> Any:
        response = self.send(method, path, endpoint=endpoint, money_moving=money_moving, **kwargs)
        try:
            return response.json()
        except ValueError:
            message = f"{endpoint}: unreadable response body"
            body = response.text[:MAX_BODY_IN_ERROR]
            if money_moving:
                raise OutcomeUnknownError(message, http_status=response.status_code, response_body=body) from None
            raise RetriableError(message, http_status=response.status_code, response_body=body) from None

    def with_read_retries(self, call: Callable[[], Any], *, endpoint: str) -> Any:
        """Run a read-only call, retrying RetriableError with exponential backoff and full jitter."""
        attempt = 0
        while True:
            try:
                return call()
            except RetriableError as exc:
                if attempt >= self.options.read_retries:
                    raise
                delay = self._backoff(attempt, exc.retry_after_s)
                log.info(
                    "gateway_read_retry", gateway=self.gateway, endpoint=endpoint, attempt=attempt + 1, delay_s=delay
                )
                time.sleep(delay)
                attempt += 1

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        ceiling = min(self.options.backoff_max_s, self.options.backoff_base_s * 2**attempt)
        delay = self._random.uniform(0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.options.backoff_max_s))
        return delay


def classify_exception(exc: requests.RequestException, *, money_moving: bool) -> GatewayError:
    """Map a transport failure to an error class by whether the request can have reached the gateway."""
    if isinstance(exc, requests.ConnectTimeout):
        return RetriableError("connect timeout: request not sent")
    if isinstance(exc, requests.ConnectionError) and _failed_before_sending(exc):
        return RetriableError("connection failed: request not sent")
    if isinstance(exc, requests.ReadTimeout):
        reason = "read timeout: the gateway may have acted"
    elif isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        reason = "connection dropped after sending: the gateway may have acted"
    else:
        return FinalError(f"request could not be built: {type(exc).__name__}")
    if money_moving:
        return OutcomeUnknownError(reason)
    return RetriableError(reason)


def _failed_before_sending(exc: requests.ConnectionError) -> bool:
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


def classify_response(response: requests.Response, error_code: ErrorParser) -> GatewayError:
    status = response.status_code
    body = response.text[:MAX_BODY_IN_ERROR]
    try:
        code = error_code(response.json())
    except ValueError:
        code = None
    message = f"HTTP {status}" + (f" {code}" if code else "")
    details: dict[str, Any] = {"http_status": status, "gateway_code": code, "response_body": body}
    if status == 429:
        return RetriableError(message, retry_after_s=parse_retry_after(response.headers.get("Retry-After")), **details)
    if status >= 500:
        return RetriableError(message, **details)
    if status == 404:
        return NotFoundError(message, **details)
    return FinalError(message, **details)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())
