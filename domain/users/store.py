"""Users and their recruiters in PostgreSQL, applying the rules of `domain.users`.

Recruiter changes take a transaction-scoped advisory lock, so two concurrent re-pointings cannot
each pass the cycle check and together close a loop. Registrations do not need it: a new user has
no recruits, so it cannot close a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from domain.platform import idempotency
from domain.platform.audit import audit, jsonable
from domain.platform.idempotency import Claim
from domain.platform.ids import new_id
from domain.platform.sql import statement
from domain.users import rules
from domain.users.tables import users

RECRUITER_GRAPH_LOCK = 0x5E771E  # pg_advisory_xact_lock key serialising recruiter changes
_CODE_ATTEMPTS = 5


def find_recruiter(
    conn: sa.Connection, *, user_id: str | None = None, code: str | None = None
) -> rules.Recruiter | None:
    condition = users.c.user_id == user_id if user_id is not None else users.c.referral_code == code
    row = conn.execute(sa.select(users.c.user_id, users.c.role, users.c.status).where(condition)).first()
    return rules.Recruiter(row.user_id, row.role, row.status) if row else None


def resolve_recruiter(
    conn: sa.Connection, user_id: str | None, recruiter_id: str | None, referral_code: str | None
) -> str | None:
    """The recruiter's user id for a recruiter id or referral code, checked; None when neither is given."""
    if recruiter_id is None and referral_code is None:
        return None
    recruiter = find_recruiter(conn, user_id=recruiter_id, code=referral_code)
    if recruiter is None and referral_code is not None:
        raise rules.ReferralError("recruiter_invalid", "No scout has this referral code.")
    rules.check_recruiter(user_id, recruiter)
    assert recruiter is not None
    return recruiter.user_id


def earlier_registration(conn: sa.Connection, claim: Claim | None) -> dict[str, Any] | None:
    """The first answer of a registration under this claim's Idempotency-Key, if there was one."""
    return idempotency.first_answer(conn, users, claim)


def register(
    conn: sa.Connection, values: Mapping[str, Any], now: dt.datetime, claim: Claim | None = None
) -> tuple[dict[str, Any], bool]:
    """Insert a user (values already validated); scouts get a fresh unique referral code. Returns the
    answer as shown and whether it is the first answer of a concurrent request under the same claim."""
    user_id = new_id("usr")
    for _ in range(_CODE_ATTEMPTS):
        code = rules.new_referral_code() if values["role"] == "scout" else None
        row = {"user_id": user_id, "referral_code": code, "status": "active", **values, "created_at": now}
        answer = jsonable(rules.shown({**row, "updated_at": now}))
        if idempotency.insert_claimed(conn, users, {**row, "updated_at": now}, claim, answer):
            return answer, False
        earlier = idempotency.first_answer(conn, users, claim)
        if earlier is not None:
            return earlier, True
    raise RuntimeError("could not draw an unused referral code")


def get_user(conn: sa.Connection, user_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """`lock` takes FOR NO KEY UPDATE: it serialises changes to the user but, unlike FOR UPDATE, not
    the KEY SHARE lock that every new order's foreign key check takes on its buyer and seller."""
    query = sa.select(users).where(users.c.user_id == user_id)
    row = conn.execute(query.with_for_update(key_share=True) if lock else query).first()
    return dict(row._mapping) if row else None


def recruiter_chain(conn: sa.Connection, start: str) -> list[str]:
    """`start` and its recruiters upwards (bounded, so a corrupt loop cannot hang the query)."""
    rows = conn.execute(statement("users/recruiter_chain"), {"start": start})
    return [row.user_id for row in rows]


def set_recruiter(
    conn: sa.Connection,
    user_id: str,
    recruiter_id: str | None,
    referral_code: str | None,
    *,
    actor: str,
    request_id: str | None,
) -> dict[str, Any] | None:
    """Set, change or clear a user's recruiter as an admin, with an audit row; None if no such user."""
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(RECRUITER_GRAPH_LOCK)))
    user = get_user(conn, user_id, lock=True)
    if user is None:
        return None
    new_recruiter = resolve_recruiter(conn, user_id, recruiter_id, referral_code)
    if new_recruiter is not None:
        rules.check_no_cycle(user_id, recruiter_chain(conn, new_recruiter))
    before = {"recruiter_id": user["recruiter_id"], "referral_source": user["referral_source"]}
    after = {"recruiter_id": new_recruiter, "referral_source": "admin" if new_recruiter else "none"}
    updated = conn.execute(
        sa.update(users).where(users.c.user_id == user_id).values(**after, updated_at=sa.func.now()).returning(*users.c)
    ).one()
    audit(conn, actor, "user.recruiter_set", "user", user_id, before, after, request_id)
    return dict(updated._mapping)


def _update(conn: sa.Connection, user_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    updated = conn.execute(
        sa.update(users)
        .where(users.c.user_id == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(*users.c)
    ).one()
    return dict(updated._mapping)


def update_profile(
    conn: sa.Connection, user_id: str, changes: Mapping[str, Any], *, actor: str, request_id: str | None
) -> dict[str, Any] | None:
    """Change the given fields of a user's name, phone and payout destination (values validated), with an
    audit row of the fields that changed; None if no such user. A destination applies to payouts created
    after the change: each payout keeps the destination it was created with."""
    user = get_user(conn, user_id, lock=True)
    if user is None:
        return None
    if "payout_destination" in changes:
        rules.check_destination_allowed(user["role"], changes["payout_destination"])
    changed = {name: value for name, value in changes.items() if user[name] != value}
    if not changed:
        return user
    updated = _update(conn, user_id, changed)
    before, after = rules.audited(user, changed), rules.audited(updated, changed)
    audit(conn, actor, "user.profile_update", "user", user_id, before, after, request_id)
    return updated


def set_status(
    conn: sa.Connection, user_id: str, status: str, reason: str | None, *, actor: str, request_id: str | None
) -> dict[str, Any] | None:
    """Suspend or reactivate a user, with an audit row (and the reason); None if no such user. Payouts
    leave a suspended seller or scout alone until it is active again (`sql/payouts/held_back.sql`)."""
    user = get_user(conn, user_id, lock=True)
    if user is None:
        return None
    rules.check_status_change(user["status"])
    if user["status"] == status:
        return user
    updated = _update(conn, user_id, {"status": status})
    after = {"status": status, "reason": reason}
    audit(conn, actor, "user.status_set", "user", user_id, {"status": user["status"]}, after, request_id)
    return updated
