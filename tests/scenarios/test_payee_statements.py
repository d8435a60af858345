"""Payee statements over a month of real activity: the nightly job settles and pays, the sandbox is the
gateway, refunds and payouts run against it over HTTP. A statement's closing balance is the ledger's
balance of the payee's payable account, and opening + lines = closing, for sellers and scouts.

Defaults: platform fee 10%, gateway fee 1.5%, bounty Rs 10, minimum payout Rs 100, hold 2 days.

The nights run for days of the last three weeks; what the code posts as it happens (payouts, refunds)
is posted at the real time of the run, so those lines fall on today (IST) in the ledger's own time.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from cli.main import main
from domain.ledger import accounts, posting
from domain.payouts import store as payout_store
from domain.platform.clock import IST, Day
from domain.statements import render, store
from domain.statements.rules import Line, Statement
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import api, payee, payouts, settle_status

TODAY = dt.datetime.now(IST).date()
D1, D2, D3 = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=13), TODAY - dt.timedelta(days=6)


@dataclass
class Month:
    scout: str
    seller: str
    failing: str
    orders: dict[str, str]
    refunds: dict[str, str]


def _now() -> dt.datetime:
    return dt.datetime.now(IST)


def seed_month(books: Books) -> Month:
    """Three nights of a seller, a seller whose payout fails, and a scout with ten recruits."""
    scout = payee(books, "scout")
    seller = payee(books, "seller", recruiter=scout)
    failing = payee(books, "seller", {"type": "vpa", "vpa": "will.fail@okaxis"})
    buyers = [books.user("buyer", recruiter=scout) for _ in range(9)]
    orders: dict[str, str] = {}

    def sell(name: str, buyer: int, to: str, paise: int, day: dt.date, *, delivered: bool = True) -> None:
        orders[name] = books.paid_order(
            buyers[buyer], to, paise, ist(day, 9), delivered_at=ist(day, 11) if delivered else None
        )

    sell("o1", 0, seller, 100_000, D1)
    sell("o2", 1, seller, 50_000, D1)
    sell("o3", 2, failing, 40_000, D1)
    assert books.settle(D1).success
    settle_status(books)
    with books.engine.begin() as conn:
        payout_store.hold_payee(conn, failing, "payout destination bounced", "finance@test")
    r1 = refunds.request(books, orders["o2"], 20_000, _now())
    refunds.approve(books, r1.refund_id, _now())
    refunds.refund_now(books, _now())

    sell("o4", 3, seller, 30_000, D2)
    for n, buyer in enumerate(range(4, 9), start=5):
        sell(f"o{n}", buyer, seller, 1_000, D2)
    assert books.settle(D2).success
    settle_status(books)
    with books.engine.begin() as conn:
        payout_store.request_withdrawal(conn, scout, 10_000, "tests", D2, now=_now())

    sell("o10", 0, seller, 20_000, D3, delivered=False)
    assert books.settle(D3).success
    settle_status(books)
    r2 = refunds.request(books, orders["o10"], 5_000, _now())
    refunds.refund_now(books, _now())
    return Month(scout, seller, failing, orders, {"r1": r1.refund_id, "r2": r2.refund_id})


def statement(books: Books, payee_id: str, from_date: dt.date, to_date: dt.date) -> Statement:
    with books.engine.connect() as conn:
        return store.payee_statement(conn, payee_id, from_date, to_date, now=_now())


def ledger_owed(books: Books, account_id: str, before: dt.datetime) -> int:
    """What the ledger says the payee was owed at `before`: its account's lines of entries before then."""
    row = books.one("SELECT coalesce(sum(l.amount_paise), 0) AS paise FROM ledger_lines l "
                    "JOIN journal_entries e ON e.entry_id = l.entry_id "
                    "WHERE l.account_id = :a AND e.occurred_at < :t", a=account_id, t=before)  # fmt: skip
    return -int(row.paise)


def owed_now(books: Books, payee_type: accounts.PayeeType, payee_id: str) -> int:
    """The ledger's balance as the API reads it: the latest close plus the lines since."""
    with books.engine.connect() as conn:
        return posting.payee_balance(conn, payee_type, payee_id)


