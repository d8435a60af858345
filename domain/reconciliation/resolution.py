"""The breaks finance works through: listing them, and resolving one with an actor, a reason and,
where money moves, its ledger entry (DESIGN.md §12). The caller owns the transaction.

A resolution locks its exception (`FOR UPDATE`), so two admins resolving the same break serialise
and the second finds it no longer open. The status change, the ledger entry and the audit row
commit together or not at all; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.ledger import entries, posting
from domain.platform.audit import audit
from domain.platform.sql import statement
from domain.reconciliation import rules
from domain.reconciliation.rules import ReconError
from domain.reconciliation.tables import recon_exceptions

_x = recon_exceptions.c


def list_exceptions(
    conn: sa.Connection,
    *,
    status: str | None = None,
    klass: str | None = None,
    report_date_from: dt.date | None = None,
    report_date_to: dt.date | None = None,
    reference_id: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> Sequence[sa.Row[Any]]:
    """Newest report date first, then by id; `limit + 1` rows so the caller knows if more follow.

    `after` is the (ISO report date, exception id) of the previous page's last row. The date is
    compared as text, so any date-shaped text is a position, also one no calendar has."""
    query = sa.select(recon_exceptions).order_by(_x.report_date.desc(), _x.exception_id).limit(limit + 1)
    for column, value in (("status", status), ("class", klass), ("reference_id", reference_id)):
        if value is not None:
            query = query.where(_x[column] == value)
    if report_date_from is not None:
        query = query.where(_x.report_date >= report_date_from)
    if report_date_to is not None:
        query = query.where(_x.report_date <= report_date_to)
    if after is not None:
        day = sa.func.to_char(_x.report_date, "YYYY-MM-DD")
        query = query.where(sa.or_(day < after[0], sa.and_(day == after[0], _x.exception_id > after[1])))
    return conn.execute(query).all()


@dataclass(frozen=True, slots=True)
class OpenBreaks:
    """How many breaks are open up to a day, their total difference, and the oldest of them."""

    count: int
    paise: int
    oldest: list[dict[str, Any]]


def open_breaks(conn: sa.Connection, day: dt.date, limit: int) -> OpenBreaks:
    """The breaks still open among the reports up to `day`, oldest first, each with its age in days on `day`."""
    rows = [
        dict(row._mapping)
        for row in conn.execute(statement("reconciliation/open_breaks"), {"day": day, "limit": limit})
    ]
    count = int(rows[0]["open_breaks"]) if rows else 0
    paise = int(rows[0]["open_breaks_paise"]) if rows else 0
    oldest = [{k: v for k, v in row.items() if k not in ("open_breaks", "open_breaks_paise")} for row in rows]
    return OpenBreaks(count, paise, oldest)


def needs_approval(row: Any, threshold_paise: int) -> bool:
    """A write-off larger than the threshold takes a second admin."""
    return abs(int(row.reported_paise) - int(row.expected_paise)) > threshold_paise


def resolve(
    conn: sa.Connection,
    exception_id: str,
    *,
    action: str,
    reason: str,
    actor: str,
    approver: str | None,
    now: dt.datetime,
    request_id: str | None,
    write_off_approval_paise: int,
) -> sa.Row[Any]:
    """Close an open break by `action` (one of `rules.RESOLUTIONS`); the exception as it is now."""
    if action not in rules.RESOLUTIONS:
        raise ValueError(f"unknown resolution {action!r}")
    row = _lock_open(conn, exception_id)
    if action == "write_off" and needs_approval(row, write_off_approval_paise) and approver in (None, actor):
        raise ReconError(
            "recon_write_off_needs_approval",
            f"Writing off more than {write_off_approval_paise} paise needs a second admin's approval.",
        )
    entry_id = _post(conn, row) if action in rules.MONEY_RESOLUTIONS else None
    after = {
        "status": "written_off" if action == "write_off" else "resolved",
        "resolution": action,
        "resolution_reason": reason,
        "resolved_by": actor,
        "approved_by": approver,
        "resolved_at": now,
        "entry_id": entry_id,
    }
    resolved = conn.execute(
        sa.update(recon_exceptions).where(_x.exception_id == exception_id).values(**after).returning(recon_exceptions)
    ).one()
    before = {"status": row.status}
    audit(conn, actor, f"recon_exception.{action}", "recon_exception", exception_id, before, after, request_id)
    return resolved


def _lock_open(conn: sa.Connection, exception_id: str) -> sa.Row[Any]:
    row = conn.execute(
        sa.select(recon_exceptions).where(_x.exception_id == exception_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise ReconError("recon_exception_not_found", f"There is no reconciliation break {exception_id}.")
    if row.status != "open":
        raise ReconError("recon_exception_not_open", f"Break {exception_id} is {row.status}, not open.")
    return row


def _post(conn: sa.Connection, row: Any) -> int | None:
    """The difference's entry; a break without a difference has nothing to move."""
    expected, reported = int(row.expected_paise), int(row.reported_paise)
    if expected == reported:
        return None
    entry = entries.recon_resolution_entry(row.exception_id, row._mapping["class"], expected, reported)
    return posting.post_entry(conn, entry).entry_id
