"""Property: any sequence of partial refunds of a captured order, completed through the real completion
path, never reverses more platform fee than was charged, reverses all of it when the whole order is
refunded, gives back exactly what the buyer paid, and leaves every entry and the ledger balanced."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import money
from domain.ledger.invariants import LEDGER_INVARIANTS, WHOLE_LEDGER
from domain.platform.clock import Day
from domain.platform.ids import new_id
from domain.platform.invariants import check_all
from domain.refunds import store
from domain.refunds.invariants import REFUND_INVARIANTS
from domain.refunds.tables import refunds
from tests.scenarios.books import Books, ist

D = dt.date(2026, 11, 10)


@st.composite
def refund_sequences(draw: st.DrawFn) -> tuple[int, list[int]]:
    """An order's gross and the refunds of it, in paise, at most the gross in all."""
    gross = draw(st.integers(min_value=1, max_value=10_000_000))
    pieces = draw(st.lists(st.integers(min_value=1, max_value=gross), min_size=1, max_size=6))
    kept, left = [], gross
    for piece in pieces:
        if piece <= left:
            kept.append(piece)
            left -= piece
    if draw(st.booleans()) and left:  # often the last piece refunds the rest: a full refund in pieces
        kept.append(left)
    return gross, kept


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=refund_sequences())
def test_partial_refunds_never_reverse_more_fee_than_charged(books: Books, case: tuple[int, list[int]]) -> None:
    gross, pieces = case
    buyer, seller = books.user("buyer"), books.user("seller")
    order = books.paid_order(buyer, seller, gross, ist(D, 9), gateway=None)
    fee = money.fee_breakdown(gross, 1000, 150).platform_fee_paise
    with books.engine.connect() as conn, conn.begin() as transaction:
        for n, amount in enumerate(pieces):
            refund_id = new_id("rfd")
            conn.execute(sa.insert(refunds).values(
                refund_id=refund_id, order_id=order, buyer_id=buyer, seller_id=seller, amount_paise=amount,
                reason="other", status="submitted", requested_by="property", submitted_at=ist(D, 10),
            ))  # fmt: skip
            row = conn.execute(sa.select(refunds).where(refunds.c.refund_id == refund_id)).one()
            store.complete(conn, row, store.GatewayFacts(gateway_state="COMPLETED"), ist(D, 11, n))
        totals = conn.execute(
            sa.text("SELECT sum(refund_paise), sum(platform_fee_reversed_paise), sum(seller_debit_paise) "
                    "FROM order_refunds WHERE order_id = :o"), {"o": order},
        ).one()  # fmt: skip
        refunded, reversed_fee, seller_part = (int(v) for v in totals)
        assert refunded == sum(pieces) and reversed_fee + seller_part == refunded
        assert 0 <= reversed_fee <= fee
        if refunded == gross:
            assert reversed_fee == fee  # in pieces exactly as at once
        assert check_all(conn, LEDGER_INVARIANTS, WHOLE_LEDGER) == {}
        assert check_all(conn, REFUND_INVARIANTS, Day.of(D).params) == {}
        clearing = conn.execute(
            sa.text("SELECT coalesce(sum(amount_paise), 0) FROM ledger_lines WHERE account_id = 'gateway_clearing'")
        ).scalar_one()
        assert int(clearing) == -refunded
        transaction.rollback()
