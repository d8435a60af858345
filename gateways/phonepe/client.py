"""PhonePe PG over the wire: OAuth, order status, refunds and the settlement report download.

It implements the domain's payment, refund and settlement-report ports. Refund creation moves money:
it is sent once and a lost answer is an OutcomeUnknownError, resolved by `refund_status` (PhonePe
knows the refund by our `merchantRefundId`), never by a second create. Webhooks are verified and
parsed in `gateways.phonepe.webhooks`, the report in `gateways.phonepe.settlement_report`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from domain.platform.gateway_errors import FinalError, GatewayError, OutcomeUnknownError
from domain.platform.settings import Settings
from domain.reconciliation.gateway import SettlementReport
from domain.refunds.gateway import REFUND_STATES, RefundStatus
from domain.settlement.gateway import ORDER_STATES, OrderStatus
from gateways.http import GatewayHttp, HttpOptions
from gateways.phonepe.settlement_report import parse_settlement_report

TOKEN_REFRESH_MARGIN_S = 60


def _phonepe_error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        code = body.get("code") or body.get("errorCode")
        return str(code) if code else None
    return None


class PhonePeClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        client_version: int = 1,
        *,
        options: HttpOptions | None = None,
        concurrency: int = 8,
    ) -> None:
        self.options = options or HttpOptions()
        self._http = GatewayHttp("phonepe", base_url, self.options, _phonepe_error_code)
        self._client_id = client_id
        self._client_secret = client_secret
        self._client_version = client_version
        self._concurrency = concurrency
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> PhonePeClient:
        return cls(
            settings.phonepe_base_url,
            settings.phonepe_client_id,
            settings.phonepe_client_secret.get_secret_value(),
            settings.phonepe_client_version,
            options=overrides.pop("options", None) or HttpOptions.from_settings(settings),
            **overrides,
        )

    def close(self) -> None:
        self._http.close()

    # -- authentication --------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is not None and time.time() < self._token[1] - TOKEN_REFRESH_MARGIN_S:
                return self._token[0]
            body = self._http.with_read_retries(
                lambda: self._http.send_json(
                    "POST",
                    "/v1/oauth/token",
                    endpoint="oauth",
                    money_moving=False,
                    data={
                        "client_id": self._client_id,
                        "client_version": str(self._client_version),
                        "client_secret": self._client_secret,
                        "grant_type": "client_credentials",
                    },
                ),
                endpoint="oauth",
            )
            token, expires_at = body.get("access_token"), body.get("expires_at")
            if not isinstance(token, str) or not token or not isinstance(expires_at, int):
                raise FinalError("oauth: malformed token response")
            self._token = (token, float(expires_at))
            return token

    def _authorized(self, method: str, path: str, *, endpoint: str, money_moving: bool, **kwargs: Any) -> Any:
        """Send with the cached token; on 401 (token revoked or expired early) fetch a new one once.

        A 401 means the gateway refused before acting, so repeating even a refund is safe.
        """
        for attempt in (1, 2):
            headers = {"Authorization": f"O-Bearer {self._access_token()}"}
            try:
                return self._http.send_json(
                    method, path, endpoint=endpoint, money_moving=money_moving, headers=headers, **kwargs
                )
            except FinalError as exc:
                if exc.http_status != 401 or attempt == 2:
                    raise
                with self._token_lock:
                    self._token = None
        raise AssertionError("unreachable")

    # -- orders ----------------------------------------------------------------------------------

    def order_status(self, merchant_order_id: str) -> OrderStatus:
        path = f"/checkout/v2/order/{quote(merchant_order_id, safe='')}/status"
        body = self._http.with_read_retries(
            lambda: self._authorized("GET", path, endpoint="order_status", money_moving=False), endpoint="order_status"
        )
        return _order_status(merchant_order_id, body)

    def order_statuses(
        self, merchant_order_ids: Iterable[str], *, concurrency: int | None = None
    ) -> dict[str, OrderStatus | GatewayError]:
        ids = list(dict.fromkeys(merchant_order_ids))
        if not ids:
            return {}

        def one(order_id: str) -> OrderStatus | GatewayError:
            try:
                return self.order_status(order_id)
            except GatewayError as exc:
                return exc

        workers = max(1, min(concurrency or self._concurrency, len(ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="phonepe-status") as pool:
            return dict(zip(ids, pool.map(one, ids), strict=True))

    # -- refunds ---------------------------------------------------------------------------------

    def create_refund(
        self, merchant_refund_id: str, original_merchant_order_id: str, amount_paise: int
    ) -> RefundStatus:
        if isinstance(amount_paise, bool) or not isinstance(amount_paise, int) or amount_paise <= 0:
            raise FinalError("refund amount must be positive integer paise")
        body = self._authorized(
            "POST",
            "/payments/v2/refund",
            endpoint="refund_create",
            money_moving=True,
            json={
                "merchantRefundId": merchant_refund_id,
                "originalMerchantOrderId": original_merchant_order_id,
                "amount": amount_paise,
            },
        )
        try:
            return _refund_status(merchant_refund_id, body, original_merchant_order_id)
        except FinalError as exc:
            raise OutcomeUnknownError(f"refund_create: {exc}") from None

    def refund_status(self, merchant_refund_id: str) -> RefundStatus:
        path = f"/payments/v2/refund/{quote(merchant_refund_id, safe='')}/status"
        body = self._http.with_read_retries(
            lambda: self._authorized("GET", path, endpoint="refund_status", money_moving=False),
            endpoint="refund_status",
        )
        return _refund_status(merchant_refund_id, body, None)

    # -- settlement report -----------------------------------------------------------------------

    def download_settlement_report(self, report_date: dt.date) -> bytes:
        """The raw CSV, for callers that keep the file as received."""

        def call() -> bytes:
            headers = {"Authorization": f"O-Bearer {self._access_token()}"}
            response = self._http.send(
                "GET",
                "/v1/reports/settlement",
                endpoint="settlement_report",
                money_moving=False,
                params={"date": report_date.isoformat()},
                headers=headers,
            )
            return response.content

        data: bytes = self._http.with_read_retries(call, endpoint="settlement_report")
        return data

    def settlement_report(self, report_date: dt.date) -> SettlementReport:
        return parse_settlement_report(self.download_settlement_report(report_date), report_date=report_date)

    def parse_settlement_report(self, content: bytes, report_date: dt.date) -> SettlementReport:
        """The reference reading of a file: the import stores rows set-based and asks this only to word
        a refusal, or for the rows of a file COPY may read otherwise."""
        return parse_settlement_report(content, report_date=report_date)


def _int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FinalError(f"malformed gateway response: {field} must be an integer")
    return value


def _order_status(merchant_order_id: str, body: Any) -> OrderStatus:
    if not isinstance(body, dict) or body.get("state") not in ORDER_STATES:
        raise FinalError("malformed gateway response: order state")
    details = body.get("paymentDetails") or []
    last = details[-1] if isinstance(details, list) and details and isinstance(details[-1], dict) else {}
    timestamp = last.get("timestamp")
    return OrderStatus(
        merchant_order_id=merchant_order_id,
        state=body["state"],
        amount_paise=_int(body.get("amount"), "amount"),
        gateway_order_id=body.get("orderId"),
        transaction_id=last.get("transactionId"),
        payment_mode=last.get("paymentMode"),
        timestamp_ms=timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
    )


def _refund_status(merchant_refund_id: str, body: Any, original_order_id: str | None) -> RefundStatus:
    if not isinstance(body, dict) or body.get("state") not in REFUND_STATES:
        raise FinalError("malformed gateway response: refund state")
    timestamp = body.get("timestamp")
    return RefundStatus(
        merchant_refund_id=merchant_refund_id,
        state=body["state"],
        amount_paise=_int(body.get("amount"), "amount"),
        refund_id=body.get("refundId"),
        original_merchant_order_id=body.get("originalMerchantOrderId") or original_order_id,
        timestamp_ms=timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
    )
