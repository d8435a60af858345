"""The ledger core: every posting builder balances, post_entry is idempotent, also under a race."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import accounts, entries, posting
from domain.ledger.invariants import LEDGER_INVARIANTS, WHOLE_LEDGER
from domain.money import fee_breakdown, refund_split
from domain.platform.invariants import check_all


def _key() -> str:
    return uuid.uuid4().hex[:12]


def test_capture_worked_example(conn: sa.Connection) -> None:
    # Rs 100.00 order, 10% platform fee, 1.5% gateway fee.
    seller = f"usr_{_key()}"
    entry = entries.capture_entry("ord_1", seller, fee_breakdown(10_000, 1000, 150))
    assert sorted((line.account_id, line.amount_paise) for line in entry.lines) == sorted(
        [("gateway_clearing", 9850), (f"seller_payable:{seller}", -8850), ("platform_revenue", -1000)]
    )
    posted = posting.post_entry(conn, entry)
    assert posted.created
    assert posting.payee_balance(conn, "seller", seller) == 8850
    assert check_all(conn, LEDGER_INVARIANTS, WHOLE_LEDGER) == {}


def test_refund_after_payout_is_a_clawback(conn: sa.Connection) -> None:
    seller = f"usr_{_key()}"
    fees = fee_breakdown(10_000, 1000, 150)
    posting.post_entry(conn, entries.capture_entry(f"ord_{seller}", seller, fees))
    payout = f"pay_{_key()}"
    posting.post_entry(conn, entries.payout_sent_entry(payout, "seller", seller, 8850))
    posting.post_entry(conn, entries.payout_completed_entry(payout, 8850))
    assert posting.payee_balance(conn, "seller", seller) == 0
    posting.post_entry(conn, entries.refund_completed_entry(f"rf_{seller}", seller, refund_split(10_000, 1000, 10_000)))
    # The seller owes back 9000 (refund less reversed platform fee); the gateway fee stays with them.
    assert posting.payee_balance(conn, "seller", seller) == -9000
    assert check_all(conn, LEDGER_INVARIANTS, WHOLE_LEDGER) == {}


def test_failed_and_reversed_payouts_return_the_money(conn: sa.Connection) -> None:
    scout = f"usr_{_key()}"
    posting.post_entry(conn, entries.bounty_entry(f"usr_{_key()}", scout, 1000))
    posting.post_entry(conn, entries.bounty_entry(f"usr_{_key()}", scout, 1000))
    first, second = f"pay_{_key()}", f"pay_{_key()}"
    posting.post_entry(conn, entries.payout_sent_entry(first, "scout", scout, 2000))
    assert posting.payee_balance(conn, "scout", scout) == 0
    posting.post_entry(conn, entries.payout_failed_entry(first, "scout", scout, 2000))
    assert posting.payee_balance(conn, "scout", scout) == 2000
    posting.post_entry(conn, entries.payout_sent_entry(second, "scout", scout, 2000))
    posting.post_entry(conn, entries.payout_completed_entry(second, 2000))
    posting.post_entry(conn, entries.payout_reversed_entry(second, "scout", scout, 2000))
    assert posting.payee_balance(conn, "scout", scout) == 2000


def test_gateway_settlement_difference_goes_to_suspense() -> None:
    # Clearing holds 9_850 (10_000 less the 150 fee); the gateway also charged 27 GST on its fee, so
    # 9_823 was due and the bank got 9_800: 23 short, in suspense.
    entry = entries.gateway_settlement_entry("UTR1", transfer_paise=9800, clearing_paise=9850, gst_paise=27)
    assert {line.account_id: line.amount_paise for line in entry.lines} == {
        "bank": 9800,
        "gateway_clearing": -9850,
        "gst_input_credit": 27,
        "recon_suspense": 23,
    }
    exact = entries.gateway_settlement_entry("UTR2", 9823, 9850, 27)
    assert {line.account_id for line in exact.lines} == {"bank", "gateway_clearing", "gst_input_credit"}


def test_same_key_posts_once(conn: sa.Connection) -> None:
    entry = entries.bounty_entry(f"usr_{_key()}", f"usr_{_key()}", 1000)
    first = posting.post_entry(conn, entry)
    again = posting.post_entry(conn, entry)
    assert (first.created, again.created, again.entry_id) == (True, False, first.entry_id)
    lines = conn.execute(
        sa.text("SELECT count(*) FROM ledger_lines WHERE entry_id = :id"), {"id": first.entry_id}
    ).scalar_one()
    assert lines == 2


def test_same_key_with_other_lines_is_refused(conn: sa.Connection) -> None:
    recruit, scout = f"usr_{_key()}", f"usr_{_key()}"
    posting.post_entry(conn, entries.bounty_entry(recruit, scout, 1000))
    with pytest.raises(posting.IdempotencyConflict):
        posting.post_entry(conn, entries.bounty_entry(recruit, scout, 2000))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((entries.Line("bank", 100), entries.Line("gateway_clearing", -99)), "does not balance"),
        ((entries.Line("bank", 0), entries.Line("gateway_clearing", 0)), "non-zero"),
        ((entries.Line("bank", 100),), "two lines"),
        ((entries.Line("bank", 1.5), entries.Line("gateway_clearing", -1.5)), "integer"),  # type: ignore[arg-type]
    ],
)
def test_entry_refuses_bad_lines(lines: tuple[entries.Line, ...], message: str) -> None:
    with pytest.raises(accounts.LedgerError, match=message):
        entries.Entry("k", "test", lines)


def test_payee_ids_cannot_forge_accounts() -> None:
    with pytest.raises(accounts.LedgerError):
        accounts.payable_account("seller", "x:platform_revenue")
    with pytest.raises(accounts.LedgerError):
        accounts.payable_account("buyer", "usr_1")  # type: ignore[arg-type]


def test_two_connections_racing_on_one_key_post_one_entry(engine: sa.Engine) -> None:
    entry = entries.bounty_entry(f"usr_{_key()}", f"usr_{_key()}", 1000)
    barrier = threading.Barrier(2)
    results: list[posting.Posted] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            with engine.begin() as conn:
                barrier.wait()
                results.append(posting.post_entry(conn, entry))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False, True]
    assert len({r.entry_id for r in results}) == 1
    with engine.connect() as conn:
        count = conn.execute(
            sa.text("SELECT count(*) FROM journal_entries WHERE idempotency_key = :k"),
            {"k": entry.idempotency_key},
        ).scalar_one()
    assert count == 1


payee = st.text(alphabet="abcdef0123456789", min_size=1, max_size=8)
money = st.integers(min_value=1, max_value=10**12)
order_amounts = st.integers(min_value=100, max_value=10**12)  # ORDER_MIN_PAISE and up


@given(order_amounts, st.integers(0, 5000), st.integers(0, 5000), payee)
def test_every_built_entry_balances(gross: int, platform_bps: int, gateway_bps: int, who: str) -> None:
    fees = fee_breakdown(gross, platform_bps, gateway_bps)
    split = refund_split(gross, fees.platform_fee_paise, gross)
    built = [
        entries.capture_entry("o", who, fees),
        entries.bounty_entry("r", who, gross),
        entries.payout_sent_entry("p", "seller", who, gross),
        entries.payout_completed_entry("p", gross),
        entries.payout_failed_entry("p", "scout", who, gross),
        entries.payout_reversed_entry("p", "seller", who, gross),
        entries.refund_completed_entry("f", who, split),
        entries.gateway_settlement_entry("u", gross - gross // 3, gross, gross // 7),
    ]
    for entry in built:
        assert sum(line.amount_paise for line in entry.lines) == 0
        assert all(line.amount_paise != 0 for line in entry.lines)
