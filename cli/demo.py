"""`settle demo`: a whole marketplace day, end to end, on the embedded database.

Starts the gateway sandbox and the ingest API as real processes, simulates a day through the HTTP
API (scouts, sellers and buyers with referral codes; a few hundred orders; buyers paying through the
sandbox, which sends signed PhonePe webhooks; a duplicate, a forged and a failed payment; deliveries),
runs the nightly settlement job for that day in this process, reconciles it, delivers the day's
notifications to a mail sink of its own, and prints what finance would look at.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import click
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cli.context import settings_or_exit
from cli.demo_notifications import choose_preferences, deliver_notifications
from cli.demo_refunds import RefundDesk, print_refunds, refund_after_payout, refund_before_the_night
from cli.migrate import migrate_to_head
from cli.nightly import run_nightly
from cli.payments import confirm_now
from cli.payouts import run_payouts
from cli.processes import free_port, running
from cli.recon import reconcile_now
from domain.analytics.tables import daily_revenue, scout_leaderboard
from domain.money import format_rupees
from domain.platform.clock import IST
from domain.platform.database import create_engine, database_url, drop_database, ensure_database
from domain.platform.logging import configure_logging
from domain.platform.settings import Settings
from domain.platform.sql import statement
from domain.users.api_keys import create_key
from gateways.phonepe.webhooks import v2_authorization

DEMO_DATABASE = "settlement_demo"
DEMO_SANDBOX_DATABASE = "settlement_demo_sandbox"


def fresh_demo_database(app_url: str) -> str:
    """The demo gets its own databases (ours and the sandbox's), recreated each run, so its summary and
    the gateway's report are exactly its own day."""
    drop_database(app_url, DEMO_SANDBOX_DATABASE)
    drop_database(app_url, DEMO_DATABASE)
    return ensure_database(app_url, DEMO_DATABASE)


@dataclass
class Marketplace:
    """The demo's client service: talks to the ingest API with a client key, to the sandbox as buyers."""

    api: str
    sandbox: str
    key: str
    rng: random.Random
    http: requests.Session = field(default_factory=requests.Session)
    webhook_statuses: list[int] = field(default_factory=list)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Each request is a new intention, so it gets a fresh Idempotency-Key (every POST that creates
        something needs one)."""
        headers = {"Authorization": f"Bearer {self.key}", "Idempotency-Key": uuid.uuid4().hex}
        response = self.http.post(f"{self.api}{path}", json=body, headers=headers, timeout=30)
        if response.status_code not in (200, 201):
            raise click.ClickException(f"{path} answered {response.status_code}: {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def user(self, role: str, n: int, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"role": role, "name": f"{role.title()} {n}", "email": f"{role}{n}@demo.example"}
        if role in ("seller", "scout"):
            # The sandbox's bank refuses any VPA containing "fail": seller 4's payout will fail.
            body["payout_destination"] = {"vpa": f"{role}{n}{'fail' if (role, n) == ('seller', 4) else ''}@okdemo"}
        return self.post("/v1/users", {**body, **extra})

    def order(self, buyer: str, seller: str, amount_paise: int) -> str:
        body = {
            "buyer_id": buyer,
            "seller_id": seller,
            "listing_id": f"lst_{self.rng.randrange(1, 500)}",
            "amount_paise": amount_paise,
            "currency": "INR",
            "title": "Demo listing",
        }
        return str(self.post("/v1/orders", body)["order_id"])

    def pay(self, order_id: str, amount_paise: int, outcome: str = "COMPLETED") -> None:
        body = {"merchantOrderId": order_id, "amount": amount_paise, "outcome": outcome}
        response = self.http.post(f"{self.sandbox}/sandbox/payments", json=body, timeout=30)
        if response.status_code != 200:
            raise click.ClickException(f"sandbox payment failed: {response.text[:300]}")

    def deliver(self, order_id: str) -> None:
        self.post(f"/v1/orders/{order_id}/events", {"event": "delivered"})

    def webhook(self, body: dict[str, Any], authorization: str) -> int:
        response = self.http.post(
            f"{self.api}/v1/webhooks/phonepe",
            data=json.dumps(body),
            headers={"Authorization": authorization, "Content-Type": "application/json"},
            timeout=30,
        )
        return response.status_code

    def cancelled_then_paid(self) -> str:
        """An order the buyer cancelled and then paid anyway: the gateway holds money we must return."""
        buyer = self.user("buyer", 99)["user_id"]
        seller = self.user("seller", 99)["user_id"]
        order_id = self.order(buyer, seller, 25_000)
        self.post(f"/v1/orders/{order_id}/events", {"event": "cancelled"})
        self.pay(order_id, 25_000)
        self.flush_webhooks()
        return order_id

    def flush_webhooks(self) -> None:
        response = self.http.post(f"{self.sandbox}/sandbox/webhooks/flush", params={"timeout_s": 60}, timeout=90)
        if response.status_code != 200:
            raise click.ClickException("the sandbox could not deliver every webhook")


def simulate_day(market: Marketplace, settings: Settings, orders: int) -> dict[str, int]:
    """Users, orders, payments, webhooks and deliveries for one day, all through HTTP."""
    rng = market.rng
    scouts = [market.user("scout", n) for n in range(1, 4)]
    sellers = [
        market.user("seller", n, referral_code=scouts[n % 3]["referral_code"]) if n % 2 else market.user("seller", n)
        for n in range(1, 11)
    ]
    buyers = [
        market.user("buyer", n, referral_code=scouts[n % 3]["referral_code"]) if n % 4 == 0 else market.user("buyer", n)
        for n in range(1, 41)
    ]
    counts = {"orders": 0, "paid": 0, "payment_failed": 0, "delivered": 0, "unpaid": 0}
    paid: list[tuple[str, int]] = []
    for n in range(orders):
        amount = rng.choice([1_005, 1_100, 19_900, 49_900, 99_900, 149_900, 249_900]) + rng.randrange(0, 100) * 100
        order_id = market.order(rng.choice(buyers)["user_id"], rng.choice(sellers)["user_id"], amount)
        counts["orders"] += 1
        if n % 25 == 7:
            market.pay(order_id, amount, "FAILED")
            counts["payment_failed"] += 1
        elif n % 50 == 11:
            counts["unpaid"] += 1  # the buyer walked away
        else:
            market.pay(order_id, amount)
            paid.append((order_id, amount))
    market.flush_webhooks()
    duplicate_of, amount = paid[0]
    duplicate = {
        "event": "checkout.order.completed",
        "payload": {"merchantOrderId": duplicate_of, "orderId": "OMO-DUP", "state": "COMPLETED", "amount": amount},
    }
    authorization = v2_authorization(
        settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value()
    )
    market.webhook_statuses.append(market.webhook(duplicate, authorization))
    forged = {**duplicate, "payload": {**duplicate["payload"], "merchantOrderId": paid[1][0], "amount": 1}}
    market.webhook_statuses.append(market.webhook(forged, "0" * 64))
    for order_id, _ in paid:
        if rng.random() < 0.85:
            market.deliver(order_id)
            counts["delivered"] += 1
    counts["paid"] = len(paid)
    return counts


def inject_payout_faults(market: Marketplace) -> None:
    """The gateway will answer the first two payout calls with 503: those payouts back off and retry."""
    faults = {"seed": 1, "endpoints": {"payout_create": {"error_rate": 1.0, "error_status": 503, "limit": 2}}}
    market.http.put(f"{market.sandbox}/sandbox/faults", json=faults, timeout=30).raise_for_status()


def pay_out(settings: Settings, day: dt.date) -> dict[str, Any]:
    """The nightly run submitted the day's payouts; retry the ones that met a 503, then track them all."""
    time.sleep(2 * settings.payout_backoff_max_s)  # past the back-off
    return run_payouts(settings, day)


def print_payouts(result: dict[str, Any]) -> None:
    click.echo("Payouts (RazorpayX sandbox):")
    for status, (count, paise) in sorted(result["totals"].items()):
        click.echo(f"  {status:12s} {count:4d}  {format_rupees(paise)}")
    click.echo(f"  retried after a transient gateway error: {result['retried']}")
    for row in result["payouts"]:
        if row["status"] == "failed":
            click.echo(f"  failed: {row['payee_id']} {format_rupees(row['amount_paise'])}: {row['failure_reason']}"
                       " (the money is back in the payee's balance)")  # fmt: skip
    for held in result["held_back"]:
        click.echo(f"  held back: {held}")


def print_summary(engine: sa.Engine, day: dt.date, checks_ok: bool, market: Marketplace) -> None:
    def rows(name: str, **params: Any) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(statement(f"demo/{name}"), params).all())

    def table(query: sa.Select[Any]) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(query).all())

    click.echo(f"\n=== Marketplace day {day} (IST) ===")
    click.echo("Orders by status:")
    for status, count in rows("orders_by_status"):
        click.echo(f"  {status:20s} {count:6d}")
    for r in table(sa.select(daily_revenue).where(daily_revenue.c.day == day)):
        click.echo(f"GMV captured:          {format_rupees(r.gmv_paise)} over {r.orders_paid} paid orders")
        click.echo(f"Platform fees:         {format_rupees(r.platform_fee_paise)}")
        click.echo(f"Gateway fees:          {format_rupees(r.gateway_fee_paise)} (borne by sellers)")
        click.echo(f"Bounties:              {format_rupees(r.bounty_expense_paise)}")
        click.echo(f"Net revenue:           {format_rupees(r.net_revenue_paise)}")
    click.echo("Seller payables (top 5):")
    for seller, name, owed in rows("top_seller_payables"):
        click.echo(f"  {name:12s} {seller}  {format_rupees(owed)}")
    settled, net, waiting = rows("settled")[0]
    click.echo(f"Settled today:         {settled} orders, {format_rupees(net)} to sellers")
    click.echo(f"Waiting (hold period): {waiting} paid orders not yet delivered")
    board = scout_leaderboard.c
    for scout, name, earned, amount in table(
        sa.select(board.scout_id, board.scout_name, board.bounties_earned, board.bounty_paise).order_by(board.rank)
    ):
        click.echo(f"Scout {name:10s} {scout}: {earned} bounties, {format_rupees(amount)}")
    click.echo("Webhooks:")
    for verdict, reason, count in rows("webhooks"):
        click.echo(f"  {verdict:10s} {reason:24s} {count:6d}")
    click.echo(f"  (duplicate answered {market.webhook_statuses[0]}, forged answered {market.webhook_statuses[1]})")
    passed, checks = rows("checks", day=day.isoformat())[0]
    click.echo(f"Checks: {'all passed' if checks_ok else 'FAILED, see above'} ({passed}/{checks} in check_results)")


