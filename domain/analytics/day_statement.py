"""The day statement finance reads on a night's run: the day's revenue, refunds and payouts from the
analytics rows the run has just rebuilt, and the books by account type at the day's ledger close.
It reads a handful of summary rows, never the day's orders, so it costs the same on any volume."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from domain.money import format_rupees
from domain.platform.sql import statement

REVENUE_COLUMNS = (
    "orders_paid",
    "gmv_paise",
    "platform_fee_paise",
    "gateway_fee_paise",
    "refunds_paise",
    "refunded_platform_fee_paise",
    "bounty_expense_paise",
    "stray_gateway_fee_paise",
    "net_revenue_paise",
)


@dataclass(frozen=True, slots=True)
class DayStatement:
    day: dt.date
    revenue: dict[str, int]  # the day's analytics.daily_revenue row, zeros when the day has none
    refunds: dict[str, int]  # refunds_completed, refund_paise, clawback_paise, refunds_failed, failed_paise
    payouts: dict[str, tuple[int, int]]  # status -> (payouts, paise) of the batch day
    balances: dict[str, int]  # account type -> balance at the day's latest close

    @property
    def seller_net_paise(self) -> int:
        r = self.revenue
        return r["gmv_paise"] - r["platform_fee_paise"] - r["gateway_fee_paise"]


def read(conn: sa.Connection, day: dt.date) -> DayStatement:
    params = {"day": day}
    revenue = conn.execute(statement("analytics/day_revenue"), params).first()
    refunds = conn.execute(statement("analytics/day_refunds"), params).one()
    payouts = conn.execute(statement("analytics/day_payouts"), params).all()
    balances = conn.execute(statement("analytics/day_balances"), params).all()
    return DayStatement(
        day=day,
        revenue={name: int(revenue._mapping[name]) if revenue else 0 for name in REVENUE_COLUMNS},
        refunds={name: int(value) for name, value in refunds._mapping.items()},
        payouts={row.status: (int(row.payouts), int(row.amount_paise)) for row in payouts},
        balances={row.account_type: int(row.balance_paise) for row in balances},
    )


def figures(s: DayStatement) -> dict[str, int]:
    """The day's numbers under stable names, so that Dagster can plot each across days."""
    r = s.revenue
    return {
        "orders_captured": r["orders_paid"],
        "gmv_paise": r["gmv_paise"],
        "platform_fee_paise": r["platform_fee_paise"],
        "gateway_fee_paise": r["gateway_fee_paise"],
        "seller_net_paise": s.seller_net_paise,
        "refunds_paise": r["refunds_paise"],
        "clawback_paise": s.refunds["clawback_paise"],
        "bounty_paise": r["bounty_expense_paise"],
        "net_revenue_paise": r["net_revenue_paise"],
    }


def markdown(s: DayStatement) -> str:
    """One short table (the Dagster UI shows a markdown value inline only below 1,000 characters)."""
    r, f = s.revenue, s.refunds
    rows = [
        ("GMV captured", r["orders_paid"], r["gmv_paise"]),
        ("Platform fee", None, r["platform_fee_paise"]),
        ("Gateway fee", None, r["gateway_fee_paise"]),
        ("Seller net", None, s.seller_net_paise),
        ("Refunds completed", f["refunds_completed"], r["refunds_paise"]),
        ("Platform fee reversed", None, r["refunded_platform_fee_paise"]),
        ("Taken back from sellers", None, f["clawback_paise"]),
        ("Refunds failed", f["refunds_failed"], f["failed_paise"]),
        ("Bounties", None, r["bounty_expense_paise"]),
        ("Gateway fee on stray payments", None, r["stray_gateway_fee_paise"]),
        ("Net revenue", None, r["net_revenue_paise"]),
    ]
    payouts = ", ".join(
        f"{status} {count} ({format_rupees(paise)})" for status, (count, paise) in sorted(s.payouts.items())
    )
    return "\n".join(
        [
            f"### Day statement {s.day} (IST)",
            "",
            "| | Count | Amount |",
            "|---|---:|---:|",
            *(
                f"| {label} | {'' if count is None else count} | {format_rupees(paise)} |"
                for label, count, paise in rows
            ),
            "",
            f"Payouts of the day: {payouts or 'none'}.",
        ]
    )
