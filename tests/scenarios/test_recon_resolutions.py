"""Resolving a break the real reconciliation found, to the paisa: the write-off's second admin, its
ledger entry as the only change to the books, the row lock two admins meet on, and the break staying
closed when the day is reconciled again.

A payment of Rs 100 settles 10_000 - 150 - 27 = 9_823 paise; the sandbox reports it Rs 10 short, so
the report says 8_841, the bank receives 8_841, and the per-batch cash posting holds the break's 982
paise in recon_suspense until finance resolves it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from domain.platform.clock import Day
from domain.reconciliation import resolution, workflow
from domain.reconciliation.rules import ReconError
from tests.scenarios.books import Books

WINDOW_DAYS = 3
THRESHOLD = 500


def _short_paid_break(books: Books) -> tuple[dt.datetime, Day, str]:
    """Reconcile today with one payment reported Rs 10 short and post the day's bank transfer, which
    leaves the 982 paise in suspense; the id of the amount_mismatch break."""
    now = dt.datetime.now(dt.UTC)
    day = Day.containing(now)
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    short = books.paid_order(books.user("buyer"), books.user("seller"), 10_000, paid_at)
    books.settle(day.date)
    books.sandbox.configure(report_anomalies={"amount_diff": {short: -1_000}})
    _reconcile(books, day, now)
    bank = books.sandbox.razorpayx_client()
    try:
        assert workflow.post_cash(books.engine, bank, day.date, now=now) is not None
    finally:
        bank.close()
    row = books.one("SELECT exception_id, expected_paise, reported_paise FROM recon_exceptions WHERE reference_id = :r",
                    r=short)  # fmt: skip
    assert (row.expected_paise, row.reported_paise) == (9_823, 8_841)
    return now, day, row.exception_id


def _reconcile(books: Books, day: Day, now: dt.datetime) -> None:
    client = books.sandbox.phonepe_client()
    try:
        workflow.fetch_report(books.engine, client, day.date)
    finally:
        client.close()
    assert workflow.reconcile_day(books.engine, day.date, now=now, settlement_window_days=WINDOW_DAYS) is not None


def _write_off(conn: sa.Connection, exception_id: str, now: dt.datetime, approver: str | None) -> sa.Row[Any]:
    return resolution.resolve(
        conn,
        exception_id,
        action="write_off",
        reason="short settlement under the tolerance",
        actor="finance-a",
        approver=approver,
        now=now,
        request_id="req-1",
        write_off_approval_paise=THRESHOLD,
    )


def test_a_reconciled_break_is_written_off_with_a_second_admin(books: Books) -> None:
    now, day, exception_id = _short_paid_break(books)
    before, balances = books.snapshot(), books.balances()
    for approver in (None, "finance-a"):
        with pytest.raises(ReconError) as refused, books.engine.begin() as conn:
            _write_off(conn, exception_id, now, approver)
        assert refused.value.code == "recon_write_off_needs_approval"
    assert books.snapshot() == before

    with books.engine.begin() as conn:
        written_off = _write_off(conn, exception_id, now, "finance-b")
    assert (written_off.status, written_off.resolved_by, written_off.approved_by) == ("written_off", "finance-a",
                                                                                      "finance-b")  # fmt: skip
    after = books.balances()
    moved = {account: after.get(account, 0) - balances.get(account, 0) for account in after.keys() | balances.keys()}
    assert {account: paise for account, paise in moved.items() if paise} == {
        "platform_revenue": 982,
        "recon_suspense": -982,
    }
    assert (balances["recon_suspense"], after["recon_suspense"]) == (982, 0)
    entry = books.one("SELECT entry_id, entry_type, reference_id FROM journal_entries WHERE idempotency_key = :k",
                      k=f"recon_resolution:{exception_id}")  # fmt: skip
    assert (entry.entry_id, entry.entry_type, entry.reference_id) == (written_off.entry_id, "recon_resolved",
                                                                      exception_id)  # fmt: skip
    audit = books.one("SELECT actor, action, before, after, request_id FROM audit_log WHERE target_id = :t",
                      t=exception_id)  # fmt: skip
    assert (audit.actor, audit.action, audit.before, audit.request_id) == (
        "finance-a", "recon_exception.write_off", {"status": "open"}, "req-1"
    )  # fmt: skip
    assert (audit.after["approved_by"], audit.after["entry_id"]) == ("finance-b", written_off.entry_id)

    closed = books.snapshot()
    with pytest.raises(ReconError) as again, books.engine.begin() as conn:
        _write_off(conn, exception_id, now, "finance-b")
    assert again.value.code == "recon_exception_not_open"
    assert books.snapshot() == closed

    _reconcile(books, day, now)
    seen_again = books.one("SELECT status, entry_id FROM recon_exceptions WHERE exception_id = :x", x=exception_id)
    assert tuple(seen_again) == ("written_off", written_off.entry_id)


def test_two_admins_resolving_one_break_meet_on_its_row_lock(books: Books) -> None:
    now, _, exception_id = _short_paid_break(books)
    with books.engine.begin() as first:
        _write_off(first, exception_id, now, "finance-b")
        with books.engine.connect() as second:
            second.execute(sa.text("SET lock_timeout = '200ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                _write_off(second, exception_id, now, "finance-b")
            second.rollback()
    with pytest.raises(ReconError) as late, books.engine.begin() as conn:
        _write_off(conn, exception_id, now, "finance-b")
    assert late.value.code == "recon_exception_not_open"
    assert books.one("SELECT count(*) FROM journal_entries WHERE reference_id = :x", x=exception_id)[0] == 1


def test_an_unknown_break_is_refused(books: Books) -> None:
    with pytest.raises(ReconError) as unknown, books.engine.begin() as conn:
        _write_off(conn, "rex_unknown", dt.datetime.now(dt.UTC), "finance-b")
    assert unknown.value.code == "recon_exception_not_found"