def print_where_to_look(url: str, day: dt.date) -> None:
    click.echo(f"\nExplore this day: DATABASE_URL='{url}' make dev")
    click.echo("then the Dagster UI at http://127.0.0.1:3000 (Assets -> settlement group, partition")
    click.echo(f"{day}: materializations, check results and their metadata) and the API at http://127.0.0.1:8000/docs.")


@click.command()
@click.option("--orders", type=click.IntRange(50, 5000), default=300, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(orders: int, seed: int) -> None:
    """Simulate a marketplace day through the API and the sandbox, then settle it."""
    settings = settings_or_exit()
    configure_logging("WARNING", "console")  # the summary is the output; logs only for trouble
    url = fresh_demo_database(database_url(settings))
    # Back-off in seconds rather than minutes, so the demo shows a retried payout while you watch.
    quick_retries = {"PAYOUT_BACKOFF_BASE_S": "0.2", "PAYOUT_BACKOFF_MAX_S": "1.0"}
    os.environ.update(quick_retries)
    settings = settings.model_copy(
        update={
            "database_url": url,
            "payout_backoff_base_s": 0.2,
            "payout_backoff_max_s": 1.0,
            "refund_backoff_base_s": 0.2,
            "refund_backoff_max_s": 1.0,
            "refund_poll_base_s": 0.2,
        }
    )
    click.echo(f"database:  {make_url(url).render_as_string(hide_password=True)} (recreated for this demo)")
    click.echo(f"migration: {migrate_to_head(url, settings)} (head)")
    engine = create_engine(url)
    with engine.begin() as conn:
        key = create_key(conn, f"demo-client-{uuid.uuid4().hex[:8]}", "client")
        finance_key = create_key(conn, f"demo-finance-{uuid.uuid4().hex[:8]}", "admin")
    api_port, sandbox_port = free_port(), free_port()
    api, sandbox = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    gateway_env = {
        "PHONEPE_BASE_URL": f"{sandbox}/phonepe",
        "RAZORPAYX_BASE_URL": f"{sandbox}/razorpayx",
        "API_PUBLIC_URL": api,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": url,
    }
    settings = settings.model_copy(
        update={
            "phonepe_base_url": gateway_env["PHONEPE_BASE_URL"],
            "razorpayx_base_url": gateway_env["RAZORPAYX_BASE_URL"],
        }
    )
    with (
        running(["-m", "cli", "sandbox", "--port", str(sandbox_port), "--seed", str(seed),
                 "--database", DEMO_SANDBOX_DATABASE],
                f"{sandbox}/sandbox/health", env=gateway_env),
        running(["-m", "cli", "api", "--port", str(api_port), "--workers", "2"], f"{api}/healthz", env=gateway_env),
    ):  # fmt: skip
        market = Marketplace(api, sandbox, key, random.Random(seed))
        counts = simulate_day(market, settings, orders)
        click.echo(f"simulated: {counts}")
        day = dt.datetime.now(IST).date()
        confirmed = confirm_now(settings)  # what the confirmation sensor does through the day, done now
        shown = {name: value for name, value in confirmed.items() if name not in ("elapsed_s", "busy")}
        click.echo(f"confirmed: {shown}")
        desk = RefundDesk(api, sandbox, key, finance_key, market.http)
        refund_before_the_night(desk, settings, engine, market)
        inject_payout_faults(market)
        checks_ok = run_nightly(settings, day)
        payouts = pay_out(settings, day) if checks_ok else None
        if payouts is not None:
            refund_after_payout(desk, settings, engine)
        reconciliation = reconcile_now(settings, day) if checks_ok else None
        choose_preferences(market, engine)
    print_summary(engine, day, checks_ok, market)
    if payouts is not None:
        print_payouts(payouts)
    print_refunds(engine)
    if reconciliation is not None:
        click.echo(f"\nReconciliation: PhonePe's settlement report for {day} against the books")
        click.echo(reconciliation)
    deliver_notifications(settings, engine)
    print_where_to_look(url, day)
    engine.dispose()
    if not checks_ok:
        raise click.ClickException("the nightly settlement did not succeed")
