"""The per-order subledger under a per-seller-day general ledger; payee items; ledger closes and audits.

- `captures` and `settlements`: one immutable row per order and fact (what it captured, the day it
  became payable), each naming its general-ledger entry; `settlement_groups` sums each seller-day.
  `settlement_lines` becomes a view joining the two, so what an order earned its seller reads as
  before.
- `payee_items`: what each payee is owed (a settlement group, a bounty, a clawback, an adjustment)
  and how much live payouts cover; `payout_items` now point at them.
- `ledger_closes`, `closing_balances`, `closing_totals`: the balances at each nightly close, so a
  balance is a closing plus the lines since; `ledger_audits`: the incremental whole-ledger audit.
- Orders no longer store `settled`: the status shown is derived (`order_states`).
- `payment_confirmations` records when a payment was confirmed and when to ask again.

History is carried over: every per-order capture entry gets its capture row (and settlement row if
it had a settlement line), every owed ledger movement its payee item, every payout item its payee
item. The views and functions here are copies frozen at this revision of `sql/objects/`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEE_SCHEDULE_PERIODS = """
CREATE VIEW fee_schedule_periods AS
SELECT fee_schedule_id, effective_from,
       lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to,
       platform_fee_bps, gateway_fee_bps, scout_bounty_paise, min_payout_paise, hold_days
FROM fee_schedules;
"""

CARRY_CAPTURES = """
INSERT INTO captures (order_id, capture_date, seller_id, paid_at, gross_paise, platform_fee_paise,
                      gateway_fee_paise, seller_net_paise, fee_schedule_id, entry_id, created_at)
SELECT f.order_id, (j.created_at AT TIME ZONE 'Asia/Kolkata')::date, f.seller_id, o.paid_at,
       coalesce(s.gross_paise, f.gross_paise), coalesce(s.platform_fee_paise, f.platform_fee_paise),
       coalesce(s.gateway_fee_paise, f.gateway_fee_paise), coalesce(s.seller_net_paise, f.seller_net_paise),
       coalesce(s.fee_schedule_id, f.fee_schedule_id), j.entry_id, j.created_at
FROM journal_entries j
JOIN orders o ON o.order_id = j.reference_id
JOIN order_fees f ON f.order_id = o.order_id
LEFT JOIN settlement_lines s ON s.order_id = o.order_id
WHERE j.entry_type = 'payment_captured';

INSERT INTO settlements (order_id, settlement_date, seller_id, payee_item_key, created_at)
SELECT s.order_id, s.settlement_date, s.seller_id, 'capture:' || s.order_id, s.created_at
FROM settlement_lines s;

INSERT INTO settlement_groups (payee_item_key, settlement_date, seller_id, orders, gross_paise, platform_fee_paise,
                               gateway_fee_paise, net_paise, created_at)
SELECT 'capture:' || s.order_id, s.settlement_date, s.seller_id, 1, s.gross_paise, s.platform_fee_paise,
       s.gateway_fee_paise, s.seller_net_paise, s.created_at
FROM settlement_lines s;
"""

CARRY_ITEMS = """
INSERT INTO payee_items (item_key, item_type, payee_type, payee_id, amount_paise, covered_paise, item_date,
                         entry_id, bounty_id, refund_id, created_at)
SELECT j.idempotency_key,
       CASE v.item_type WHEN 'settlement_line' THEN 'settlement' ELSE v.item_type END,
       v.payee_type, v.payee_id, v.amount_paise, v.covered_paise,
       (v.occurred_at AT TIME ZONE 'Asia/Kolkata')::date, v.entry_id, v.bounty_id, v.refund_id, j.created_at
FROM payee_items_before_0008 v
JOIN journal_entries j ON j.entry_id = v.entry_id
WHERE v.eligible;

UPDATE payout_items i SET payee_item_id = p.payee_item_id
FROM payee_items p
WHERE p.entry_id = i.entry_id;

DROP VIEW payee_items_before_0008;
"""

SETTLEMENT_LINES_VIEW = """
CREATE VIEW settlement_lines AS
SELECT s.order_id, s.settlement_date, s.seller_id, c.gross_paise, c.platform_fee_paise, c.gateway_fee_paise,
       c.seller_net_paise, c.fee_schedule_id, s.payee_item_key, s.created_at
