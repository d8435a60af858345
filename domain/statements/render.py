"""A statement as people and programs take it: the JSON document (the API's body and `settle statement`'s
output alike), CSV (one row per line, between an opening and a closing row) and a plain printable HTML
page (rupees, IST dates). All three are made from the one `Statement`, so they cannot disagree.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2

from domain.money import format_rupees
from domain.platform.clock import IST
from domain.statements.rules import Line, Statement

TEMPLATE_DIR = Path(__file__).parent / "templates"

CSV_COLUMNS: Final = (
    "line_no",
    "entry_date",
    "kind",
    "entry_id",
    "entry_key",
    "order_id",
    "refund_id",
    "payout_id",
    "bounty_id",
    "recruit_id",
    "gross_paise",
    "platform_fee_paise",
    "gateway_fee_paise",
    "refund_paise",
    "platform_fee_reversed_paise",
    "payout_status",
    "utr",
    "retry_of_payout_id",
    "items",
    "amount_paise",
    "balance_paise",
)
"""`items` lists a payout's payee items as `<item_key>=<paise>`, space-separated."""

LINE_LABELS: Final = {
    "order": "Order",
    "refund": "Refund",
    "clawback": "Refund after payout",
    "bounty": "Bounty",
    "payout": "Payout",
    "payout_failed": "Payout failed, returned",
    "payout_cancelled": "Payout cancelled, returned",
    "payout_reversed": "Payout reversed, returned",
    "adjustment": "Adjustment",
}
TOTAL_LABELS: Final = {
    "order": "Orders",
    "refund": "Refunds",
    "clawback": "Refunds after payout (clawbacks)",
    "bounty": "Bounties",
    "payout": "Payouts",
    "payout_failed": "Failed payouts returned",
    "payout_cancelled": "Cancelled payouts returned",
    "payout_reversed": "Reversed payouts returned",
    "adjustment": "Adjustments",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def document(statement: Statement) -> dict[str, Any]:
    """The statement as JSON values (dates `YYYY-MM-DD` in IST, times RFC 3339 in UTC, paise integers)."""
    return {
        "payee_id": statement.payee_id,
        "payee_type": statement.payee_type,
        "payee_name": statement.payee_name,
        "account_id": statement.account_id,
        "from_date": _json_value(statement.period.from_date),
        "to_date": _json_value(statement.period.to_date),
        "generated_at": _json_value(statement.generated_at),
        "opening_paise": statement.opening_paise,
        "closing_paise": statement.closing_paise,
        "totals": _json_value(dataclasses.asdict(statement.totals)),
        "lines": [_json_value(dataclasses.asdict(line)) for line in statement.lines],
    }


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_row(line: Line) -> list[Any]:
    values = dataclasses.asdict(line)
    values["entry_date"] = line.entry_date.isoformat()
    values["items"] = " ".join(f"{item.item_key}={item.amount_paise}" for item in line.items)
    return [_cell(values[column]) for column in CSV_COLUMNS]


def _balance_row(kind: str, day: dt.date, balance_paise: int) -> list[Any]:
    values = dict.fromkeys(CSV_COLUMNS, "") | {
        "entry_date": day.isoformat(),
        "kind": kind,
        "balance_paise": balance_paise,
    }
    return [values[column] for column in CSV_COLUMNS]


def csv_text(statement: Statement) -> str:
    """A header, the opening balance, one row per line, the closing balance (amounts in paise)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_balance_row("opening_balance", statement.period.from_date, statement.opening_paise))
    writer.writerows(_csv_row(line) for line in statement.lines)
    writer.writerow(_balance_row("closing_balance", statement.period.to_date, statement.closing_paise))
    return out.getvalue()


def display_date(value: dt.date) -> str:
    return value.strftime("%d %b %Y")


def display_time(value: dt.datetime) -> str:
    return value.astimezone(IST).strftime("%d %b %Y %H:%M IST")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupees"] = format_rupees
    env.filters["ist_date"] = display_date
    env.filters["ist_time"] = display_time
    return env


def html_text(statement: Statement) -> str:
    template = environment().get_template("statement.html.j2")
    return template.render(statement=statement, line_labels=LINE_LABELS, total_labels=TOTAL_LABELS)


def filename(statement: Statement, extension: str) -> str:
    period = statement.period
    return f"statement_{statement.payee_id}_{period.from_date.isoformat()}_{period.to_date.isoformat()}.{extension}"
