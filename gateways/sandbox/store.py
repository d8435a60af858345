"""The sandbox's durable state, in its own database with its own tables.

The sandbox plays an external system, so it owns its schema (created here with `create_all`, not by
the project's Alembic migrations) and keeps what a real gateway keeps: orders paid by buyers, refunds,
payouts with the idempotency key that created them, and an outbox of webhooks to deliver.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

metadata = sa.MetaData()

orders = sa.Table(
    "sandbox_orders",
    metadata,
    sa.Column("merchant_order_id", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, nullable=False, unique=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("payer", sa.Text, nullable=False),
    sa.Column("payment_details", JSONB, nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("paid_at_ms", sa.BigInteger),
)

refunds = sa.Table(
    "sandbox_refunds",
    metadata,
    sa.Column("merchant_refund_id", sa.Text, primary_key=True),
    sa.Column("refund_id", sa.Text, nullable=False, unique=True),
    sa.Column("original_merchant_order_id", sa.Text, nullable=False, index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("create_calls", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("settle_at_ms", sa.BigInteger),
    sa.Column("completed_at_ms", sa.BigInteger),
)

payouts = sa.Table(
    "sandbox_payouts",
    metadata,
    sa.Column("payout_id", sa.Text, primary_key=True),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("reference_id", sa.Text, index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("narration", sa.Text),
    sa.Column("fund_account", JSONB, nullable=False),
    sa.Column("utr", sa.Text),
    sa.Column("failure_reason", sa.Text),
    sa.Column("create_calls", sa.Integer, nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("settle_at_ms", sa.BigInteger),
)

webhooks = sa.Table(
    "sandbox_webhooks",
    metadata,
    sa.Column("webhook_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("gateway", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("due_at_ms", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivered_at_ms", sa.BigInteger),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

ALL_TABLES = (orders, refunds, payouts, webhooks)


def create_schema(engine: sa.Engine) -> None:
    metadata.create_all(engine)


def truncate_all(conn: sa.Connection) -> None:
    names = ", ".join(table.name for table in ALL_TABLES)
    conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).hexdigest()


def random_id(prefix: str, length: int = 14) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def random_utr() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(12))


def claim_due(conn: sa.Connection, table: sa.Table, waiting: sa.ColumnElement[bool], now: int) -> list[sa.Row[Any]]:
    """Up to 100 rows whose simulated settlement is due, oldest first, locked so that two sandbox
    workers never finish the same one."""
    return list(
        conn.execute(
            sa.select(table)
            .where(waiting, table.c.settle_at_ms <= now)
            .order_by(table.c.settle_at_ms)
            .limit(100)
            .with_for_update(skip_locked=True)
        ).all()
    )


def insert_payout(conn: sa.Connection, values: dict[str, Any]) -> bool:
    """Insert unless the idempotency key exists; True when this call made the payout."""
    made = conn.execute(
        insert(payouts).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    ).rowcount
    return bool(made)
