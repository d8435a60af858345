"""Every table of the system in one MetaData, for Alembic and the schema-drift test.

Each feature declares its tables in its own `tables.py`; importing them here completes `metadata`.
Code imports a table from its feature, never from here.
"""

from __future__ import annotations

from domain.analytics import tables as analytics
from domain.fees import tables as fees
from domain.ledger import tables as ledger
from domain.notifications import tables as notifications
from domain.orders import tables as orders
from domain.outbox import tables as outbox
from domain.payouts import tables as payouts
from domain.platform.tables import COMPARE_OPTIONS, metadata
from domain.reconciliation import tables as reconciliation
from domain.refunds import tables as refunds
from domain.settlement import tables as settlement
from domain.users import tables as users
from domain.webhooks import tables as webhooks

FEATURE_TABLES = (
    analytics,
    fees,
    ledger,
    notifications,
    orders,
    outbox,
    payouts,
    reconciliation,
    refunds,
    settlement,
    users,
    webhooks,
)

__all__ = ["COMPARE_OPTIONS", "FEATURE_TABLES", "metadata"]
