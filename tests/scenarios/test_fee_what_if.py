"""The fee what-if job over real nights: the draft's figures to the paisa, the draft equal to the
schedule in effect reproduces the posted figures exactly, and nothing but `analytics.fee_what_if`
changes: every other table is byte-identical before and after.

Schedule in effect (the seed): platform fee 10%, gateway fee 1.5%, bounty Rs 10, hold 2 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from domain.analytics import fee_what_if
from domain.analytics.fee_what_if import DraftSchedule
from domain.analytics.tables import fee_what_if as fee_what_if_table
from domain.ledger import entries, posting
from domain.schema import metadata
from pipelines.definitions import defs
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts

N10, N11, N12 = dt.date(2026, 11, 10), dt.date(2026, 11, 11), dt.date(2026, 11, 12)
COLUMNS = [column.name for column in fee_what_if_table.columns if column.name not in ("run_id", "computed_at")]


def _nights(books: Books) -> None:
    """Three real nights: three orders paid on N10 (two on rounding edges), a recruit's delivered order on
    N11 (its bounty is earned that night), nothing new on N12 (N10's orders settle and are paid out)."""
    scout, buyer, seller, other = books.user("scout"), books.user("buyer"), payee(books, "seller"), books.user("seller")
    recruit = books.user("buyer", recruiter=scout)
    books.paid_order(buyer, seller, 100_000, ist(N10, 10))
    books.paid_order(buyer, seller, 1_005, ist(N10, 11))
    books.paid_order(buyer, other, 33_333, ist(N10, 12))
    books.paid_order(recruit, other, 250_000, ist(N11, 10), delivered_at=ist(N11, 15))
    for day in (N10, N11, N12):
        assert books.settle(day).success


def _fingerprints(books: Books) -> dict[str, str]:
    """md5 of every row of every table but the what-if's own, in a fixed order."""
    found = {}
    with books.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table is not fee_what_if_table:
                query = f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table.fullname} t"
                found[table.fullname] = conn.execute(sa.text(query)).scalar_one()
    return found


def _what_if(books: Books, **config: object) -> Any:
    return defs.resolve_job_def("fee_what_if").execute_in_process(
        run_config={"ops": {"fee_what_if_op": {"config": config}}}, instance=books.instance, raise_on_error=False
    )


def _stored(books: Books, run_id: str) -> list[tuple[object, ...]]:
    query = f"SELECT {', '.join(COLUMNS)} FROM analytics.fee_what_if WHERE run_id = :r ORDER BY day"
    return [tuple(row) for row in books.rows(query, r=run_id)]


def _output_metadata(result: Any) -> dict[str, Any]:
    [output] = [event for event in result.all_events if event.event_type_value == "STEP_OUTPUT"]
    return {name: value.value for name, value in output.step_output_data.metadata.items()}


