"""Ledger replay: rebuild the subledger and the general ledger from the raw facts and compare them with
the live books, entry by entry, line by line, balance by balance and row by row.

How the expected books are derived. The nightly's own SQL is run again, unchanged: captures, settlements
and bounties (`sql/settlement/captures.sql`, `settlements.sql`, `bounties.sql`) and the one posting path
(`sql/ledger/post.sql` through `domain.ledger.posting.post_staged`). It writes into scratch tables: for
every table those statements write, a temporary table of the same name and shape
(`sql/books/replay/scratch.sql`), and temporary tables come first in PostgreSQL's name resolution, so
the unqualified names they write resolve to the scratch copies while the raw inputs (orders, users, fee
schedules) resolve to the live tables. The one input whose past differs from its present, what the
gateway had confirmed, is a temporary view of `payment_confirmations` as of the replayed run. The runs
are replayed in the order they ran, each as of its time, from the live books' own stamps
(`sql/books/replay/calendar.sql`): that is the only thing taken from the books under test.

The other entries are posted by Python workflows one event at a time, inside the transactions that
move the raw rows themselves (a payout's or a refund's status, a gateway call's outcome), so they
cannot be re-run; the replay derives them independently, set-based, from those recorded outcomes, in
`sql/books/replay/` (payouts, refunds with their subledger rows and clawback items, stray payments,
reconciliation resolutions), following the builders of `domain.ledger.entries`, and posts them through
the same `post.sql`.

Not compared: the gateway's settlement to the bank (`gateway_settled`, one entry per UTR). The amount
the bank credited is recorded nowhere but in that entry, and which version of the day's report the
batch was posted from is not recorded either, so no raw fact determines it. Those entries are
counted in the report and left out of the comparison, balances included (balances are compared over
the compared entries). Every other live entry is compared, so an entry of an unknown type is extra.

Known limits: users are read as they are now, so a scout deactivated or a recruiter changed after a
bounty was earned shows as a bounty difference; two refunds of one order completed at the same instant
split its fee in refund-id order; a confirmation recorded in the instant between the start of a
capture run's transaction and its statement is replayed one run later than it was captured; a capture
run that captured nothing left no stamp and is not replayed, so what it should have captured and
never did is missing on both sides.

Nothing is written: the replay runs in a savepoint of the caller's transaction that it switches to
read-only once the scratch tables exist (PostgreSQL then refuses any write to a live table, and any
draw on a live sequence) and rolls back at the end. Run it in a REPEATABLE READ transaction
(`verify_books`) so the books do not move under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.ledger import posting
from domain.platform.clock import Day
from domain.platform.sql import statement
from domain.reconciliation.rules import MONEY_RESOLUTIONS

EXCLUDED_ENTRY_TYPES: dict[str, str] = {
    "gateway_settled": "the bank's credit per settlement batch is recorded only in the entry itself",
}
NIGHT_STEPS = {
    "captures": "settlement/captures",
    "settlements": "settlement/settlements",
    "bounties": "settlement/bounties",
}
EVENT_STEPS = ("books/replay/payouts", "books/replay/refunds", "books/replay/strays", "books/replay/resolutions")
FIRST_DIFFERENCES = 20

_outbox = sa.table("pending_outbox")
_facts = sa.table("replay_facts", sa.column("side"), sa.column("kind"), sa.column("id"))
_differences = sa.table(
    "replay_differences",
    sa.column("kind"),
    sa.column("id"),
    sa.column("fields"),
    sa.column("replay"),
    sa.column("live"),
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One fact the books and the replay disagree on: `missing_<kind>` (the replay has it, the books do
    not), `extra_<kind>` (the books have it, the replay does not) or `<kind>_differs` (the `fields` that
    differ). `id` names it: an entry's key, `<key> <account>` for a line, an account, an order id, ..."""

    kind: str
    id: str
    fields: list[str]
    replay: dict[str, Any] | None
    live: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Verification:
    steps_replayed: int
    compared: dict[str, int]
    differences_by_kind: dict[str, int]
    first_differences: list[Difference]
    not_compared: dict[str, int]

    @property
    def differences(self) -> int:
        return sum(self.differences_by_kind.values())

    @property
    def passed(self) -> bool:
        return not self.differences_by_kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "steps_replayed": self.steps_replayed,
            "compared": self.compared,
            "differences": self.differences,
            "differences_by_kind": self.differences_by_kind,
            "first_differences": [
                {"kind": d.kind, "id": d.id, "fields": d.fields, "replay": d.replay, "live": d.live}
                for d in self.first_differences
            ],
            "not_compared": {"entries_by_type": self.not_compared, "why": EXCLUDED_ENTRY_TYPES},
        }