FROM settlements s JOIN captures c ON c.order_id = s.order_id;
"""

ORDER_STATES = """
CREATE VIEW order_states AS
SELECT o.order_id, o.buyer_id, o.seller_id, o.listing_id, o.title, o.amount_paise, o.currency,
       CASE WHEN o.status IN ('paid', 'delivered')
                 AND EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) THEN 'settled'
            ELSE o.status END AS status,
       o.status AS recorded_status, o.gateway_order_id, o.gateway_transaction_id, o.payment_mode, o.paid_at,
       o.delivered_at, o.cancelled_at, o.payment_failed_at, o.created_at, o.updated_at
FROM orders o;
"""

RECORDED_STATUSES = "status IN ('created', 'paid', 'payment_failed', 'delivered', 'cancelled')"
ALL_STATUSES = (
    "status IN ('created', 'paid', 'payment_failed', 'delivered', 'settled', 'partially_refunded', 'refunded', "
    "'cancelled')"
)

IMMUTABLE_SUBLEDGER = """
CREATE TRIGGER captures_append_only BEFORE UPDATE OR DELETE ON captures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER captures_no_truncate BEFORE TRUNCATE ON captures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER settlements_append_only BEFORE UPDATE OR DELETE ON settlements
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER settlements_no_truncate BEFORE TRUNCATE ON settlements
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
"""


def _create_tables() -> None:
    op.create_table(
        "captures",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("capture_date", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("paid_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("gross_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_net_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("gross_paise > 0", name=op.f("ck_captures_gross_paise_positive")),
        sa.CheckConstraint(
            "platform_fee_paise >= 0 AND gateway_fee_paise >= 0", name=op.f("ck_captures_fees_not_negative")
        ),
        sa.CheckConstraint(
            "seller_net_paise = gross_paise - platform_fee_paise - gateway_fee_paise",
            name=op.f("ck_captures_parts_add_up"),
        ),
        sa.CheckConstraint("seller_net_paise >= 0", name=op.f("ck_captures_seller_net_not_negative")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_captures")),
    )
    op.create_index(op.f("ix_captures_capture_date_seller_id"), "captures", ["capture_date", "seller_id"])
    op.create_table(
        "settlements",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("payee_item_key", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_settlements")),
    )
    op.create_index(op.f("ix_settlements_settlement_date_seller_id"), "settlements", ["settlement_date", "seller_id"])
    op.create_table(
        "settlement_groups",
        sa.Column("payee_item_key", sa.Text(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("gross_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("net_paise", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "net_paise = gross_paise - platform_fee_paise - gateway_fee_paise",
            name=op.f("ck_settlement_groups_parts_add_up"),
        ),
        sa.ForeignKeyConstraint(["seller_id"], ["users.user_id"], name=op.f("fk_settlement_groups_seller_id_users")),
        sa.PrimaryKeyConstraint("payee_item_key", name=op.f("pk_settlement_groups")),
    )
    op.create_index(
        op.f("ix_settlement_groups_settlement_date_seller_id"), "settlement_groups", ["settlement_date", "seller_id"]
    )
    op.create_index(
        op.f("ix_settlement_groups_seller_id_settlement_date"), "settlement_groups", ["seller_id", "settlement_date"]
    )
    op.create_table(
        "payee_items",
        sa.Column("payee_item_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("item_type", sa.Text(), nullable=False),
        sa.Column("payee_type", sa.Text(), nullable=False),
        sa.Column("payee_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("covered_paise", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("item_date", sa.Date(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("bounty_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "item_type IN ('settlement', 'bounty', 'clawback', 'adjustment')", name=op.f("ck_payee_items_item_type")
        ),
        sa.CheckConstraint("payee_type IN ('seller', 'scout')", name=op.f("ck_payee_items_payee_type")),
        sa.CheckConstraint(
            "(amount_paise > 0 AND covered_paise BETWEEN 0 AND amount_paise) "
            "OR (amount_paise < 0 AND covered_paise BETWEEN amount_paise AND 0)",
            name=op.f("ck_payee_items_covered_within_amount"),
        ),
        sa.CheckConstraint("amount_paise <> 0", name=op.f("ck_payee_items_amount_paise_nonzero")),
        sa.ForeignKeyConstraint(["bounty_id"], ["bounties.bounty_id"], name=op.f("fk_payee_items_bounty_id_bounties")),
        sa.ForeignKeyConstraint(["payee_id"], ["users.user_id"], name=op.f("fk_payee_items_payee_id_users")),
        sa.PrimaryKeyConstraint("payee_item_id", name=op.f("pk_payee_items")),
        sa.UniqueConstraint("item_key", name=op.f("uq_payee_items_item_key")),
    )
    op.create_index(op.f("ix_payee_items_item_date"), "payee_items", ["item_date"])
    op.create_index(
        "ix_payee_items_open", "payee_items", ["payee_id"], postgresql_where=sa.text("covered_paise <> amount_paise")
    )
    op.create_table(
        "ledger_closes",
        sa.Column("close_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("close_date", sa.Date(), nullable=False),
        sa.Column("through_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("close_id", name=op.f("pk_ledger_closes")),
    )
    op.create_index(op.f("ix_ledger_closes_close_date"), "ledger_closes", ["close_date"])
    for name, key in (("closing_balances", "account_id"), ("closing_totals", "account_type")):
        op.create_table(
            name,
            sa.Column(key, sa.Text(), nullable=False),
            sa.Column("close_id", sa.BigInteger(), nullable=False),
            sa.Column("movement_paise", sa.BigInteger(), nullable=False),
            sa.Column("balance_paise", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["close_id"], ["ledger_closes.close_id"], name=op.f(f"fk_{name}_close_id_ledger_closes")
            ),
            sa.PrimaryKeyConstraint(
                *((key, "close_id") if key == "account_id" else ("close_id", key)), name=op.f(f"pk_{name}")
            ),
        )
    op.create_table(
        "ledger_audits",
        sa.Column("audit_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("from_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("through_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "problems", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("audited_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_ledger_audits")),
    )


def _rework_payout_items() -> None:
    op.add_column("payout_items", sa.Column("payee_item_id", sa.BigInteger(), nullable=True))
    op.execute(CARRY_ITEMS)
    op.alter_column("payout_items", "payee_item_id", nullable=False)
    op.drop_index(op.f("ix_payout_items_entry_id"), table_name="payout_items")
    op.drop_index(op.f("ix_payout_items_order_id"), table_name="payout_items")
    op.create_index(op.f("ix_payout_items_payee_item_id"), "payout_items", ["payee_item_id"])
    op.drop_constraint(op.f("fk_payout_items_order_id_orders"), "payout_items", type_="foreignkey")
    op.drop_constraint(op.f("fk_payout_items_bounty_id_bounties"), "payout_items", type_="foreignkey")
    op.drop_constraint(op.f("fk_payout_items_entry_id_journal_entries"), "payout_items", type_="foreignkey")
    op.create_foreign_key(
        op.f("fk_payout_items_payee_item_id_payee_items"),
        "payout_items",
        "payee_items",
        ["payee_item_id"],
        ["payee_item_id"],
    )
    for column in ("entry_id", "refund_id", "bounty_id", "order_id", "item_type"):
        op.drop_column("payout_items", column)


def upgrade() -> None:
    op.execute("ALTER VIEW payee_items RENAME TO payee_items_before_0008")
    _create_tables()
    op.execute(FEE_SCHEDULE_PERIODS)
    op.execute(CARRY_CAPTURES)
    _rework_payout_items()
    op.drop_index(op.f("ix_settlement_lines_seller_id_settlement_date"), table_name="settlement_lines")
    op.drop_index(op.f("ix_settlement_lines_settlement_date_seller_id"), table_name="settlement_lines")
    op.drop_table("settlement_lines")
    op.execute("DROP VIEW order_fees")
    op.execute(SETTLEMENT_LINES_VIEW)
    op.execute(IMMUTABLE_SUBLEDGER)
    op.execute(
        "UPDATE orders SET status = CASE WHEN delivered_at IS NOT NULL THEN 'delivered' ELSE 'paid' END, "
        "updated_at = now() WHERE status = 'settled'"
    )
    op.drop_constraint(op.f("ck_orders_status"), "orders", type_="check")
    op.create_check_constraint(op.f("ck_orders_status"), "orders", RECORDED_STATUSES)
    op.execute(ORDER_STATES)
    op.drop_index(op.f("ix_ledger_lines_account_id"), table_name="ledger_lines")
    op.create_index(op.f("ix_ledger_lines_account_id_entry_id"), "ledger_lines", ["account_id", "entry_id"])
    op.create_index(op.f("ix_orders_delivered_at"), "orders", ["delivered_at"])
    op.add_column("payment_confirmations", sa.Column("confirmed_at", postgresql.TIMESTAMP(timezone=True)))
    op.add_column("payment_confirmations", sa.Column("next_check_at", postgresql.TIMESTAMP(timezone=True)))
    op.execute("UPDATE payment_confirmations SET confirmed_at = checked_at WHERE confirmed")
    op.create_check_constraint(
        op.f("ck_payment_confirmations_confirmed_has_time"),
        "payment_confirmations",
        "confirmed = (confirmed_at IS NOT NULL)",
    )
    op.create_index(
        "ix_payment_confirmations_confirmed_at",
        "payment_confirmations",
        ["confirmed_at"],
        postgresql_where=sa.text("confirmed"),
    )
    op.create_index(
        "ix_payment_confirmations_next_check_at",
        "payment_confirmations",
        ["next_check_at"],
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )


DOWNGRADE_GUARD = """
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM captures c JOIN journal_entries j ON j.entry_id = c.entry_id
               WHERE j.idempotency_key <> 'capture:' || c.order_id)
       OR EXISTS (SELECT 1 FROM payee_items WHERE entry_id IS NULL) THEN
        RAISE EXCEPTION 'seller-day capture entries exist; revision 0007 cannot represent them';
    END IF;
