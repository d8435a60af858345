"""Payment confirmation through the day: the sensor's queries read indexes, and the payments the
nightly asset held back are asked about again.

- `ix_orders_payment_failed_at`: a failure webhook is confirmed by the status API too, and a run looks
  for never-asked failures among recent ones only, through this index (as for `paid_at`).
- Rows the nightly confirmation left unconfirmed have `next_check_at` NULL, which now means "nothing
  to ask": without this they would never be asked about again. They become due now, so each gets a
  final answer (or its finance alert) under the new rules.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_payment_failed_at"), "orders", ["payment_failed_at"])
    op.execute("UPDATE payment_confirmations SET next_check_at = now() WHERE NOT confirmed AND next_check_at IS NULL")


def downgrade() -> None:
    """The index only: the rows made due stay valid rows of revision 0008."""
    op.drop_index(op.f("ix_orders_payment_failed_at"), table_name="orders")
