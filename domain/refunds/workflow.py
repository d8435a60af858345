"""One refunds run, what the refunds sensor launches and `settle refunds run` does: stray payments
checked (and refunded), approved refunds submitted, submitted ones brought up to date. Each part is
safe to run twice or concurrently with itself (row locks, SKIP LOCKED)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Protocol

import sqlalchemy as sa

from domain.platform.sql import statement
from domain.refunds import status, stray, submission
from domain.refunds.gateway import RefundEventParser, RefundsGateway
from domain.refunds.submission import RefundOptions
from domain.settlement.gateway import PaymentStatusGateway


class PhonePeRefunds(RefundsGateway, PaymentStatusGateway, Protocol):
    """What a refunds run needs of PhonePe: refunds, and the order status of stray payments."""


def run_refunds(
    engine: sa.Engine,
    gateway: PhonePeRefunds,
    parse: RefundEventParser,
    options: RefundOptions,
    *,
    now: dt.datetime,
    stray_max_age: dt.timedelta,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    rng = rng or random.Random()
    strays = stray.refund_stray_payments(engine, gateway, options, now=now, max_age=stray_max_age, rng=rng)
    submitted = submission.submit_due(engine, gateway, options, now=now, rng=rng)
    updated = status.bring_up_to_date(engine, gateway, parse, options, now=now, rng=rng)
    return {
        **{f"stray_{k}": v for k, v in sorted(strays.items())},
        **{f"submit_{k}": v for k, v in submitted.as_dict().items()},
        **updated,
    }


def work_due(conn: sa.Connection, now: dt.datetime) -> bool:
    """Whether a run would find anything to do (what the sensor asks)."""
    return bool(conn.execute(statement("refunds/work"), {"now": now}).scalar_one())
