"""Payment confirmation: money moves only for a payment the gateway itself reports COMPLETED for the
full amount. A webhook alone (whose v2 header proves nothing about freshness) never moves money.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert

from domain.platform.clock import Day
from domain.platform.gateway_errors import GatewayError
from domain.platform.sql import statement
from domain.settlement.gateway import OrderStatus, PaymentStatusGateway
from domain.settlement.tables import payment_confirmations

log = structlog.get_logger(__name__)


def confirmation_outcome(expected_paise: int, status: OrderStatus | GatewayError | None) -> tuple[bool, str]:
    """Whether the gateway's answer confirms the payment, and the reason recorded with it."""
    if not isinstance(status, OrderStatus):
        return False, "status_unavailable"
    if status.state != "COMPLETED":
        return False, f"gateway_state_{status.state.lower()}"
    if status.amount_paise != expected_paise:
        return False, "amount_mismatch"
    return True, "confirmed"


def confirm_payments(conn: sa.Connection, gateway: PaymentStatusGateway, day: Day) -> dict[str, int]:
    """Ask the gateway about every paid order up to the end of `day` not yet confirmed; record each answer."""
    pending: Mapping[str, int] = {
        row.order_id: row.amount_paise for row in conn.execute(statement("settlement/unconfirmed_payments"), day.params)
    }
    if not pending:
        return {"checked": 0, "confirmed": 0, "held": 0}
    statuses = gateway.order_statuses(list(pending))
    rows = []
    for order_id, expected in pending.items():
        status = statuses.get(order_id)
        confirmed, reason = confirmation_outcome(expected, status)
        known = status if isinstance(status, OrderStatus) else None
        rows.append(
            {
                "order_id": order_id,
                "confirmed": confirmed,
                "is_confirmed": confirmed,
                "reason": reason,
                "gateway_state": known.state if known else None,
                "gateway_amount_paise": known.amount_paise if known else None,
                "gateway_transaction_id": known.transaction_id if known else None,
            }
        )
    upsert = insert(payment_confirmations).values(
        confirmed_at=sa.case((sa.bindparam("is_confirmed", type_=sa.Boolean), sa.func.now()), else_=sa.null())
    )
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["order_id"],
            set_={
                "confirmed": upsert.excluded.confirmed,
                "reason": upsert.excluded.reason,
                "gateway_state": upsert.excluded.gateway_state,
                "gateway_amount_paise": upsert.excluded.gateway_amount_paise,
                "gateway_transaction_id": upsert.excluded.gateway_transaction_id,
                "confirmed_at": upsert.excluded.confirmed_at,
                "checked_at": sa.func.now(),
                "attempts": payment_confirmations.c.attempts + 1,
            },
            where=sa.not_(payment_confirmations.c.confirmed),
        ),
        rows,
    )
    confirmed_count = sum(1 for row in rows if row["confirmed"])
    if confirmed_count < len(rows):
        log.warning("payments_held_back", held=len(rows) - confirmed_count, checked=len(rows))
    return {"checked": len(rows), "confirmed": confirmed_count, "held": len(rows) - confirmed_count}