def reconciles(books: Books, made: Statement) -> None:
    """Closing = the ledger at the period's end = opening + the lines; every running balance follows."""
    end = Day.of(made.period.to_date).end
    assert made.closing_paise == ledger_owed(books, made.account_id, end)
    assert made.opening_paise == ledger_owed(books, made.account_id, Day.of(made.period.from_date).start)
    amounts = [line.amount_paise for line in made.lines]
    assert made.closing_paise == made.opening_paise + sum(amounts) == made.opening_paise + made.totals.movement_paise
    assert [line.balance_paise for line in made.lines] == list(accumulate(amounts, initial=made.opening_paise))[1:]
    assert [line.line_no for line in made.lines] == list(range(1, len(made.lines) + 1))


SOURCES = {
    "order": ("order_id",),
    "refund": ("refund_id", "order_id"),
    "clawback": ("refund_id", "order_id"),
    "bounty": ("bounty_id", "recruit_id", "order_id"),
    "payout": ("payout_id",),
    "payout_failed": ("payout_id",),
}


def traced(made: Statement) -> None:
    """Every line names its entry and the ids of its source."""
    for line in made.lines:
        assert line.entry_id and line.entry_key, line
        assert all(getattr(line, name) for name in SOURCES[line.kind]), line


def today_or_later(line: Line) -> bool:
    return line.entry_date in (TODAY, TODAY + dt.timedelta(days=1))  # a run may cross IST midnight


def test_a_month_of_statements_reconciles_with_the_ledger(books: Books, tmp_path: Path) -> None:
    month = seed_month(books)
    until = TODAY + dt.timedelta(days=1)
    seller = statement(books, month.seller, D1, until)
    seller_worked_example(books, month, seller)
    capture_entries_add_up(books, month, seller)
    other_periods(books, month, seller)
    failed_payout_and_scout(books, month, until)
    formats_from_one_statement(books, month, until, tmp_path)
    assert_books_sound(books)


def seller_worked_example(books: Books, month: Month, made: Statement) -> None:
    o, r = month.orders, month.refunds
    p1, p2 = (p.payout_id for p in payouts(books) if p.payee_id == month.seller)
    assert made.opening_paise == 0
    rows = [(line.kind, line.order_id or line.payout_id, line.refund_id, line.amount_paise) for line in made.lines]
    assert rows == [
        ("order", o["o1"], None, 88_500),  # 100_000 - 10_000 platform fee - 1_500 gateway fee
        ("order", o["o2"], None, 44_250),  # 50_000 - 5_000 - 750
        # D2, one capture entry, lines by order id: 30_000 - 3_000 - 450; five of 1_000 - 100 - 15
        *sorted(
            [("order", o["o4"], None, 26_550)] + [("order", o[f"o{n}"], None, 885) for n in range(5, 10)],
            key=lambda row: str(row[1]),
        ),
        ("order", o["o10"], None, 17_700),  # 20_000 - 2_000 - 300: captured, not delivered, so not yet payable
        ("payout", p1, None, -132_750),  # D1's settlement: 88_500 + 44_250
        # 20_000 of o2 refunded after p1 paid it: fee reversed round(5_000 x 20_000 / 50_000) = 2_000, the
        # seller gives back 20_000 - 2_000 = 18_000
        ("clawback", o["o2"], r["r1"], -18_000),
        ("payout", p2, None, -12_975),  # D2's settlement 26_550 + 5 x 885 = 30_975, less the 18_000 clawback
        # 5_000 of o10 before any payout: fee reversed round(2_000 x 5_000 / 20_000) = 500, seller gives 4_500
        ("refund", o["o10"], r["r2"], -4_500),
    ]
    assert [line.entry_date for line in made.lines[:9]] == [D1] * 2 + [D2] * 6 + [D3]
    assert all(today_or_later(line) for line in made.lines[9:])  # posted as they happened, in the real run
    assert [made.lines[n].balance_paise for n in (1, 7, 8, 9, 10, 11, 12)] == [
        132_750, 163_725, 181_425, 48_675, 30_675, 17_700, 13_200,
    ]  # fmt: skip
    # What is left: o10's net 17_700 less the 4_500 r2 took back, owed but still inside the hold.
    assert made.closing_paise == 13_200 == owed_now(books, "seller", month.seller)
    reconciles(books, made)
    traced(made)
    totals = {t.kind: (t.lines, t.amount_paise) for t in made.totals.by_kind if t.lines}
    assert totals == {"order": (9, 181_425), "refund": (1, -4_500), "clawback": (1, -18_000), "payout": (2, -145_725)}
    assert (made.totals.gross_paise, made.totals.platform_fee_paise, made.totals.gateway_fee_paise) == (
        205_000, 20_500, 3_075,
    )  # fmt: skip
    assert (made.totals.refund_paise, made.totals.platform_fee_reversed_paise) == (25_000, 2_500)
    first, second = made.lines[9], made.lines[11]
    paid = {p.payout_id: p for p in payouts(books)}
    assert [(first.payout_status, first.utr), (second.payout_status, second.utr)] == [
        ("completed", paid[p1].utr), ("completed", paid[p2].utr),
    ]  # fmt: skip
    assert paid[p1].utr and paid[p2].utr
    assert [(i.item_key, i.amount_paise) for i in first.items] == [(f"settlement:{D1}:{month.seller}", 132_750)]
    assert [(i.item_key, i.item_type, i.amount_paise) for i in second.items] == [
        (f"refund:{r['r1']}", "clawback", -18_000),
        (f"settlement:{D2}:{month.seller}", "settlement", 30_975),
    ]


