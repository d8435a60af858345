"""The demo's refunds: what a marketplace day's buyers ask back, through the API, and what finance sees.

Before the night: a full refund of a delivered order, one order refunded in three pieces, a refund
the gateway fails (retried by finance as a new refund), and a payment that arrives for a cancelled
order (refunded by the system). After the payouts: a refund of an order whose seller was already
paid, which finance approves and which becomes a clawback on the seller's balance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import click
import requests
import sqlalchemy as sa

from cli.refunds import status_now, submit_now
from domain.money import format_rupees
from domain.platform.settings import Settings
from domain.platform.sql import statement


@dataclass
class RefundDesk:
    """The client service asking for refunds (client key) and finance deciding them (admin key)."""

    api: str
    sandbox: str
    client_key: str
    admin_key: str
    http: requests.Session

    def _post(self, path: str, body: dict[str, Any] | None, key: str, **headers: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.api}{path}", json=body, headers={"Authorization": f"Bearer {key}", **headers}, timeout=30
        )
        if response.status_code not in (200, 201):
            raise click.ClickException(f"{path} answered {response.status_code}: {response.text[:300]}")
        answer: dict[str, Any] = response.json()
        return answer

    def request(self, order_id: str, amount_paise: int, reason: str) -> dict[str, Any]:
        body = {"amount_paise": amount_paise, "reason": reason}
        key = f"demo-refund-{order_id}-{amount_paise}-{time.monotonic_ns()}"
        return self._post(f"/v1/orders/{order_id}/refunds", body, self.client_key, **{"Idempotency-Key": key})

    def approve(self, refund_id: str) -> dict[str, Any]:
        return self._post(f"/v1/admin/refunds/{refund_id}/approve", {"reason": "checked by finance"}, self.admin_key)

    def retry(self, refund_id: str) -> dict[str, Any]:
        return self._post(f"/v1/admin/refunds/{refund_id}/retry", None, self.admin_key)

    def fail_at_gateway(self, refund_id: str) -> None:
        """The sandbox's bank will fail this refund (PhonePe answers FAILED)."""
        body = {"refund_outcomes": {refund_id: "FAILED"}}
        self.http.put(f"{self.sandbox}/sandbox/config", json=body, timeout=30).raise_for_status()

    def run_refunds(self, settings: Settings) -> None:
        """What the refunds sensor does: send what is due, let the sandbox answer, apply by status."""
        submit_now(settings)
        flushed = self.http.post(f"{self.sandbox}/sandbox/webhooks/flush", params={"timeout_s": 60}, timeout=90)
        flushed.raise_for_status()
        status_now(settings)


def refund_before_the_night(desk: RefundDesk, settings: Settings, engine: sa.Engine, market: Any) -> None:
    """A full refund, one in three pieces, one the gateway fails (then retried), and a stray payment."""
    whole, pieces, failing = _delivered_orders(engine, 3)
    desk.request(whole["order_id"], whole["amount_paise"], "item_damaged")
    third = pieces["amount_paise"] // 3
    for amount in (third, third, pieces["amount_paise"] - 2 * third):
        desk.request(pieces["order_id"], amount, "item_not_as_described")
    failed = desk.request(failing["order_id"], failing["amount_paise"] // 2, "wrong_item")
    desk.fail_at_gateway(failed["refund_id"])
    cancelled = market.cancelled_then_paid()
    desk.run_refunds(settings)  # the stray payment is confirmed and refunded; the failing refund fails
    desk.retry(failed["refund_id"])  # finance refunds its amount again, as a new refund
    desk.run_refunds(settings)
    click.echo(f"refunds before the night: 5 asked by buyers, 1 retried by finance, 1 stray payment (order "
               f"{cancelled} was paid after it was cancelled)")  # fmt: skip


def refund_after_payout(desk: RefundDesk, settings: Settings, engine: sa.Engine) -> None:
    """A refund of an order whose seller was paid: finance approves it, the seller's balance carries it."""
    with engine.connect() as conn:
        row = conn.execute(statement("demo/paid_out_order")).first()
    if row is None:
        click.echo("no paid-out order to refund after payout")
        return
    refund = desk.request(row.order_id, row.amount_paise, "item_not_received")
    click.echo(
        f"refund after payout: {refund['refund_id']} waits for finance ({', '.join(refund['approval_reasons'])})"
    )
    desk.approve(refund["refund_id"])
    desk.run_refunds(settings)


def print_refunds(engine: sa.Engine) -> None:
    click.echo("Refunds (PhonePe sandbox):")
    with engine.connect() as conn:
        rows = conn.execute(statement("demo/refunds")).all()
    for r in rows:
        parts = (
            f"fee reversed {format_rupees(r.platform_fee_reversed_paise)}, seller gave back "
            f"{format_rupees(r.seller_debit_paise)}"
            if r.status == "completed" and r.kind == "order"
            else (r.failure_reason or "")
        )
        click.echo(
            f"  {r.kind:5s} {r.order_id} {format_rupees(r.amount_paise):>12s} {r.status:9s} {r.reason:22s} {parts}"
        )
    with engine.connect() as conn:
        clawbacks = conn.execute(statement("demo/clawbacks")).all()
    for c in clawbacks:
        click.echo(f"  seller {c.payee_id} balance {format_rupees(c.balance_paise)} after a clawback of "
                   f"{format_rupees(-c.clawback_paise)}: not paid until later sales net it")  # fmt: skip


def _delivered_orders(engine: sa.Engine, count: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(statement("demo/refundable_orders"), {"count": count}).all()
    if len(rows) < count:
        raise click.ClickException("the demo day has too few delivered orders to refund")
    return [dict(row._mapping) for row in rows]