END $$;
"""

RESTORE_PAYOUT_ITEMS = """
UPDATE payout_items i
SET entry_id = p.entry_id,
    item_type = CASE p.item_type WHEN 'settlement' THEN 'settlement_line' ELSE p.item_type END,
    order_id = CASE WHEN p.item_type = 'settlement' THEN substr(p.item_key, length('capture:') + 1) END,
    bounty_id = p.bounty_id,
    refund_id = p.refund_id
FROM payee_items p
WHERE p.payee_item_id = i.payee_item_id;
"""

RESTORE_SETTLEMENT_LINES = """
INSERT INTO settlement_lines (order_id, settlement_date, seller_id, gross_paise, platform_fee_paise,
                              gateway_fee_paise, seller_net_paise, fee_schedule_id, created_at)
SELECT order_id, settlement_date, seller_id, gross_paise, platform_fee_paise, gateway_fee_paise,
       seller_net_paise, fee_schedule_id, created_at
FROM settlement_lines_after_0008;
DROP VIEW settlement_lines_after_0008;
UPDATE orders o SET status = 'settled'
WHERE o.status IN ('paid', 'delivered') AND EXISTS (SELECT 1 FROM settlement_lines s WHERE s.order_id = o.order_id);
"""


def downgrade() -> None:
    """Back to per-order postings; refused once seller-day entries exist, which 0007 cannot represent."""
    settlement_migration = importlib.import_module(
        "migrations.versions.20261126_0003_settlement_bounties_checks_and_analytics"
    )
    payouts_migration = importlib.import_module("migrations.versions.20261126_0004_batched_payouts")
    op.execute(DOWNGRADE_GUARD)
    op.drop_index("ix_payment_confirmations_next_check_at", table_name="payment_confirmations")
    op.drop_index("ix_payment_confirmations_confirmed_at", table_name="payment_confirmations")
    op.drop_constraint(op.f("ck_payment_confirmations_confirmed_has_time"), "payment_confirmations", type_="check")
    op.drop_column("payment_confirmations", "next_check_at")
    op.drop_column("payment_confirmations", "confirmed_at")
    op.drop_index(op.f("ix_orders_delivered_at"), table_name="orders")
    op.drop_index(op.f("ix_ledger_lines_account_id_entry_id"), table_name="ledger_lines")
    op.create_index(op.f("ix_ledger_lines_account_id"), "ledger_lines", ["account_id"])
    op.execute("DROP VIEW order_states")
    op.drop_constraint(op.f("ck_orders_status"), "orders", type_="check")
    op.create_check_constraint(op.f("ck_orders_status"), "orders", ALL_STATUSES)
    op.execute("ALTER VIEW settlement_lines RENAME TO settlement_lines_after_0008")
    op.create_table(
        "settlement_lines",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("gross_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_net_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("gross_paise > 0", name=op.f("ck_settlement_lines_gross_paise_positive")),
        sa.CheckConstraint(
            "platform_fee_paise >= 0 AND gateway_fee_paise >= 0", name=op.f("ck_settlement_lines_fees_not_negative")
        ),
        sa.CheckConstraint(
            "seller_net_paise = gross_paise - platform_fee_paise - gateway_fee_paise",
            name=op.f("ck_settlement_lines_parts_add_up"),
        ),
        sa.CheckConstraint("seller_net_paise >= 0", name=op.f("ck_settlement_lines_seller_net_not_negative")),
        sa.ForeignKeyConstraint(
            ["fee_schedule_id"],
            ["fee_schedules.fee_schedule_id"],
            name=op.f("fk_settlement_lines_fee_schedule_id_fee_schedules"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_settlement_lines_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.user_id"], name=op.f("fk_settlement_lines_seller_id_users")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_settlement_lines")),
    )
    op.create_index(
        op.f("ix_settlement_lines_settlement_date_seller_id"), "settlement_lines", ["settlement_date", "seller_id"]
    )
    op.create_index(
        op.f("ix_settlement_lines_seller_id_settlement_date"), "settlement_lines", ["seller_id", "settlement_date"]
    )
    op.execute(RESTORE_SETTLEMENT_LINES)
    for column, kind in (("item_type", sa.Text()), ("order_id", sa.Text()), ("bounty_id", sa.BigInteger()),
                         ("refund_id", sa.Text()), ("entry_id", sa.BigInteger())):  # fmt: skip
        op.add_column("payout_items", sa.Column(column, kind, nullable=True))
    op.execute(RESTORE_PAYOUT_ITEMS)
    op.alter_column("payout_items", "item_type", nullable=False)
    op.alter_column("payout_items", "entry_id", nullable=False)
    op.create_check_constraint(
        op.f("ck_payout_items_item_type"),
        "payout_items",
        "item_type IN ('settlement_line', 'bounty', 'clawback', 'adjustment')",
    )
    op.drop_constraint(op.f("fk_payout_items_payee_item_id_payee_items"), "payout_items", type_="foreignkey")
    op.drop_index(op.f("ix_payout_items_payee_item_id"), table_name="payout_items")
    op.drop_column("payout_items", "payee_item_id")
    op.create_foreign_key(
        op.f("fk_payout_items_entry_id_journal_entries"), "payout_items", "journal_entries", ["entry_id"], ["entry_id"]
    )
    op.create_foreign_key(
        op.f("fk_payout_items_bounty_id_bounties"), "payout_items", "bounties", ["bounty_id"], ["bounty_id"]
    )
    op.create_foreign_key(op.f("fk_payout_items_order_id_orders"), "payout_items", "orders", ["order_id"], ["order_id"])
    op.create_index(op.f("ix_payout_items_order_id"), "payout_items", ["order_id"])
    op.create_index(op.f("ix_payout_items_entry_id"), "payout_items", ["entry_id"])
    for table in (
        "ledger_audits",
        "closing_totals",
        "closing_balances",
        "ledger_closes",
        "payee_items",
        "settlement_groups",
        "settlements",
        "captures",
    ):
        op.drop_table(table)
    op.execute("DROP VIEW fee_schedule_periods")
    op.execute(settlement_migration.AFTER_TABLES.split("DO $$")[0])
    op.execute(payouts_migration.PAYEE_ITEMS_VIEW)
