"""Ledger replay: three nights of a marketplace rebuilt from the raw facts equal the books entry by entry,
line by line and row by row, the replay writes nothing, and every hand-altered row is found as the kind
of difference it is, by its id.

Defaults: platform fee 10%, gateway fee 1.5%, bounty Rs 10, minimum payout Rs 100, hold 2 days.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli.main import main
from domain.books import replay
from domain.ledger.tables import journal_entries
from domain.orders.tables import orders
from domain.payouts import store as payout_store
from domain.platform.clock import Day
from domain.platform.ids import new_id
from domain.reconciliation import resolution, workflow
from pipelines.definitions import defs
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts, settle_status, submit

D = dt.date(2026, 11, 10)
D1, D2 = D + dt.timedelta(days=1), D + dt.timedelta(days=2)

BOOKS_TABLES = ("ledger_accounts", "journal_entries", "ledger_lines", "closing_balances", "captures", "settlements",
                "settlement_groups", "bounties", "payee_items", "order_refunds")  # fmt: skip
NET_MOVED = (  # a paisa of the seller's net to the platform fee: the capture's parts still add up
    "UPDATE captures SET seller_net_paise = seller_net_paise - 1, platform_fee_paise = platform_fee_paise + 1 "
    "WHERE order_id = :o"
)
SEQUENCES = ("journal_entries_entry_id_seq", "ledger_lines_line_id_seq", "bounties_bounty_id_seq",
             "payee_items_payee_item_id_seq")  # fmt: skip


def _ms(instant: dt.datetime) -> int:
    return int(instant.timestamp() * 1000)


def _destination(books: Books, user_id: str, vpa: str) -> None:
    with books.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET payout_destination = CAST(:d AS jsonb) WHERE user_id = :u"),
                     {"d": json.dumps({"type": "vpa", "vpa": vpa}), "u": user_id})  # fmt: skip


def _stray_payment(books: Books, amount_paise: int) -> str:
    """A buyer pays for an order already cancelled; it is refunded in full (real time: strays are
    stamped by the database's clock)."""
    now = dt.datetime.now(dt.UTC)
    order_id = new_id("ord")
    with books.engine.begin() as conn:
        conn.execute(
            sa.insert(orders).values(
                order_id=order_id, buyer_id=books.user("buyer"), seller_id=books.user("seller"), listing_id="lst_1",
                amount_paise=amount_paise, status="cancelled", cancelled_at=now - dt.timedelta(hours=2),
                created_at=now - dt.timedelta(hours=3),
            )
        )  # fmt: skip
    books.sandbox.pay(order_id, amount_paise)
    books.sandbox.flush()
    refunds.store_webhooks(books)
    assert refunds.check_strays(books, dt.datetime.now(dt.UTC)) == {"refunding": 1}
    refunds.refund_now(books, dt.datetime.now(dt.UTC))
    return order_id


def _three_nights(books: Books) -> dict[str, str]:
    """Captures over three nights (one payment captured by a re-run of its day, one by the next night),
    settlements on delivery and after the hold, two bounties, payouts completed, failed twice and
    retried, one reversed and paid again, a full refund after the payout (a clawback), a partial refund,
    and a stray payment refunded."""
    scout = payee(books, "scout")
    a = payee(books, "seller", recruiter=scout)
    b = payee(books, "seller", {"type": "vpa", "vpa": "fail.b@okaxis"})  # the bank refuses b's payouts
    c = payee(books, "seller", {"type": "vpa", "vpa": "reverse.c@okaxis"})  # the bank returns c's payout
    buyer, recruit = books.user("buyer"), books.user("buyer", recruiter=scout)
    sold = books.paid_order(buyer, a, 100_000, ist(D, 9), delivered_at=ist(D, 10))  # net 88_500
    books.paid_order(buyer, a, 20_000, ist(D, 9))  # net 17_700, settles after the hold, on D2
    b_order = books.paid_order(buyer, b, 50_000, ist(D, 9), delivered_at=ist(D, 10))  # net 44_250
    late = books.paid_order(buyer, a, 30_000, ist(D, 11), delivered_at=ist(D, 12), gateway=None)  # net 26_550
    later = books.paid_order(buyer, a, 40_000, ist(D, 23), delivered_at=ist(D, 23, 30), gateway=None)  # 35_400
    assert books.settle(D).success  # a paid 88_500; b's 44_250 fails at the bank and is owed again
    settle_status(books)

    books.sandbox.pay(late, 30_000, "COMPLETED", paidAtMs=_ms(ist(D, 11)))  # in D's report, fetched again
    books.confirm(ist(D1, 9))
    assert books.settle(D).success  # D again: the late payment under capture:D:a:2
    books.sandbox.pay(later, 40_000, "COMPLETED", paidAtMs=_ms(ist(D1, 0, 30)))  # the gateway's D1 report
    # ... confirmed with the next night, so captured under D1

    full = refunds.request(books, sold, 100_000, ist(D1, 8))  # after the payout: a gives back 90_000
    refunds.approve(books, full.refund_id, ist(D1, 8))
    refunds.refund_now(books, ist(D1, 8))
    partial = refunds.request(books, b_order, 10_000, ist(D1, 9))  # fee reversed 1_000, b gives back 9_000
    refunds.approve(books, partial.refund_id, ist(D1, 9))
    refunds.refund_now(books, ist(D1, 9))
    books.paid_order(recruit, a, 150_000, ist(D1, 9), delivered_at=ist(D1, 10))  # the recruit's first order
    books.paid_order(buyer, c, 60_000, ist(D1, 9), delivered_at=ist(D1, 10))  # net 53_100
    assert books.settle(D1).success  # a 26_550 - 90_000 + 35_400 + 132_750; b 44_250 - 9_000 fails again
    settle_status(books)

    failed = [p for p in payouts(books) if p.status == "failed"][-1]
    _destination(books, b, "b.fixed@okaxis")
    _destination(books, c, "c.fixed@okaxis")
    with books.engine.begin() as conn:
        retried = payout_store.retry_payout(conn, failed.payout_id, "finance@test", D1)
    submit(books)
    assert books.settle(D2).success  # a's held 17_700 settles and is paid; c's returned 53_100 paid again
    settle_status(books)
    stray = _stray_payment(books, 25_000)
    assert_books_sound(books)
    assert [p.status for p in payouts(books)].count("completed") == 5
    return {"scout": scout, "a": a, "recruit": recruit, "sold": sold, "retried": retried, "stray": stray}


def _fingerprint(books: Books) -> dict[str, Any]:
    """An md5 of every row of the books and the position of their sequences."""
    tables = {table: books.one(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h "
                               f"FROM {table} t").h for table in BOOKS_TABLES}  # fmt: skip
    sequences = {name: tuple(books.one(f"SELECT last_value, is_called FROM {name}")) for name in SEQUENCES}
    return {**tables, **sequences}


def test_three_nights_replay_to_identical_books_and_nothing_is_written(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _three_nights(books)
    before = _fingerprint(books)
    result = replay.verify_books(books.engine)
    assert _fingerprint(books) == before

    assert (result.passed, result.differences_by_kind, result.first_differences) == (True, {}, [])
    assert result.not_compared == {}
    # 3 capture runs (D, D again, D1); a settlement and a bounty step at each of the 4 nights' settlement
    # groups and each of their 4 closes; and at the 2 bounties' own stamps (D and D1).
    assert result.steps_replayed == 3 + 2 * 4 + 2 * 4 + 2
    assert result.compared == {
        # 5 capture entries (D:a, D:b, D:a:2, D1:a, D1:c), 2 bounties, 17 payout steps (a: 3 payouts sent
        # and completed; b: 2 sent and failed, the retry sent and completed; c: sent, completed, reversed,
        # then paid again: sent and completed), 3 refunds (full, partial, stray), 1 stray payment.
        "entry": 5 + 2 + 17 + 3 + 1,
        # 3 lines per capture entry, 2 per bounty and payout step, 3 per order refund and stray payment,
        # 2 for the stray refund (suspense, clearing).
        "line": 5 * 3 + 2 * 2 + 17 * 2 + 2 * 3 + 3 + 2,
        # gateway_clearing, platform_revenue, bank, payouts_in_transit, bounty_expense, recon_suspense,
        # seller_payable of a, b and c, scout_payable of the scout.
        "balance": 10,
        "capture": 7,
        "settlement": 7,
        "settlement_group": 6,  # D:a, D:b, D:a:2, D1:a, D1:c, D2:a
        "bounty": 2,
        "order_refund": 3,
        "payee_item": 6 + 2 + 2,  # the settlement groups' items, 2 bounties, 2 clawbacks (full and partial)
    }
    keys = {row.idempotency_key for row in books.rows("SELECT idempotency_key FROM journal_entries")}
    assert {f"capture:{D}:{ids['a']}:2", f"capture:{D1}:{ids['a']}", f"bounty:{ids['recruit']}",
            f"payout:{ids['retried']}:completed", f"stray_payment:{ids['stray']}"} <= keys  # fmt: skip

    assert defs.resolve_job_def("ledger_verify").execute_in_process(instance=books.instance).success
    monkeypatch.setenv("DATABASE_URL", books.engine.url.render_as_string(hide_password=False))
    printed = CliRunner().invoke(main, ["ledger", "verify"])
    assert printed.exit_code == 0, printed.output
    assert printed.output.splitlines()[:4] == [
        "Ledger replay: 21 nightly steps replayed",
        "Compared: 28 entries, 64 lines, 10 balances; subledger: 2 bounty, 7 capture, 3 order_refund, "
        "10 payee_item, 7 settlement, 6 settlement_group",
        "Not compared: nothing",
        "Differences: none",
    ]
    assert _fingerprint(books) == before


def _verdict(books: Books, *statements: str, **params: Any) -> dict[tuple[str, str], replay.Difference]:
    """The replay's differences, by kind and id, with the books altered by hand past the triggers that
    refuse it, in a transaction rolled back afterwards."""
    with books.engine.connect() as conn:
        transaction = conn.begin()
        try:
            for table in ("ledger_lines", "journal_entries", "captures"):
                conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            for sql in statements:
                conn.execute(sa.text(sql), params)
            result = replay.verify(conn, limit=100)
        finally:
            transaction.rollback()
    assert result.differences == len(result.first_differences)
    return {(d.kind, d.id): d for d in result.first_differences}


def test_each_hand_altered_row_is_found_by_kind_and_id(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _three_nights(books)
    a, scout, recruit, sold = ids["a"], ids["scout"], ids["recruit"], ids["sold"]
    capture_key = f"capture:{D}:{a}"  # sold and the held order: net 88_500 + 17_700, fees 10_000 + 2_000

    moved = _verdict(books, """UPDATE ledger_lines SET amount_paise = amount_paise
                                   + CASE account_id WHEN 'platform_revenue' THEN 1 ELSE -1 END
                               WHERE entry_id = (SELECT entry_id FROM journal_entries WHERE idempotency_key = :k)
                                 AND account_id IN ('platform_revenue', :seller)""",
                     k=capture_key, seller=f"seller_payable:{a}")  # fmt: skip
    assert set(moved) == {
        ("line_differs", f"{capture_key} seller_payable:{a}"),
        ("line_differs", f"{capture_key} platform_revenue"),
        ("balance_differs", f"seller_payable:{a}"),
        ("balance_differs", "platform_revenue"),
    }  # one paisa moved from revenue to the seller: the entry still balances
    line = moved[("line_differs", f"{capture_key} seller_payable:{a}")]
    assert (line.fields, line.replay, line.live) == (["amount_paise"], {"amount_paise": -106_200},
                                                     {"amount_paise": -106_201})  # fmt: skip

    bounty_key = f"bounty:{recruit}"
    deleted = _verdict(books, "DELETE FROM ledger_lines WHERE entry_id = (SELECT entry_id FROM journal_entries "
                              "WHERE idempotency_key = :k)",
                       "DELETE FROM journal_entries WHERE idempotency_key = :k", k=bounty_key)  # fmt: skip
    assert set(deleted) == {
        ("missing_entry", bounty_key),
        ("missing_line", f"{bounty_key} bounty_expense"),
        ("missing_line", f"{bounty_key} scout_payable:{scout}"),
        ("balance_differs", "bounty_expense"),
        ("balance_differs", f"scout_payable:{scout}"),
        ("payee_item_differs", bounty_key),  # the bounty's item names an entry that is gone
    }
    assert deleted[("balance_differs", "bounty_expense")].replay == {"balance_paise": 2 * 1_000}
    assert deleted[("balance_differs", "bounty_expense")].live == {"balance_paise": 1_000}
    assert deleted[("payee_item_differs", bounty_key)].fields == ["entry"]

    net = _verdict(books, NET_MOVED, o=sold)
    assert set(net) == {("capture_differs", sold)}
    changed = net[("capture_differs", sold)]
    assert changed.fields == ["platform_fee_paise", "seller_net_paise"]
    assert (changed.live["seller_net_paise"], changed.replay["seller_net_paise"]) == (88_499, 88_500)

    spurious_key = f"adjustment:{a}:goodwill"
    spurious = _verdict(books, "INSERT INTO journal_entries (idempotency_key, entry_type, reference_id) "
                               "VALUES (:k, 'adjustment', :a)",
                        "INSERT INTO ledger_lines (entry_id, account_id, amount_paise) "
                        "SELECT entry_id, account, amount FROM journal_entries, "
                        "(VALUES ('platform_revenue', 500), (:seller, -500)) AS l (account, amount) "
                        "WHERE idempotency_key = :k",
                        k=spurious_key, a=a, seller=f"seller_payable:{a}")  # fmt: skip
    assert set(spurious) == {
        ("extra_entry", spurious_key),
        ("extra_line", f"{spurious_key} platform_revenue"),
        ("extra_line", f"{spurious_key} seller_payable:{a}"),
        ("balance_differs", "platform_revenue"),
        ("balance_differs", f"seller_payable:{a}"),
    }
    assert spurious[("extra_entry", spurious_key)].live == {"entry_type": "adjustment", "reference_id": a}

    with books.engine.begin() as conn:  # the capture's net altered for good: the command and the job see it
        conn.execute(sa.text("ALTER TABLE captures DISABLE TRIGGER captures_append_only"))
        conn.execute(sa.text(NET_MOVED), {"o": sold})
        conn.execute(sa.text("ALTER TABLE captures ENABLE TRIGGER captures_append_only"))
    monkeypatch.setenv("DATABASE_URL", books.engine.url.render_as_string(hide_password=False))
    printed = CliRunner().invoke(main, ["ledger", "verify"])
    assert printed.exit_code == 1
    assert "Differences: 1\n  capture_differs              1\n" in printed.output
    assert f"  capture_differs              {sold} (platform_fee_paise, seller_net_paise)" in printed.output
    as_json = CliRunner().invoke(main, ["ledger", "verify", "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert (report["passed"], report["differences_by_kind"]) == (False, {"capture_differs": 1})
    assert [(d["kind"], d["id"]) for d in report["first_differences"]] == [("capture_differs", sold)]
    run = defs.resolve_job_def("ledger_verify").execute_in_process(instance=books.instance, raise_on_error=False)
    [failure] = run.get_step_failure_events()
    failed = failure.step_failure_data.user_failure_data
    assert failed is not None and failed.description == "the books differ from their replay"
    assert failed.metadata["differences_by_kind"].value == {"capture_differs": 1}


def test_a_write_off_is_replayed_and_the_bank_settlement_is_counted_not_compared(books: Books) -> None:
    """A payment of Rs 100 reported Rs 10 short (tests/scenarios/test_recon_resolutions.py): the per-UTR
    cash posting has no raw fact to replay (the bank's credit), the write-off has its break."""
    now = dt.datetime.now(dt.UTC)
    day = Day.containing(now)
    short = books.paid_order(books.user("buyer"), books.user("seller"), 10_000,
                             max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1)))  # fmt: skip
    books.settle(day.date)
    books.sandbox.configure(report_anomalies={"amount_diff": {short: -1_000}})
    client, bank = books.sandbox.phonepe_client(), books.sandbox.razorpayx_client()
    try:
        workflow.fetch_report(books.engine, client, day.date)
        assert workflow.reconcile_day(books.engine, day.date, now=now, settlement_window_days=3) is not None
        assert workflow.post_cash(books.engine, bank, day.date, now=now) is not None
    finally:
        client.close()
        bank.close()
    exception_id = books.one("SELECT exception_id FROM recon_exceptions WHERE reference_id = :r", r=short)[0]
    with books.engine.begin() as conn:
        resolution.resolve(conn, exception_id, action="write_off", reason="short settlement", actor="finance-a",
                           approver="finance-b", now=now, request_id=None, write_off_approval_paise=500)  # fmt: skip

    result = replay.verify_books(books.engine)
    assert (result.passed, result.not_compared) == (True, {"gateway_settled": 1})
    # Compared: the capture entry (3 lines) and the write-off (platform_revenue 982, recon_suspense -982);
    # the batch's entry and its bank, clearing, GST and suspense lines are left out of entries and balances.
    assert (result.compared["entry"], result.compared["line"]) == (2, 3 + 2)
    assert result.compared["balance"] == 4  # gateway_clearing, seller payable, platform_revenue, recon_suspense


def test_partial_refunds_replay_their_cumulative_fee_reversals(books: Books) -> None:
    """The SQL split of the replay against the one the refunds posted, on the rounding edge of
    tests/scenarios/test_refunds_worked_examples.py: three refunds of 33_333 on 99_999 reverse
    3_333, 3_334 and 3_333 of the 10_000 fee."""
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 99_999, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    settle_status(books)
    for hour in (9, 10, 11):
        refund = refunds.request(books, order, 33_333, ist(D1, hour))
        refunds.approve(books, refund.refund_id, ist(D1, hour))
        refunds.refund_now(books, ist(D1, hour))
    reversed_fees = books.rows("SELECT platform_fee_reversed_paise FROM order_refunds ORDER BY created_at")
    assert [row[0] for row in reversed_fees] == [3_333, 3_334, 3_333]

    result = replay.verify_books(books.engine)
    assert (result.passed, result.compared["order_refund"], result.compared["payee_item"]) == (True, 3, 1 + 3)
    # capture, payout sent and completed, 3 refunds; 3 + 2 + 2 + 3 x 3 lines
    assert (result.compared["entry"], result.compared["line"]) == (6, 3 + 2 + 2 + 3 * 3)


def test_verify_leaves_the_callers_transaction_as_it_found_it(books: Books) -> None:
    """The replay sees the caller's uncommitted work, and its scratch tables and read-only mode end with it."""
    with books.engine.connect() as conn:
        conn.begin()
        conn.execute(sa.insert(journal_entries).values(idempotency_key="adjustment:test", entry_type="adjustment"))
        result = replay.verify(conn)
        assert result.differences_by_kind == {"extra_entry": 1}  # an entry without lines: no line, no balance
        assert [(d.kind, d.id, d.live) for d in result.first_differences] == [
            ("extra_entry", "adjustment:test", {"entry_type": "adjustment", "reference_id": None})
        ]
        assert conn.execute(sa.text("SHOW transaction_read_only")).scalar_one() == "off"
        assert conn.execute(sa.text("SHOW search_path")).scalar_one() == '"$user", public'
        assert conn.execute(sa.text("SELECT to_regclass('pg_temp.captures')")).scalar_one() is None
        key = conn.execute(
            sa.select(journal_entries.c.idempotency_key).where(journal_entries.c.entry_type == "adjustment")
        )
        assert key.scalar_one() == "adjustment:test"  # the caller's uncommitted entry is still there