def capture_entries_add_up(books: Books, month: Month, made: Statement) -> None:
    """The ledger posts a seller-day once; its order lines add up to that entry's line on the payable."""
    entries = books.rows("SELECT e.entry_id, e.idempotency_key, -l.amount_paise AS net FROM journal_entries e "
                         "JOIN ledger_lines l ON l.entry_id = e.entry_id "
                         "WHERE e.entry_type = 'payment_captured' AND l.account_id = :a ORDER BY e.entry_id",
                         a=made.account_id)  # fmt: skip
    assert [(e.idempotency_key, e.net) for e in entries] == [
        (f"capture:{D1}:{month.seller}", 132_750),
        (f"capture:{D2}:{month.seller}", 30_975),
        (f"capture:{D3}:{month.seller}", 17_700),
    ]
    for entry in entries:
        of_entry = [line for line in made.lines if line.entry_id == entry.entry_id]
        assert {line.kind for line in of_entry} == {"order"}
        assert sum(line.amount_paise for line in of_entry) == entry.net
        assert {line.entry_key for line in of_entry} == {entry.idempotency_key}


def other_periods(books: Books, month: Month, whole: Statement) -> None:
    until = TODAY + dt.timedelta(days=1)
    mid = statement(books, month.seller, D2, until)
    assert mid.opening_paise == 132_750  # D1's orders, 88_500 + 44_250: every payout came later
    assert mid.lines == tuple(dataclasses.replace(line, line_no=n) for n, line in enumerate(whole.lines[2:], 1))
    assert mid.closing_paise == whole.closing_paise
    reconciles(books, mid)

    early = statement(books, month.seller, D1, D3)
    assert early.closing_paise == 181_425  # every order, none paid out yet in the ledger's time
    assert early.lines == whole.lines[:9]
    reconciles(books, early)

    quiet = statement(books, month.seller, D3 + dt.timedelta(days=1), TODAY - dt.timedelta(days=1))
    assert (quiet.opening_paise, quiet.lines, quiet.closing_paise) == (181_425, (), 181_425)
    reconciles(books, quiet)


