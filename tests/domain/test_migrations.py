"""Alembic owns the schema: it goes up, down and up again, and matches the table definitions."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domain.platform.database import create_engine
from domain.platform.migrations import current_revision, downgrade, head_revision, upgrade
from domain.schema import COMPARE_OPTIONS, metadata

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _schemas(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname = 'analytics'")).scalars())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database("migrate")
    upgrade(url)
    assert _tables(url) >= {t.name for t in metadata.tables.values() if t.schema is None}
    downgrade(url, "base")
    assert _tables(url) == set()
    assert _schemas(url) == set()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision(url)
    engine.dispose()


def test_autogenerate_finds_no_drift(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=COMPARE_OPTIONS), metadata)
    engine.dispose()
    assert diff == []


def test_migration_files_are_date_prefixed() -> None:
    files = [p.name for p in VERSIONS.glob("*.py") if p.name != "__init__.py"]
    assert files
    assert all(name[:8].isdigit() and name[8] == "_" for name in files), files


CARRIED = """
INSERT INTO fee_schedules (effective_from, platform_fee_bps, gateway_fee_bps, scout_bounty_paise, min_payout_paise,
                           hold_days) VALUES ('2000-01-01', 1000, 150, 1000, 10000, 2);
INSERT INTO users (user_id, role, name, email)
VALUES ('usr_s', 'seller', 'S', 's@x.in'), ('usr_b', 'buyer', 'B', 'b@x.in');
INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, amount_paise, status, paid_at, delivered_at) VALUES
    ('ord_1', 'usr_b', 'usr_s', 'l', 100000, 'settled', '2026-11-01 10:00+05:30', '2026-11-01 12:00+05:30'),
    ('ord_2', 'usr_b', 'usr_s', 'l', 20000, 'paid', '2026-11-02 10:00+05:30', NULL);
INSERT INTO ledger_accounts (account_id, account_type, payee_id) VALUES ('gateway_clearing', 'gateway_clearing', NULL),
    ('platform_revenue', 'platform_revenue', NULL), ('seller_payable:usr_s', 'seller_payable', 'usr_s'),
    ('payouts_in_transit', 'payouts_in_transit', NULL);
INSERT INTO journal_entries (entry_id, idempotency_key, entry_type, occurred_at, reference_id, created_at) VALUES
    (1, 'capture:ord_1', 'payment_captured', '2026-11-01 10:00+05:30', 'ord_1', '2026-11-01 21:00+05:30'),
    (2, 'capture:ord_2', 'payment_captured', '2026-11-02 10:00+05:30', 'ord_2', '2026-11-02 21:00+05:30'),
    (3, 'payout:pay_1:sent', 'payout_sent', '2026-11-02 02:00+05:30', 'pay_1', '2026-11-02 02:00+05:30');
INSERT INTO ledger_lines (entry_id, account_id, amount_paise) VALUES
    (1, 'gateway_clearing', 98500), (1, 'seller_payable:usr_s', -88500), (1, 'platform_revenue', -10000),
    (2, 'gateway_clearing', 19700), (2, 'seller_payable:usr_s', -17700), (2, 'platform_revenue', -2000),
    (3, 'seller_payable:usr_s', 88500), (3, 'payouts_in_transit', -88500);
INSERT INTO settlement_lines (order_id, settlement_date, seller_id, gross_paise, platform_fee_paise, gateway_fee_paise,
                              seller_net_paise, fee_schedule_id)
SELECT 'ord_1', '2026-11-01', 'usr_s', 100000, 10000, 1500, 88500, fee_schedule_id FROM fee_schedules;
INSERT INTO payouts (payout_id, payee_type, payee_id, amount_paise, batch_date, destination, status)
VALUES ('pay_1', 'seller', 'usr_s', 88500, '2026-11-01', '{"type": "vpa", "vpa": "s@okaxis"}', 'processing');
INSERT INTO payout_items (payout_id, entry_id, item_type, order_id, amount_paise)
VALUES ('pay_1', 1, 'settlement_line', 'ord_1', 88500);
"""


def test_history_is_carried_into_the_subledger(make_database) -> None:  # type: ignore[no-untyped-def]
    from domain.ledger.invariants import LEDGER_INVARIANTS, WHOLE_LEDGER
    from domain.payouts.invariants import PAYABLE_INVARIANTS
    from domain.platform.invariants import check_all

    url = make_database("carry")
    upgrade(url, "0007")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(CARRIED)
    upgrade(url)
    with engine.connect() as conn:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(row) for row in conn.execute(sa.text(sql))]

        assert rows("SELECT order_id, capture_date::text, seller_net_paise, entry_id FROM captures ORDER BY 1") == [
            ("ord_1", "2026-11-01", 88_500, 1),
            ("ord_2", "2026-11-02", 17_700, 2),
        ]
        assert rows("SELECT order_id, payee_item_key FROM settlements") == [("ord_1", "capture:ord_1")]
        assert rows("SELECT payee_item_key, orders, net_paise FROM settlement_groups") == [("capture:ord_1", 1, 88_500)]
        # The settled capture is a payee item, covered by the payout; the unsettled one is held, not an item.
        assert rows("SELECT item_key, item_type, amount_paise, covered_paise, entry_id FROM payee_items") == [
            ("capture:ord_1", "settlement", 88_500, 88_500, 1)
        ]
        assert rows(
            "SELECT p.item_key, i.amount_paise FROM payout_items i JOIN payee_items p USING (payee_item_id)"
        ) == [("capture:ord_1", 88_500)]
        assert rows("SELECT order_id, status FROM order_states ORDER BY 1") == [("ord_1", "settled"), ("ord_2", "paid")]
        assert rows("SELECT status FROM orders WHERE order_id = 'ord_1'") == [("delivered",)]
        assert check_all(conn, LEDGER_INVARIANTS, WHOLE_LEDGER) == {}
        assert check_all(conn, PAYABLE_INVARIANTS, WHOLE_LEDGER) == {}
    engine.dispose()
    downgrade(url, "0007")  # history carried back: nothing here is a seller-day entry
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT order_id, status FROM orders ORDER BY 1")).all() == [
            ("ord_1", "settled"),
            ("ord_2", "paid"),
        ]
        assert conn.execute(sa.text("SELECT order_id, seller_net_paise FROM settlement_lines")).all() == [
            ("ord_1", 88_500)
        ]
        assert conn.execute(sa.text("SELECT item_type, order_id FROM payout_items")).all() == [
            ("settlement_line", "ord_1")
        ]
    engine.dispose()
