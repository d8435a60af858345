"""`Books`: a scenario's own database, the gateway sandbox, and helpers to build a marketplace day,
confirm its payments as the sensor would, settle it with the real `nightly_settlement` job in-process,
and read every account to the paisa."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import sqlalchemy as sa

from domain.fees import versions
from domain.fees.schedule import FeeSchedule
from domain.ledger import posting
from domain.ledger.invariants import CLOSE_INVARIANTS, LEDGER_INVARIANTS, WHOLE_LEDGER
from domain.ledger.tables import ledger_closes
from domain.payouts.invariants import PAYABLE_INVARIANTS, PAYOUT_INVARIANTS
from domain.payouts.tables import payouts
from domain.platform.clock import IST, TIMEZONE, Day
from domain.platform.invariants import check_all
from domain.refunds.invariants import REFUND_INVARIANTS
from domain.refunds.tables import order_refunds, stray_payments
from domain.schema import metadata
from domain.settlement.confirmation import ConfirmOptions, ConfirmSummary, confirm_due
from domain.settlement.gateway import PaymentStatusGateway
from domain.settlement.invariants import SETTLEMENT_INVARIANTS
from domain.settlement.tables import captures, settlements
from pipelines.definitions import defs
from tests import factories
from tests.sandbox_fixtures import SandboxHandle

VOLATILE_COLUMNS = {"refreshed_at", "checked_at", "updated_at", "next_attempt_at"}


def ist(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), IST)


@dataclass
class Books:
    """A scenario's database, the sandbox, and helpers to build a marketplace day and settle it."""

    engine: sa.Engine
    sandbox: SandboxHandle
    instance: dg.DagsterInstance
    runs: list[dg.ExecuteInJobResult] = field(default_factory=list)

    def user(self, role: str, *, recruiter: str | None = None, status: str = "active") -> str:
        return factories.user(self.engine, role, recruiter=recruiter, status=status)

    def paid_order(
        self,
        buyer: str,
        seller: str,
        amount_paise: int,
        paid_at: dt.datetime,
        *,
        delivered_at: dt.datetime | None = None,
        gateway: str | None = "COMPLETED",
        gateway_amount_paise: int | None = None,
    ) -> str:
        """An order the verified webhook marked paid; `gateway` is what the status API will say."""
        order_id = factories.paid_order(self.engine, buyer, seller, amount_paise, paid_at, delivered_at=delivered_at)
        if gateway is not None:  # paid at the gateway when the webhook says, so its report lists it that day
            paid_at_ms = int(paid_at.timestamp() * 1000)
            self.sandbox.pay(order_id, gateway_amount_paise or amount_paise, gateway, paidAtMs=paid_at_ms)
        return order_id

    def failed_order(
        self, buyer: str, seller: str, amount_paise: int, failed_at: dt.datetime, *, gateway: str | None = "FAILED"
    ) -> str:
        """An order the verified failure webhook marked `payment_failed`; `gateway` is what the status API says."""
        order_id = factories.failed_order(self.engine, buyer, seller, amount_paise, failed_at)
        if gateway is not None:
            self.sandbox.pay(order_id, amount_paise, gateway)
        return order_id

    def confirm(
        self,
        now: dt.datetime,
        *,
        gateway: PaymentStatusGateway | None = None,
        rng: random.Random | None = None,
        **options: Any,
    ) -> ConfirmSummary:
        """The confirmation sensor's work as of `now`: the status API asked about every due payment.

        `gateway` defaults to a PhonePe client on the sandbox that does not retry by itself (as the
        sensor's job builds it); `options` override the settings' ConfirmOptions."""
        client = self.sandbox.phonepe_client(read_retries=0)
        confirm_options = ConfirmOptions.from_settings(self.sandbox.settings, **options)
        try:
            return confirm_due(self.engine, gateway or client, confirm_options, now=now, rng=rng)
        finally:
            client.close()

    def settle(self, day: dt.date) -> dg.ExecuteInJobResult:
        """The night of `day`: first what the confirmation sensor did up to 02:00 IST the next day, when
        the nightly schedule runs, then the `nightly_settlement` job for `day`."""
        self.confirm(ist(day + dt.timedelta(days=1), 2))
        result = defs.resolve_job_def("nightly_settlement").execute_in_process(
            partition_key=day.isoformat(), instance=self.instance, raise_on_error=False
        )
        self.runs.append(result)
        return result

    def balances(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return posting.balances(conn)

    def one(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).one()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows (audit history of check runs aside), volatile timestamps dropped."""
        tables: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                if table.name == "check_results":
                    continue
                columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
                rows = conn.execute(sa.select(*columns)).all()
                tables[table.fullname] = sorted(tuple(str(v) for v in row) for row in rows)
        return tables


def assert_books_sound(books: Books) -> None:
    """Every invariant of the books, over everything written: the whole ledger, every close, every
    day's control totals and payout invariants, and every payee's balance against what it is owed."""
    with books.engine.connect() as conn:
        assert check_all(conn, LEDGER_INVARIANTS, WHOLE_LEDGER) == {}
        assert check_all(conn, PAYABLE_INVARIANTS, WHOLE_LEDGER) == {}
        for (close_id,) in conn.execute(sa.select(ledger_closes.c.close_id)):
            assert check_all(conn, CLOSE_INVARIANTS, {"close_id": close_id}) == {}, close_id
        days = sa.union(
            sa.select(captures.c.capture_date),
            sa.select(settlements.c.settlement_date),
            sa.select(payouts.c.batch_date),
            sa.select(order_refunds.c.completed_date),
            sa.select(sa.cast(sa.func.timezone(TIMEZONE, stray_payments.c.resolved_at), sa.Date)).where(
                stray_payments.c.resolved_at.is_not(None)
            ),
        )
        daily = SETTLEMENT_INVARIANTS + PAYOUT_INVARIANTS + REFUND_INVARIANTS
        for (day,) in conn.execute(days):
            assert check_all(conn, daily, Day.of(day).params) == {}, day


def fee_version_added_on(books: Books, today: dt.date, effective_from: dt.date, **values: int) -> FeeSchedule:
    """A fee schedule version as `settle fees add` made it on `today`, a date before the scenario's days.

    The domain checks the date against `today`; the database's guard knows only the real date, so it
    is switched off for this one insert, in the same transaction (no other session sees it off)."""
    trigger = "fee_schedules_in_effect_frozen"
    with books.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE fee_schedules DISABLE TRIGGER {trigger}"))
        added = versions.add_version(conn, effective_from, versions.FeeChange(**values), today=today, actor="tests")
        conn.execute(sa.text(f"ALTER TABLE fee_schedules ENABLE TRIGGER {trigger}"))
    return added.version
