"""The error classes every gateway caller uses to decide what happens next.

- `RetriableError`: the gateway did not act (timeout on connect, 5xx, 429); try again later,
  honouring `retry_after_s` when the gateway gave one.
- `FinalError`: the gateway refused the request (4xx validation, unknown payee); do not retry.
  `NotFoundError` is the 404 case (no such order, refund or payout).
- `OutcomeUnknownError`: the request may have reached the gateway and been acted on (read timeout,
  connection dropped after sending). Resolve by a status query, never by sending again.
"""

from __future__ import annotations


class GatewayError(Exception):
    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        gateway_code: str | None = None,
        response_body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.gateway_code = gateway_code
        self.response_body = response_body


class RetriableError(GatewayError):
    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after_s = retry_after_s


class FinalError(GatewayError):
    pass


class OutcomeUnknownError(GatewayError):
    pass


class WebhookRejected(Exception):
    """A webhook failed verification or parsing; `reason` is a stable, loggable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class NotFoundError(FinalError):
    """The gateway knows no such order, refund or payout (HTTP 404)."""