def test_a_draft_twelve_percent_platform_fee_to_the_paisa_and_nothing_posted(books: Books) -> None:
    _nights(books)
    assert [(p.amount_paise, p.batch_date) for p in payouts(books)] == [(88_500 + 889, N12)]
    before = _fingerprints(books)
    assert books.one("SELECT count(*) AS n FROM captures").n == 4
    assert books.one("SELECT count(*) AS n FROM bounties").n == 1

    days = {"from_date": N10.isoformat(), "to_date": N12.isoformat()}
    result = _what_if(books, platform_fee_bps=1200, gateway_fee_bps=150, scout_bounty_paise=2500, **days)
    assert result.success
    # Draft 12% platform fee (gateway fee unchanged at 1.5%), bounty Rs 25, on the orders as captured:
    #   N10   100_000: platform 10_000 -> 12_000;  gateway 1_500;  net 88_500 -> 86_500
    #           1_005: platform 100.5 -> 101  ->  120.6 -> 121;  gateway 15.075 -> 15;  net 889 -> 869
    #          33_333: platform 3_333.3 -> 3_333  ->  3_999.96 -> 4_000;  gateway 499.995 -> 500;
    #                  net 29_500 -> 28_833
    #         GMV 134_338; platform 13_434 -> 16_121 (+2_687); gateway 2_015; net 118_889 -> 116_202 (-2_687)
    #   N11   250_000: platform 25_000 -> 30_000 (+5_000); gateway 3_750; net 221_250 -> 216_250;
    #         the recruit's bounty 1_000 -> 2_500 (+1_500)
    #   N12   nothing captured, nothing earned: zeros.
    assert _stored(books, result.run_id) == [
        (N10, 1200, 150, 2500, 3, 134_338, 13_434, 16_121, 2_687, 2_015, 2_015, 0, 118_889, 116_202, -2_687,
         0, 0, 0, 0),
        (N11, 1200, 150, 2500, 1, 250_000, 25_000, 30_000, 5_000, 3_750, 3_750, 0, 221_250, 216_250, -5_000,
         1, 1_000, 2_500, 1_500),
        (N12, 1200, 150, 2500, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ]  # fmt: skip
    shown = _output_metadata(result)
    assert (shown["days"], shown["orders"], shown["gmv_paise"]) == (3, 4, 384_338)
    assert (shown["actual_platform_fee_paise"], shown["draft_platform_fee_paise"]) == (38_434, 46_121)
    assert (shown["platform_fee_diff_paise"], shown["seller_net_diff_paise"], shown["bounty_diff_paise"]) == (
        7_687,
        -7_687,
        1_500,
    )
    assert shown["platform_fee_diff"] == "Rs 76.87"
    table = shown["comparison"].splitlines()
    assert table[0] == "| day | orders | GMV | platform fee | gateway fee | seller net | bounty |"
    assert table[2] == (
        "| 2026-11-10 | 3 | Rs 1,343.38 | Rs 134.34 → Rs 161.21 (+Rs 26.87) | Rs 20.15 → Rs 20.15 (Rs 0.00) "
        "| Rs 1,188.89 → Rs 1,162.02 (-Rs 26.87) | Rs 0.00 → Rs 0.00 (Rs 0.00) |"
    )
    assert table[-1] == (
        "| **total** | 4 | Rs 3,843.38 | Rs 384.34 → Rs 461.21 (+Rs 76.87) | Rs 57.65 → Rs 57.65 (Rs 0.00) "
        "| Rs 3,401.39 → Rs 3,324.52 (-Rs 76.87) | Rs 10.00 → Rs 25.00 (+Rs 15.00) |"
    )
    assert len(table) == 2 + 3 + 1

    assert _fingerprints(books) == before  # the books are byte-identical: nothing was posted
    assert_books_sound(books)


@pytest.mark.parametrize(
    "draft",
    [
        {"platform_fee_bps": 1000, "gateway_fee_bps": 150, "scout_bounty_paise": 1000},  # the schedule in effect
        {},  # every rate as in effect for each order
    ],
)
def test_a_draft_equal_to_the_schedule_in_effect_reproduces_the_books(books: Books, draft: dict[str, int]) -> None:
    _nights(books)
    before = _fingerprints(books)
    result = _what_if(books, from_date=N10.isoformat(), to_date=N11.isoformat(), **draft)
    assert result.success
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in _stored(books, result.run_id)]
    assert [row["day"] for row in rows] == [N10, N11]
    # fee_breakdown on each order's gross equals what the night's SQL posted, to the paisa.
    assert [(row["gmv_paise"], row["draft_platform_fee_paise"], row["draft_seller_net_paise"]) for row in rows] == [
        (134_338, 13_434, 118_889),
        (250_000, 25_000, 221_250),
    ]
    for row in rows:
        for measure in fee_what_if.MEASURES:
            assert row[f"draft_{measure}_paise"] == row[f"actual_{measure}_paise"], (row["day"], measure)
            assert row[f"{measure}_diff_paise"] == 0
    assert _fingerprints(books) == before


def test_refused_drafts_and_ranges_write_nothing(books: Books) -> None:
    _nights(books)
    for config, message in [
        ({"from_date": N12.isoformat(), "to_date": N10.isoformat()}, "the range ends (2026-11-10) before it starts"),
        ({"from_date": "2025-01-01", "to_date": "2026-11-12"}, "at most 366 days at a time; 681 asked"),
        ({"from_date": "N10", "to_date": "2026-11-12"}, "not an ISO date"),
        ({"from_date": N10.isoformat(), "to_date": N10.isoformat(), "platform_fee_bps": 10_001}, "between 0 and"),
        ({"from_date": N10.isoformat(), "to_date": N10.isoformat(), "scout_bounty_paise": -1}, "must not be negative"),
        # 9_900 + the gateway fee in effect, 150: more than the gross of the day's orders.
        (
            {"from_date": N10.isoformat(), "to_date": N10.isoformat(), "platform_fee_bps": 9_900},
            "in effect on 2026-11-10",
        ),
    ]:
        refused = _what_if(books, **config)
        assert not refused.success, config
        [failure] = [event for event in refused.all_events if event.is_step_failure]
        assert message in failure.step_failure_data.error.message
    assert books.one("SELECT count(*) AS n FROM analytics.fee_what_if").n == 0


def test_the_comparison_is_read_in_a_read_only_snapshot(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def try_to_post(conn: sa.Connection, draft: DraftSchedule, first: dt.date, last: dt.date) -> list[Any]:
        seen.append(conn.execute(sa.text("SHOW transaction_read_only")).scalar_one())
        seen.append(conn.execute(sa.text("SHOW transaction_isolation")).scalar_one())
        posting.post_entry(conn, entries.payout_completed_entry("pay_what_if", 100))
        return []

    monkeypatch.setattr(fee_what_if, "compare", try_to_post)
    with pytest.raises(sa.exc.DBAPIError, match="in a read-only transaction"):
        fee_what_if.run_what_if(engine, "read-only", DraftSchedule(platform_fee_bps=1200), N10, N10)
    assert seen == ["on", "repeatable read"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM analytics.fee_what_if")).scalar_one() == 0
