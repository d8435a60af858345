"""PostgreSQL itself refuses unbalanced entries and any change to the books, whoever writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from domain.ledger import entries, posting


def _accounts(conn: sa.Connection, *account_ids: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO ledger_accounts (account_id, account_type) SELECT a, a FROM unnest(CAST(:ids AS text[])) a "
            "ON CONFLICT DO NOTHING"
        ),
        {"ids": list(account_ids)},
    )


def _entry(conn: sa.Connection, key: str) -> int:
    _accounts(conn, "bank", "gateway_clearing")
    return int(
        conn.execute(
            sa.text("INSERT INTO journal_entries (idempotency_key, entry_type) VALUES (:k, 'test') RETURNING entry_id"),
            {"k": key},
        ).scalar_one()
    )


def test_unbalanced_entry_is_refused(conn: sa.Connection) -> None:
    entry_id = _entry(conn, "raw:unbalanced")
    with pytest.raises(sa.exc.IntegrityError, match=r"does not balance: its lines sum to 1 paise"):
        conn.execute(
            sa.text(
                "INSERT INTO ledger_lines (entry_id, account_id, amount_paise) "
                "VALUES (:e, 'bank', 100), (:e, 'gateway_clearing', -99)"
            ),
            {"e": entry_id},
        )


def test_single_line_added_to_a_balanced_entry_is_refused(conn: sa.Connection) -> None:
    posted = posting.post_entry(conn, entries.payout_completed_entry("pay_guard", 500))
    with pytest.raises(sa.exc.IntegrityError, match="does not balance"):
        conn.execute(
            sa.text("INSERT INTO ledger_lines (entry_id, account_id, amount_paise) VALUES (:e, 'bank', 1)"),
            {"e": posted.entry_id},
        )


def test_balanced_raw_insert_is_accepted(conn: sa.Connection) -> None:
    entry_id = _entry(conn, "raw:balanced")
    conn.execute(
        sa.text(
            "INSERT INTO ledger_lines (entry_id, account_id, amount_paise) "
            "VALUES (:e, 'bank', 100), (:e, 'gateway_clearing', -100)"
        ),
        {"e": entry_id},
    )
    assert posting.account_balance(conn, "bank") >= 100


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_lines SET amount_paise = amount_paise * 2 WHERE entry_id = :e",
        "DELETE FROM ledger_lines WHERE entry_id = :e",
        "UPDATE journal_entries SET description = 'edited' WHERE entry_id = :e",
        "DELETE FROM journal_entries WHERE entry_id = :e",
    ],
)
def test_books_are_append_only(conn: sa.Connection, statement: str) -> None:
    posted = posting.post_entry(conn, entries.payout_completed_entry("pay_immutable", 700))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text(statement), {"e": posted.entry_id})


@pytest.mark.parametrize("table", ["ledger_lines", "journal_entries", "ledger_accounts"])
def test_books_cannot_be_truncated(conn: sa.Connection, table: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text(f"TRUNCATE {table} CASCADE"))


def test_zero_amount_line_is_refused(conn: sa.Connection) -> None:
    entry_id = _entry(conn, "raw:zero")
    with pytest.raises(sa.exc.IntegrityError, match="amount_paise_nonzero"):
        conn.execute(
            sa.text("INSERT INTO ledger_lines (entry_id, account_id, amount_paise) VALUES (:e, 'bank', 0)"),
            {"e": entry_id},
        )


def test_duplicate_idempotency_key_is_refused_by_the_database(conn: sa.Connection) -> None:
    _entry(conn, "raw:dup")
    with pytest.raises(sa.exc.IntegrityError, match="uq_journal_entries_idempotency_key"):
        _entry(conn, "raw:dup")


def test_money_columns_are_bigint(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name LIKE '%\\_paise'"
        )
    ).all()
    assert len(rows) >= 4
    assert [r for r in rows if r.data_type != "bigint"] == []


@pytest.mark.parametrize(
    ("entry", "account"),
    [("unknown", "bank"), ("known", "no_such_account")],
)
def test_lines_must_name_a_known_entry_and_account(conn: sa.Connection, entry: str, account: str) -> None:
    entry_id = _entry(conn, f"raw:ref:{entry}:{account}") if entry == "known" else 999_999_999
    with pytest.raises(sa.exc.IntegrityError, match="unknown entry"):
        conn.execute(
            sa.text(
                "INSERT INTO ledger_lines (entry_id, account_id, amount_paise) "
                "VALUES (:e, :a, 100), (:e, 'gateway_clearing', -100)"
            ),
            {"e": entry_id, "a": account},
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_accounts SET account_type = 'bank' WHERE account_id = 'gateway_clearing'",
        "DELETE FROM ledger_accounts WHERE account_id = 'gateway_clearing'",
    ],
)
def test_accounts_are_append_only(conn: sa.Connection, statement: str) -> None:
    _accounts(conn, "gateway_clearing")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text(statement))
