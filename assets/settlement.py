"""The nightly settlement: confirm payments, post captures, record settlement lines, earn bounties.

Every asset is one partition day (IST) and idempotent by construction: the ledger keys
(`capture:<order_id>`, `bounty:<recruit_id>`), unique settlement lines per order and unique outbox
dedupe keys make a re-run, a backfill or two concurrent runs post nothing twice. The heavy lifting
is set-based SQL in `sql/`; the only Python loop is over gateway status calls.
"""

from collections.abc import Mapping

import dagster as dg
import sqlalchemy as sa
import structlog

from assets.partitions import Day, daily_partitions
from assets.resources import PaymentsGatewayResource, PostgresResource
from assets.sql import statement
from domain.schema import payment_confirmations
from gateways.base import OrderStatus
from gateways.errors import GatewayError

log = structlog.get_logger(__name__)

PAID_STATES = ("paid", "delivered")
HELD_SAMPLE = 20

UNCONFIRMED_PAYMENTS = sa.text(
    """
    SELECT o.order_id, o.amount_paise FROM orders o
    WHERE o.paid_at < :day_end AND o.status IN ('paid', 'delivered')
      AND NOT EXISTS (SELECT 1 FROM payment_confirmations c WHERE c.order_id = o.order_id AND c.confirmed)
    ORDER BY o.paid_at, o.order_id
    """
)

HELD_PAYMENTS = sa.text(
    """
    SELECT o.order_id, o.amount_paise, c.reason, c.gateway_state FROM orders o
    LEFT JOIN payment_confirmations c ON c.order_id = o.order_id
    WHERE o.paid_at < :day_end AND o.status IN ('paid', 'delivered') AND NOT coalesce(c.confirmed, false)
    ORDER BY o.paid_at, o.order_id
    """
)


def confirmation_outcome(expected_paise: int, status: OrderStatus | GatewayError | None) -> tuple[bool, str]:
    """Money moves only for a payment the gateway itself reports COMPLETED for the full amount."""
    if not isinstance(status, OrderStatus):
        return False, "status_unavailable"
    if status.state != "COMPLETED":
        return False, f"gateway_state_{status.state.lower()}"
    if status.amount_paise != expected_paise:
        return False, "amount_mismatch"
    return True, "confirmed"


def confirm_payments(conn: sa.Connection, gateway: PaymentsGatewayResource, day: Day) -> dict[str, int]:
    """Ask the gateway about every paid order not yet confirmed; record each answer."""
    pending: Mapping[str, int] = {
        row.order_id: row.amount_paise for row in conn.execute(UNCONFIRMED_PAYMENTS, day.params)
    }
    if not pending:
        return {"checked": 0, "confirmed": 0, "held": 0}
    client = gateway.client()
    try:
        statuses = client.order_statuses(list(pending))
    finally:
        client.close()
    rows = []
    for order_id, expected in pending.items():
        status = statuses.get(order_id)
        confirmed, reason = confirmation_outcome(expected, status)
        known = status if isinstance(status, OrderStatus) else None
        rows.append(
            {
                "order_id": order_id,
                "confirmed": confirmed,
                "reason": reason,
                "gateway_state": known.state if known else None,
                "gateway_amount_paise": known.amount_paise if known else None,
                "gateway_transaction_id": known.transaction_id if known else None,
            }
        )
    upsert = sa.dialects.postgresql.insert(payment_confirmations)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["order_id"],
            set_={
                "confirmed": upsert.excluded.confirmed,
                "reason": upsert.excluded.reason,
                "gateway_state": upsert.excluded.gateway_state,
                "gateway_amount_paise": upsert.excluded.gateway_amount_paise,
                "gateway_transaction_id": upsert.excluded.gateway_transaction_id,
                "checked_at": sa.func.now(),
                "attempts": payment_confirmations.c.attempts + 1,
            },
            where=sa.not_(payment_confirmations.c.confirmed),
        ),
        rows,
    )
    confirmed = sum(1 for row in rows if row["confirmed"])
    if confirmed < len(rows):
        log.warning("payments_held_back", held=len(rows) - confirmed, checked=len(rows))
    return {"checked": len(rows), "confirmed": confirmed, "held": len(rows) - confirmed}


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    description="Gateway status of every paid order up to the end of the day: a webhook alone never moves "
    "money. Unconfirmed payments are held back and retried on the next run.",
)
def payment_confirmations_asset(
    context: dg.AssetExecutionContext, db: PostgresResource, phonepe: PaymentsGatewayResource
) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        counts = confirm_payments(conn, phonepe, day)
    context.log.info(f"payment confirmations for {day.date}: {counts}")
    return dg.MaterializeResult(metadata=counts)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[payment_confirmations_asset],
    description="Capture entries (DESIGN.md §4) for every confirmed payment up to the end of the day.",
)
def captures(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        captured, gross = conn.execute(statement("captures"), day.params).one()
        held = conn.execute(HELD_PAYMENTS, day.params).mappings().all()
    return dg.MaterializeResult(
        metadata={
            "captured": captured,
            "captured_gross_paise": int(gross),
            "held_back": len(held),
            "held_back_orders": dg.MetadataValue.json([dict(row) for row in held[:HELD_SAMPLE]]),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures],
    description="One line per order that became eligible (delivered, or paid and past the hold period): "
    "gross, platform fee, gateway fee and seller net under the fee schedule in effect at payment.",
)
def settlement_lines(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        settled = conn.execute(statement("settlement_lines"), day.params).scalar_one()
        totals = conn.execute(
            sa.text(
                "SELECT count(*), coalesce(sum(gross_paise), 0), coalesce(sum(seller_net_paise), 0) "
                "FROM settlement_lines WHERE settlement_date = :day"
            ),
            day.params,
        ).one()
    return dg.MaterializeResult(
        metadata={
            "settled_now": settled,
            "lines_for_day": totals[0],
            "gross_paise": int(totals[1]),
            "seller_net_paise": int(totals[2]),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[settlement_lines],
    description="Bounties earned by scouts whose recruits' first order settled this day.",
)
def scout_bounties(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        earned, amount = conn.execute(statement("bounties"), day.params).one()
    return dg.MaterializeResult(metadata={"bounties_earned": earned, "bounty_paise": int(amount)})


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures, scout_bounties],
    description="The books after the night's postings: balance per account type. Its checks guard payouts.",
)
def ledger_trial_balance(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.account_type, sum(l.amount_paise) FROM ledger_lines l "
                "JOIN ledger_accounts a ON a.account_id = l.account_id GROUP BY a.account_type ORDER BY 1"
            )
        ).all()
    balances = {account_type: int(total) for account_type, total in rows}
    return dg.MaterializeResult(metadata={f"{name}_paise": value for name, value in balances.items()})
