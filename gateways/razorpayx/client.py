"""RazorpayX: composite payout create, fetch, lookup by reference, webhook verification, and the
current account's statement (the bank credits reconciliation posts settlement batches at).

`create_payout` moves money: it is sent exactly once per call with `X-Payout-Idempotency` set to the
caller's attempt key, so the caller may repeat the same attempt safely after a RetriableError (the
gateway returns the payout it already made), and resolves an OutcomeUnknownError with
`find_payout_by_reference` before deciding anything. Webhooks are verified and parsed in
`gateways.razorpayx.webhooks`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from domain.payouts.gateway import PAYOUT_STATES, BankDestination, Payout, PayoutRequest, VpaDestination
from domain.platform.clock import Day, ist_date
from domain.platform.gateway_errors import FinalError, OutcomeUnknownError
from domain.platform.settings import Settings
from domain.reconciliation.gateway import BankCredit
from gateways.http import GatewayHttp, HttpOptions

IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
MAX_IDEMPOTENCY_KEY = 64
STATEMENT_PAGE_SIZE = 100  # RazorpayX's largest `count`


def _razorpay_error_code(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("code"):
        return str(error["code"])
    return None


def payout_body(account_number: str, request: PayoutRequest) -> dict[str, Any]:
    """The composite payout body of DESIGN.md section 10 (contact and fund account created inline)."""
    contact = {"name": request.contact_name, "type": "vendor", "reference_id": request.contact_reference_id}
    destination = request.destination
    fund_account: dict[str, Any]
    if isinstance(destination, VpaDestination):
        fund_account = {"account_type": "vpa", "vpa": {"address": destination.address}, "contact": contact}
    else:
        fund_account = {
            "account_type": "bank_account",
            "bank_account": {
                "name": destination.account_name,
                "ifsc": destination.ifsc,
                "account_number": destination.account_number,
            },
            "contact": contact,
        }
    return {
        "account_number": account_number,
        "amount": request.amount_paise,
        "currency": "INR",
        "mode": request.effective_mode,
        "purpose": request.purpose,
        "fund_account": fund_account,
        "queue_if_low_balance": True,
        "reference_id": request.reference_id,
        "narration": request.narration,
    }


class RazorpayXClient:
    def __init__(
        self,
        base_url: str,
        key_id: str,
        key_secret: str,
        account_number: str,
        *,
        options: HttpOptions | None = None,
    ) -> None:
        self.options = options or HttpOptions()
        self._http = GatewayHttp("razorpayx", base_url, self.options, _razorpay_error_code)
        self._http.session.auth = (key_id, key_secret)
        self.account_number = account_number

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RazorpayXClient:
        return cls(
            settings.razorpayx_base_url,
            settings.razorpayx_key_id,
            settings.razorpayx_key_secret.get_secret_value(),
            settings.razorpayx_account_number,
            options=overrides.pop("options", None) or HttpOptions.from_settings(settings),
            **overrides,
        )

    def close(self) -> None:
        self._http.close()

    def create_payout(self, idempotency_key: str, request: PayoutRequest) -> Payout:
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise FinalError(f"idempotency key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
        if isinstance(request.amount_paise, bool) or not isinstance(request.amount_paise, int):
            raise FinalError("payout amount must be integer paise")
        if not isinstance(request.destination, BankDestination | VpaDestination):
            raise FinalError("unsupported payout destination")
        body = self._http.send_json(
            "POST",
            "/v1/payouts",
            endpoint="payout_create",
            money_moving=True,
            json=payout_body(self.account_number, request),
            headers={IDEMPOTENCY_HEADER: idempotency_key},
        )
        try:
            return payout_from_entity(body)
        except FinalError as exc:
            raise OutcomeUnknownError(f"payout_create: {exc}") from None

    def fetch_payout(self, gateway_payout_id: str) -> Payout:
        path = f"/v1/payouts/{quote(gateway_payout_id, safe='')}"
        body = self._http.with_read_retries(
            lambda: self._http.send_json("GET", path, endpoint="payout_fetch", money_moving=False),
            endpoint="payout_fetch",
        )
        return payout_from_entity(body)

    def find_payout_by_reference(self, reference_id: str) -> Payout | None:
        body = self._http.with_read_retries(
            lambda: self._http.send_json(
                "GET", "/v1/payouts", endpoint="payout_list", money_moving=False, params={"reference_id": reference_id}
            ),
            endpoint="payout_list",
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise FinalError("malformed gateway response: payout collection")
        payouts = [payout_from_entity(item) for item in items]
        matching = [payout for payout in payouts if payout.reference_id == reference_id]
        if not matching:
            return None
        return max(matching, key=lambda payout: payout.created_at_s or 0)

    def bank_credits(self, value_date: dt.date) -> tuple[BankCredit, ...]:
        """The bank transfers credited on `value_date` (IST), every statement page read.

        Offset paging shows an item again when a newer one arrives meanwhile, so a repeated id is kept
        once; a repeat that differs is refused, as is any malformed item, so no credit is ever missed.
        """
        day = Day.of(value_date)
        window = (int(day.start.timestamp()), int(day.end.timestamp()) - 1)  # `to` is inclusive
        credits: dict[str, BankCredit] = {}
        skip = 0
        while True:
            items = self._statement_page(window, skip)
            for item in items:
                credit = credit_from_transaction(item, self.account_number, window)
                if credit is not None and credits.setdefault(credit.transaction_id, credit) != credit:
                    raise FinalError("malformed gateway response: transaction listed twice, differently")
            if len(items) < STATEMENT_PAGE_SIZE:
                return tuple(credits.values())
            skip += STATEMENT_PAGE_SIZE

    def _statement_page(self, window: tuple[int, int], skip: int) -> list[Any]:
        params = {
            "account_number": self.account_number,
            "from": window[0],
            "to": window[1],
            "count": STATEMENT_PAGE_SIZE,
            "skip": skip,
        }
        body = self._http.with_read_retries(
            lambda: self._http.send_json(
                "GET", "/v1/transactions", endpoint="account_statement", money_moving=False, params=params
            ),
            endpoint="account_statement",
        )
        if not isinstance(body, dict) or body.get("entity") != "collection":
            raise FinalError("malformed gateway response: transaction collection")
        items = body.get("items")
        if not isinstance(items, list) or body.get("count") != len(items):
            raise FinalError("malformed gateway response: transaction collection")
        if len(items) > STATEMENT_PAGE_SIZE:
            raise FinalError("malformed gateway response: more transactions than asked for")
        return items


def payout_from_entity(entity: Any) -> Payout:
    if not isinstance(entity, dict):
        raise FinalError("malformed gateway response: payout entity")
    payout_id, status, amount = entity.get("id"), entity.get("status"), entity.get("amount")
    if not isinstance(payout_id, str) or not payout_id or status not in PAYOUT_STATES:
        raise FinalError("malformed gateway response: payout id or status")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise FinalError("malformed gateway response: payout amount")
    details = entity.get("status_details")
    if not isinstance(details, dict):
        details = {}
    created = entity.get("created_at")
    return Payout(
        gateway_payout_id=payout_id,
        reference_id=entity.get("reference_id"),
        status=status,
        amount_paise=amount,
        mode=entity.get("mode"),
        utr=entity.get("utr"),
        failure_reason=entity.get("failure_reason") or details.get("description"),
        created_at_s=created if isinstance(created, int) and not isinstance(created, bool) else None,
    )


def _paise(entity: dict[str, Any], name: str) -> int:
    value = entity.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FinalError(f"malformed gateway response: transaction {name}")
    return value


def credit_from_transaction(entity: Any, account_number: str, window: tuple[int, int]) -> BankCredit | None:
    """A statement item as a bank credit; None for a debit (our payouts) or a credit that is no bank
    transfer (a reversed payout coming back), since neither is money a settlement brought in."""
    if not isinstance(entity, dict) or entity.get("entity") != "transaction":
        raise FinalError("malformed gateway response: transaction entity")
    transaction_id = entity.get("id")
    if not isinstance(transaction_id, str) or not transaction_id:
        raise FinalError("malformed gateway response: transaction id")
    if entity.get("account_number") != account_number or entity.get("currency") != "INR":
        raise FinalError("malformed gateway response: transaction of another account or currency")
    amount, credit, debit = _paise(entity, "amount"), _paise(entity, "credit"), _paise(entity, "debit")
    _paise(entity, "balance")  # not kept, but an item without it is not a statement line
    created = entity.get("created_at")
    if isinstance(created, bool) or not isinstance(created, int) or not window[0] <= created <= window[1]:
        raise FinalError("malformed gateway response: transaction time outside the asked window")
    if amount == 0 or (credit, debit) not in ((amount, 0), (0, amount)):
        raise FinalError("malformed gateway response: transaction amount, credit and debit disagree")
    source = entity.get("source")
    if not isinstance(source, dict):
        raise FinalError("malformed gateway response: transaction source")
    if debit or source.get("entity") != "bank_transfer":
        return None
    utr = source.get("bank_reference")
    if not isinstance(utr, str) or not utr:
        raise FinalError("malformed gateway response: bank transfer without a bank reference")
    return BankCredit(
        utr=utr,
        value_date=ist_date(dt.datetime.fromtimestamp(created, dt.UTC)),
        amount_paise=credit,
        transaction_id=transaction_id,
    )
