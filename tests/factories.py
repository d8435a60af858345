"""Row builders for every feature's tests: users, payees with destinations, paid orders, scout earnings.

They insert rows directly (the API tests build through the API instead, with `make_user` and
`make_order` in conftest.py), so scenarios can stage exactly the state they need.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from domain.ledger import entries, posting
from domain.orders.tables import orders
from domain.payouts.tables import payee_items
from domain.platform.ids import new_id
from domain.users.tables import users


def user(
    engine: sa.Engine,
    role: str,
    *,
    recruiter: str | None = None,
    status: str = "active",
    destination: dict[str, str] | None = None,
    user_id: str | None = None,
) -> str:
    user_id = user_id or new_id("usr")
    # Only a given destination is written: None in a JSONB column would be JSON null, not SQL NULL.
    extra = {"payout_destination": destination} if destination is not None else {}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(users).values(
                user_id=user_id,
                role=role,
                name=f"{role} {user_id[-4:]}",
                email=f"{user_id}@example.com",
                status=status,
                recruiter_id=recruiter,
                referral_source="code" if recruiter else "none",
                referral_code=f"SC{uuid.uuid4().hex[:8].upper()}" if role == "scout" else None,
                **extra,
            )
        )
    return user_id


def payee(
    engine: sa.Engine,
    role: str,
    destination: dict[str, str] | None = None,
    *,
    recruiter: str | None = None,
    status: str = "active",
) -> str:
    """A seller or scout with a payout destination (by default a VPA the sandbox's bank accepts)."""
    user_id = new_id("usr")
    destination = destination or {"type": "vpa", "vpa": f"{user_id[-10:]}@okaxis"}
    return user(engine, role, recruiter=recruiter, status=status, destination=destination, user_id=user_id)


def paid_order(
    engine: sa.Engine,
    buyer: str,
    seller: str,
    amount_paise: int,
    paid_at: dt.datetime,
    *,
    delivered_at: dt.datetime | None = None,
) -> str:
    """An order the verified webhook marked paid (and, with `delivered_at`, delivered)."""
    order_id = new_id("ord")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(orders).values(
                order_id=order_id,
                buyer_id=buyer,
                seller_id=seller,
                listing_id="lst_1",
                amount_paise=amount_paise,
                status="delivered" if delivered_at else "paid",
                paid_at=paid_at,
                delivered_at=delivered_at,
                created_at=paid_at - dt.timedelta(minutes=5),
            )
        )
    return order_id


def failed_order(engine: sa.Engine, buyer: str, seller: str, amount_paise: int, failed_at: dt.datetime) -> str:
    """An order a verified `checkout.order.failed` webhook marked `payment_failed`."""
    order_id = new_id("ord")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(orders).values(
                order_id=order_id,
                buyer_id=buyer,
                seller_id=seller,
                listing_id="lst_1",
                amount_paise=amount_paise,
                status="payment_failed",
                payment_failed_at=failed_at,
                created_at=failed_at - dt.timedelta(minutes=5),
            )
        )
    return order_id


def scout_earnings(engine: sa.Engine, scout_id: str, amount_paise: int) -> None:
    """A bounty a scout may withdraw: its ledger entry and its open payee item, as the nightly run
    writes them for a recruit's first settled order (the recruit here is only a key)."""
    recruit = new_id("usr")
    with engine.begin() as conn:
        posted = posting.post_entry(conn, entries.bounty_entry(recruit, scout_id, amount_paise))
        conn.execute(
            sa.insert(payee_items).values(
                item_key=f"bounty:{recruit}",
                item_type="bounty",
                payee_type="scout",
                payee_id=scout_id,
                amount_paise=amount_paise,
                item_date=dt.date(2026, 11, 10),
                entry_id=posted.entry_id,
            )
        )