def verify_books(engine: sa.Engine, *, limit: int = FIRST_DIFFERENCES) -> Verification:
    """Verify on a consistent snapshot of the books, in a transaction that is rolled back."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        result = verify(conn, limit=limit)
        conn.rollback()
    return result


def verify(conn: sa.Connection, *, limit: int = FIRST_DIFFERENCES) -> Verification:
    """Replay the books into scratch tables and compare them with the live books; leaves the caller's
    transaction as it found it."""
    excluded = {"excluded_types": sorted(EXCLUDED_ENTRY_TYPES)}
    savepoint = conn.begin_nested()
    try:
        calendar = conn.execute(statement("books/replay/calendar")).all()
        skipped = conn.execute(statement("books/replay/not_compared"), excluded)
        not_compared = {row.entry_type: int(row.entries) for row in skipped}
        conn.execute(statement("books/replay/scratch"))
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        _replay(conn, calendar)
        for side, path in (("replay", "pg_temp, public"), ("live", "public, pg_temp")):
            _set(conn, "search_path", path)
            conn.execute(statement("books/replay/facts"), {"side": side, **excluded})
        conn.execute(statement("books/replay/differences"))
        return Verification(len(calendar), _compared(conn), _by_kind(conn), _first(conn, limit), not_compared)
    finally:
        savepoint.rollback()


def _replay(conn: sa.Connection, calendar: Sequence[sa.Row[Any]]) -> None:
    """Every nightly step in the order it ran, then every event, into the scratch tables."""
    for step in calendar:
        _replay_step(conn, step.step, Day.of(step.day), step.as_of)
    for name in EVENT_STEPS:
        conn.execute(statement(name), {"money_resolutions": list(MONEY_RESOLUTIONS)})
    posting.post_staged(conn)


def _set(conn: sa.Connection, setting: str, value: str) -> None:
    """A setting for the rest of the savepoint (set_config(..., is_local) is undone with it)."""
    conn.execute(sa.select(sa.func.set_config(setting, value, True)))


def _replay_step(conn: sa.Connection, step: str, day: Day, as_of: Any) -> None:
    """One nightly step of `day` as it ran at `as_of`, by the nightly's own statement."""
    _set(conn, "replay.as_of", as_of.isoformat())
    conn.execute(statement(NIGHT_STEPS[step]), day.params)
    if step != "settlements":
        posting.post_staged(conn)
    if step == "bounties":
        conn.execute(sa.delete(_outbox))  # the bounties' notices: nothing is told of a replay


def _compared(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(_facts.c.kind, sa.func.count(sa.distinct(_facts.c.id))).group_by(_facts.c.kind)
    return {str(kind): int(count) for kind, count in conn.execute(query.order_by(_facts.c.kind))}


def _by_kind(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(_differences.c.kind, sa.func.count()).group_by(_differences.c.kind)
    return {str(kind): int(count) for kind, count in conn.execute(query.order_by(_differences.c.kind))}


def _first(conn: sa.Connection, limit: int) -> list[Difference]:
    query = sa.select(_differences).order_by(_differences.c.kind, _differences.c.id).limit(limit)
    return [Difference(r.kind, r.id, list(r.fields), r.replay, r.live) for r in conn.execute(query)]
