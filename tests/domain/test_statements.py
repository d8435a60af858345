"""Statement rules (the period) and the two guards of the one query: a movement of an entry type the
statement does not know is an `adjustment` line, so the lines still reach the ledger's balance; a
subledger that disagrees with its entry is refused, never shown as a statement."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from domain.ledger import entries, posting
from domain.ledger.accounts import PLATFORM_REVENUE, payable_account
from domain.money import fee_breakdown
from domain.platform.clock import IST, Day, ist_date
from domain.platform.ids import new_id
from domain.settlement.tables import captures
from domain.statements import rules, store
from domain.statements.rules import StatementError, StatementUnreconciled
from domain.users.tables import users


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 1), "statement_period_invalid"),
        (dt.date(1999, 12, 31), dt.date(2000, 1, 1), "statement_period_invalid"),
        (dt.date(2999, 12, 31), dt.date(3000, 1, 1), "statement_period_invalid"),
        (dt.date(2027, 1, 1), dt.date(2028, 1, 2), "statement_period_too_long"),  # 367 days
    ],
)
def test_periods_refused(start: dt.date, end: dt.date, code: str) -> None:
    with pytest.raises(StatementError) as refused:
        rules.period(start, end)
    assert refused.value.code == code


def test_a_period_is_ist_days_with_both_ends() -> None:
    wanted = rules.period(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    assert (wanted.start, wanted.end) == (
        dt.datetime(2026, 3, 1, tzinfo=IST),
        dt.datetime(2026, 3, 2, tzinfo=IST),
    )
    assert rules.period(dt.date(2028, 1, 1), dt.date(2028, 12, 31)).to_date == dt.date(2028, 12, 31)


def _seller(conn: sa.Connection) -> str:
    seller = new_id("usr")
    conn.execute(sa.insert(users).values(user_id=seller, role="seller", name="Seller", email="s@example.in"))
    return seller


def _today() -> dt.date:
    return ist_date(dt.datetime.now(dt.UTC))


def test_an_unknown_movement_is_an_adjustment_line(conn: sa.Connection) -> None:
    seller = _seller(conn)
    account = payable_account("seller", seller)
    entry = entries.Entry(
        f"goodwill:{seller}", "goodwill_credit", (entries.Line(account, -2_500), entries.Line(PLATFORM_REVENUE, 2_500))
    )
    posted = posting.post_entry(conn, entry)
    made = store.payee_statement(conn, seller, _today(), _today(), now=dt.datetime.now(dt.UTC))
    [line] = made.lines
    assert (line.kind, line.entry_id, line.entry_key, line.amount_paise, line.balance_paise) == (
        "adjustment", posted.entry_id, f"goodwill:{seller}", 2_500, 2_500,
    )  # fmt: skip
    assert (made.opening_paise, made.closing_paise) == (0, 2_500) == (0, posting.payee_balance(conn, "seller", seller))


def test_a_subledger_that_disagrees_with_its_entry_is_refused(conn: sa.Connection) -> None:
    seller = _seller(conn)
    order_id = new_id("ord")
    posted = posting.post_entry(conn, entries.capture_entry(order_id, seller, fee_breakdown(10_000, 1000, 150)))
    half = fee_breakdown(5_000, 1000, 150)  # the capture row says net 4_425; the entry says 8_850
    schedule = conn.execute(sa.text("SELECT min(fee_schedule_id) FROM fee_schedules")).scalar_one()
    conn.execute(
        sa.insert(captures).values(
            order_id=order_id, capture_date=_today(), seller_id=seller, paid_at=Day.of(_today()).start,
            gross_paise=half.gross_paise, platform_fee_paise=half.platform_fee_paise,
            gateway_fee_paise=half.gateway_fee_paise, seller_net_paise=half.seller_net_paise,
            fee_schedule_id=schedule, entry_id=posted.entry_id,
        )
    )  # fmt: skip
    with pytest.raises(StatementUnreconciled, match="opening 0 \\+ lines = 4425; the ledger says 8850"):
        store.payee_statement(conn, seller, _today(), _today(), now=dt.datetime.now(dt.UTC))


def test_too_many_lines_are_refused(conn: sa.Connection) -> None:
    seller = _seller(conn)
    account = payable_account("seller", seller)
    for n in range(3):
        posting.post_entry(
            conn,
            entries.Entry(f"goodwill:{seller}:{n}", "goodwill_credit",
                          (entries.Line(account, -100), entries.Line(PLATFORM_REVENUE, 100))),
        )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    assert len(store.payee_statement(conn, seller, _today(), _today(), now=now, max_lines=3).lines) == 3
    with pytest.raises(StatementError) as refused:
        store.payee_statement(conn, seller, _today(), _today(), now=now, max_lines=2)
    assert refused.value.code == "statement_too_large"