def failed_payout_and_scout(books: Books, month: Month, until: dt.date) -> None:
    failing = statement(books, month.failing, D1, until)
    [failed] = [p for p in payouts(books) if p.payee_id == month.failing]
    rows = [
        (line.kind, line.order_id or line.payout_id, line.amount_paise, line.payout_status) for line in failing.lines
    ]
    assert rows == [
        ("order", month.orders["o3"], 35_400, None),  # 40_000 - 4_000 - 600
        ("payout", failed.payout_id, -35_400, "failed"),
        ("payout_failed", failed.payout_id, 35_400, "failed"),  # the bank refused: the money is owed again
    ]
    assert failing.lines[1].utr is None
    assert failing.closing_paise == 35_400 == owed_now(books, "seller", month.failing)  # held by finance
    reconciles(books, failing)
    traced(failing)

    scout = statement(books, month.scout, D1, until)
    bounties = [line for line in scout.lines if line.kind == "bounty"]
    # Ten recruits' first settled orders, Rs 10 each: the seller and three buyers on D1, six buyers on D2.
    assert [(line.entry_date, line.amount_paise) for line in bounties] == [(D1, 1_000)] * 4 + [(D2, 1_000)] * 6
    first_sale = min(month.orders["o1"], month.orders["o2"])
    assert {line.recruit_id: line.order_id for line in bounties}[month.seller] == first_sale
    assert len({line.recruit_id for line in bounties}) == 10
    [payout] = [line for line in scout.lines if line.kind == "payout"]
    assert (payout.amount_paise, payout.payout_status, payout.line_no) == (-10_000, "completed", 11)
    assert payout.utr and today_or_later(payout)
    assert sorted(i.bounty_id for i in payout.items) == sorted(line.bounty_id for line in bounties)  # type: ignore[type-var]
    assert {t.kind: t.amount_paise for t in scout.totals.by_kind if t.lines} == {"bounty": 10_000, "payout": -10_000}
    assert scout.closing_paise == 0 == owed_now(books, "scout", month.scout)
    reconciles(books, scout)
    traced(scout)


def formats_from_one_statement(books: Books, month: Month, until: dt.date, tmp_path: Path) -> None:
    with books.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET name = 'Ravi & Sons <b>' WHERE user_id = :u"), {"u": month.seller})
    client, headers = api(books)
    url, window = f"/v1/payees/{month.seller}/statement", {"from": D1.isoformat(), "to": until.isoformat()}
    as_json = client.get(url, params=window, headers=headers)
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    expected = render.document(statement(books, month.seller, D1, until))
    assert {**body, "generated_at": None} == {**expected, "generated_at": None}
    assert (body["payee_name"], body["opening_paise"], body["closing_paise"], len(body["lines"])) == (
        "Ravi & Sons <b>", 0, 13_200, 13,
    )  # fmt: skip

    as_csv = client.get(url, params={**window, "format": "csv"}, headers=headers)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == (
        f'attachment; filename="statement_{month.seller}_{D1}_{until}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert (rows[0]["kind"], rows[0]["balance_paise"], rows[-1]["kind"], rows[-1]["balance_paise"]) == (
        "opening_balance", "0", "closing_balance", "13200",
    )  # fmt: skip
    assert len(rows) == len(body["lines"]) + 2
    for row, line in zip(rows[1:-1], body["lines"], strict=True):
        line = {**line, "items": " ".join(f"{i['item_key']}={i['amount_paise']}" for i in line["items"])}
        assert row == {column: "" if line[column] is None else str(line[column]) for column in render.CSV_COLUMNS}

    as_html = client.get(url, params={**window, "format": "html"}, headers=headers)
    assert as_html.status_code == 200
    assert as_html.headers["content-type"] == "text/html; charset=utf-8"
    page = as_html.text
    assert "Ravi &amp; Sons &lt;b&gt;" in page and "<b>" not in page  # escaped
    for shown in ("Rs 0.00", "Rs 1,814.25", "-Rs 45.00", "-Rs 180.00", "-Rs 1,457.25", "Rs 132.00", "Rs 2,050.00"):
        assert f">{shown}<" in page or f" {shown}" in page, shown  # totals and the closing balance, in rupees
    assert D1.strftime("%d %b %Y") in page and month.refunds["r1"] in page

    env = {"DATABASE_URL": books.engine.url.render_as_string(hide_password=False), "LOG_FORMAT": "console"}
    args = ["statement", "--payee", month.seller, "--from", D1.isoformat(), "--to", until.isoformat()]
    printed = CliRunner().invoke(main, args, env=env)
    assert printed.exit_code == 0, printed.output
    assert {**json.loads(printed.stdout), "generated_at": None} == {**body, "generated_at": None}
    target = tmp_path / "statement.csv"
    written = CliRunner().invoke(main, [*args, "--format", "csv", "--output", str(target)], env=env)
    assert (written.exit_code, written.stdout) == (0, "")
    assert target.read_bytes() == as_csv.content
