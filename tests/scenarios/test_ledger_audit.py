"""The scheduled ledger audit checks the whole ledger incrementally: each run from where the last one
stopped to the latest close, and finance hears of what it finds."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.books.audit import audit_ledger
from pipelines.definitions import defs
from tests.scenarios.books import Books, ist
from tests.scenarios.payouts import payee

D = dt.date(2026, 11, 10)


def _audit(books: Books):  # type: ignore[no-untyped-def]
    with books.engine.begin() as conn:
        return audit_ledger(conn)


def test_each_audit_resumes_where_the_last_one_stopped(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    assert _audit(books) is None  # no close yet: nothing to audit
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    first = _audit(books)
    assert first is not None and first.passed
    mark = books.one("SELECT through_entry_id FROM ledger_closes ORDER BY close_id DESC LIMIT 1")[0]
    assert (first.from_entry_id, first.through_entry_id, first.closes) == (0, mark, 1)
    assert _audit(books) is None  # nothing closed since

    books.paid_order(buyer, seller, 50_000, ist(D + dt.timedelta(days=1), 9), delivered_at=ist(D, 23))
    assert books.settle(D + dt.timedelta(days=1)).success
    second = _audit(books)
    assert second is not None and second.passed
    assert second.from_entry_id == first.through_entry_id < second.through_entry_id
    assert books.one("SELECT count(*) AS n FROM ledger_audits WHERE passed").n == 2


def test_a_payee_item_out_of_step_with_the_ledger_fails_the_audit_and_tells_finance(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")  # no destination: owed, not paid
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    with books.engine.begin() as conn:  # a hand-made correction that skips the ledger
        conn.execute(sa.text("UPDATE payee_items SET amount_paise = amount_paise + 100"))
    result = defs.resolve_job_def("ledger_audit").execute_in_process(instance=books.instance, raise_on_error=False)
    assert not result.success
    audit = books.one("SELECT passed, problems FROM ledger_audits")
    assert audit.passed is False
    [row] = audit.problems["payables_equal_owed_items_and_held_captures"]
    assert (row["account_id"], row["owed_paise"], row["items_paise"], row["held_paise"]) == (
        f"seller_payable:{seller}",
        88_500,
        88_600,
        0,
    )
    alert = books.one(
        "SELECT audience, event_type, payload FROM notifications WHERE event_type = 'ledger_audit_failed'"
    )
    assert (alert.audience, alert.payload["problems"]) == ("finance", ["payables_equal_owed_items_and_held_captures"])
