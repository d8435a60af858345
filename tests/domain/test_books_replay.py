"""The ledger replay's scratch books: the staging tables it creates are the posting path's own, and every
table the replayed statements write is shadowed."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from domain.books import replay
from domain.platform.sql import SQL_DIR, statement

COLUMNS = """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
             WHERE a.attrelid = to_regclass(:table) AND a.attnum > 0 ORDER BY a.attnum"""
STAGING = ("pg_temp.pending_postings", "pg_temp.pending_outbox")


def _staging_columns(database_url: str, *statements: str) -> dict[str, list[tuple[Any, ...]]]:
    """The staging tables' columns after `statements`, in a session of its own (a pooled one may hold
    them already)."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for name in statements:
                conn.execute(statement(name))
            columns = {table: [tuple(row) for row in conn.execute(sa.text(COLUMNS), {"table": table})]
                       for table in STAGING}  # fmt: skip
            conn.rollback()
    finally:
        engine.dispose()
    return columns


def test_the_scratch_staging_tables_are_those_of_the_posting_path_and_the_outbox(database_url: str) -> None:
    live = _staging_columns(database_url, "ledger/stage", "outbox/stage")
    scratch = _staging_columns(database_url, "books/replay/scratch")
    assert [name for name, *_ in live["pg_temp.pending_postings"]][:3] == ["entry_id", "idempotency_key", "entry_type"]
    assert len(live["pg_temp.pending_outbox"]) == 5
    assert scratch == live


def test_every_table_the_replayed_statements_write_is_shadowed() -> None:
    """A statement writing a live table the scratch does not shadow would be refused in the read-only
    replay; this names the table instead."""
    shadowed = set(re.findall(r"'(\w+)'", (SQL_DIR / "books/replay/scratch.sql").read_text().split("LOOP")[0]))
    temporary = {"pending_postings", "pending_outbox", "replay_facts", "replay_differences"}
    replayed = [*(f"{name}.sql" for name in replay.NIGHT_STEPS.values()), "ledger/post.sql",
                *(f"{name}.sql" for name in replay.EVENT_STEPS)]  # fmt: skip
    written = {
        table
        for name in replayed
        for table in re.findall(r"(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", (SQL_DIR / name).read_text())
    }
    assert written - temporary == shadowed
    assert len(shadowed) == 9
