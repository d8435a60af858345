"""Posting throughput: `post_entry` (idempotent, checked, through the one posting path) against a raw
multi-row INSERT of the same lines. Both pay the database's balance trigger; the ratio is our
per-entry overhead. `post_entry` runs first, so it also creates the accounts the raw inserts use."""

from __future__ import annotations

import sqlalchemy as sa

from bench.common import report, scratch_database, timed
from domain.ledger import entries, posting
from domain.money import fee_breakdown
from domain.platform.database import create_engine

ENTRIES = 5_000


def main() -> None:
    with scratch_database("ledger") as (url, _):
        engine = create_engine(url)
        captures = [
            entries.capture_entry(f"ord_{i}", f"usr_s{i % 50}", fee_breakdown(10_000 + i, 1000, 150))
            for i in range(ENTRIES)
        ]
        times: dict[str, float] = {}
        with timed(times, "post_entry"), engine.begin() as conn:
            for entry in captures:
                posting.post_entry(conn, entry)
        with timed(times, "raw"), engine.begin() as conn:
            for i, entry in enumerate(captures):
                entry_id = conn.execute(
                    sa.text(
                        "INSERT INTO journal_entries (idempotency_key, entry_type) "
                        "VALUES (:k, 'raw') RETURNING entry_id"
                    ),
                    {"k": f"raw:{i}"},
                ).scalar_one()
                conn.execute(
                    sa.text(
                        "INSERT INTO ledger_lines (entry_id, account_id, amount_paise) VALUES "
                        + ", ".join(f"(:e, :a{n}, :m{n})" for n in range(len(entry.lines)))
                    ),
                    {
                        "e": entry_id,
                        **{f"a{n}": line.account_id for n, line in enumerate(entry.lines)},
                        **{f"m{n}": line.amount_paise for n, line in enumerate(entry.lines)},
                    },
                )
        with timed(times, "replay"), engine.begin() as conn:
            for entry in captures[:1000]:
                posting.post_entry(conn, entry)
        engine.dispose()
    ours, raw = ENTRIES / times["post_entry"], ENTRIES / times["raw"]
    print(f"{ENTRIES} capture entries: post_entry {ours:.0f}/s, raw {raw:.0f}/s")
    print(f"replays: {1000 / times['replay']:.0f}/s")
    report("post_entry vs raw insert", times["post_entry"], times["raw"])
