"""The whole-ledger audit: the invariants no night can check on its own rows (every entry balances
and has its lines, every close matches the lines it sums, every payee's balance is what it is owed),
run incrementally. Each audit starts where the last one stopped and ends at the latest close, whose
mark guarantees that every entry below it has committed, and is recorded with what it found; finance
is told of any problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from domain.ledger.invariants import CLOSE_INVARIANTS, LEDGER_INVARIANTS
from domain.ledger.tables import ledger_audits, ledger_closes
from domain.outbox import events, outbox
from domain.payouts.invariants import PAYABLE_INVARIANTS
from domain.platform.audit import jsonable
from domain.platform.invariants import check_all


@dataclass(frozen=True, slots=True)
class Audit:
    from_entry_id: int
    through_entry_id: int
    closes: int
    problems: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems


def audit_ledger(conn: sa.Connection) -> Audit | None:
    """Audit the entries since the last audit up to the latest close; None when there is nothing new."""
    start = int(
        conn.execute(sa.select(sa.func.coalesce(sa.func.max(ledger_audits.c.through_entry_id), 0))).scalar_one()
    )
    closes = conn.execute(
        sa.select(ledger_closes.c.close_id, ledger_closes.c.through_entry_id)
        .where(ledger_closes.c.through_entry_id > start)
        .order_by(ledger_closes.c.close_id)
    ).all()
    if not closes:
        return None
    through = int(closes[-1].through_entry_id)
    problems = check_all(conn, LEDGER_INVARIANTS, {"from_entry_id": start, "through_entry_id": through})
    for close in closes:
        for name, rows in check_all(conn, CLOSE_INVARIANTS, {"close_id": close.close_id}).items():
            problems.setdefault(name, []).extend(rows)
    problems.update(check_all(conn, PAYABLE_INVARIANTS, {"from_entry_id": start, "through_entry_id": through}))
    audit = Audit(start, through, len(closes), problems)
    audit_id = conn.execute(
        sa.insert(ledger_audits)
        .values(
            from_entry_id=start,
            through_entry_id=through,
            passed=audit.passed,
            problems=jsonable({name: rows[:20] for name, rows in problems.items()}),
        )
        .returning(ledger_audits.c.audit_id)
    ).scalar_one()
    if problems:
        outbox.write(conn, [events.ledger_audit_failed(int(audit_id), start, through, sorted(problems))])
    return audit
