"""Settlement scenarios: each test gets its own database cloned from a migrated template, so it can
assert every account's exact balance, and runs the real `nightly_settlement` job in-process against
the gateway sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from domain.fees.schedule import seed_fee_schedule
from domain.ledger import posting
from domain.orders.tables import orders
from domain.outbox import outbox
from domain.platform.clock import IST
from domain.platform.database import create_engine, with_database
from domain.platform.ids import new_id
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings
from domain.schema import metadata
from domain.users.tables import users
from pipelines.definitions import defs
from pipelines.instance import resource_environment
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
        user_id = new_id("usr")
        with self.engine.begin() as conn:
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
                )
            )
        return user_id

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
        order_id = new_id("ord")
        with self.engine.begin() as conn:
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
        if gateway is not None:
            self.sandbox.pay(order_id, gateway_amount_paise or amount_paise, gateway)
        return order_id

    def settle(self, day: dt.date) -> dg.ExecuteInJobResult:
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


@pytest.fixture(scope="session")
def template_database(make_database, settings: Settings) -> str:  # type: ignore[no-untyped-def]
    url: str = make_database("settle_template")
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_fee_schedule(conn, settings)
    engine.dispose()
    return url


@pytest.fixture
def books(
    template_database: str, server_url: str, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Books]:
    name = f"scenario_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    template = sa.engine.make_url(template_database).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = with_database(template_database, name)
    for variable, value in resource_environment(sandbox.settings.model_copy(update={"database_url": url})).items():
        monkeypatch.setenv(variable, value)
    engine = create_engine(url)
    with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.ephemeral(tempdir=home) as instance:
        yield Books(engine, sandbox, instance)
    with engine.connect() as conn:
        assert outbox.nonconforming(conn) == [], "an outbox row is not an event of the catalogue"
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
