"""What a restore must reproduce: every table's exact row count and the ledger's totals.

Read in the caller's transaction: a backup reads them in the snapshot its dump is taken from, a
restore reads them from what it restored, and the two are compared figure by figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.platform.sql import statement


@dataclass(frozen=True, slots=True)
class Figures:
    tables: dict[str, int]
    """Exact `count(*)` of every table, by `schema.table`."""
    totals: dict[str, Any]
    """The ledger and payout totals (JSON values: paise, counts, a digest of every account's balance)."""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def accounts(self) -> int:
        return int(self.totals["ledger_accounts"])

    def to_json(self) -> dict[str, Any]:
        return {"tables": self.tables, "totals": self.totals}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        return cls(tables=dict(data["tables"]), totals=dict(data["totals"]))


def read_figures(conn: sa.Connection) -> Figures:
    return Figures(tables=_row_counts(conn), totals=_totals(conn))


def differences(expected: Figures, actual: Figures) -> list[str]:
    """Each figure that differs, said plainly; empty when everything agrees."""
    found = [
        f"table {name}: {expected.tables.get(name, 'absent')} rows in the backup, "
        f"{actual.tables.get(name, 'absent')} restored"
        for name in sorted(expected.tables.keys() | actual.tables.keys())
        if expected.tables.get(name) != actual.tables.get(name)
    ]
    want, got = _flat(expected.totals), _flat(actual.totals)
    found += [
        f"{name}: {want.get(name, 'absent')} in the backup, {got.get(name, 'absent')} restored"
        for name in sorted(want.keys() | got.keys())
        if want.get(name) != got.get(name)
    ]
    return found


def _row_counts(conn: sa.Connection) -> dict[str, int]:
    """One statement counting every table, so the counts cost one round trip."""
    quote = conn.dialect.identifier_preparer.quote
    names = [(schema, table) for schema, table in conn.execute(statement("backups/tables"))]
    if not names:
        return {}
    counts = " UNION ALL ".join(
        f"SELECT {index} AS n, count(*) AS rows FROM {quote(schema)}.{quote(table)}"
        for index, (schema, table) in enumerate(names)
    )
    rows: dict[int, int] = dict(conn.execute(sa.text(counts)).all())
    return {f"{schema}.{table}": int(rows[index]) for index, (schema, table) in enumerate(names)}


def _totals(conn: sa.Connection) -> dict[str, Any]:
    ledger = conn.execute(statement("backups/ledger_totals")).mappings().one()
    accounts = conn.execute(statement("backups/account_balances")).mappings().one()
    by_type = conn.execute(statement("ledger/trial_balance")).all()
    payouts = conn.execute(statement("backups/payouts_by_status")).all()
    return {
        "journal_entries": int(ledger["journal_entries"]),
        "ledger_lines": int(ledger["ledger_lines"]),
        "ledger_debits_paise": int(ledger["debits_paise"]),
        "ledger_credits_paise": int(ledger["credits_paise"]),
        "ledger_accounts": int(accounts["accounts"]),
        "account_balances_sha256": accounts["balances_sha256"],
        "balance_by_account_type_paise": {account_type: int(paise) for account_type, paise in by_type},
        "payouts_by_status": {status: {"count": int(n), "amount_paise": int(paise)} for status, n, paise in payouts},
    }


def _flat(totals: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in totals.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
