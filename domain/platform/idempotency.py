"""Idempotent creation, one mechanism for every POST that creates something: the row it creates carries
the (API key, Idempotency-Key) pair that made it, a hash of the request, and the first answer.

A unique index on the pair makes the row its own claim, so the claim commits or rolls back with the
creation and needs no table or transaction of its own. A second request with the pair finds the row:
the same hash replays the stored answer, another is `idempotency_conflict`. Two concurrent ones meet
at the index: PostgreSQL makes the second INSERT wait for the first's commit, then it inserts nothing,
and the caller reads the first answer. Orders claim the pair the same way in `create_orders()` and
rebuild their answer from the order's unchanging columns instead of storing it (the hot path).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.platform.audit import jsonable
from domain.platform.errors import DomainError

KEY_COLUMNS = ("api_key_id", "idempotency_key")


class IdempotencyConflict(DomainError):
    codes = frozenset({"idempotency_conflict"})

    def __init__(self) -> None:
        super().__init__("idempotency_conflict", "This Idempotency-Key was already used with another request.")


@dataclass(frozen=True, slots=True)
class Claim:
    """Who asked (the API key) under which Idempotency-Key, for which request."""

    api_key_id: int
    key: str
    request_hash: str

    def values(self) -> dict[str, Any]:
        return {"api_key_id": self.api_key_id, "idempotency_key": self.key, "request_hash": self.request_hash}


def request_hash(request: Mapping[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON: its path ids and its body as validated."""
    return hashlib.sha256(json.dumps(dict(request), sort_keys=True, default=str).encode()).hexdigest()


def claim_columns() -> list[Column[Any]]:
    """The columns a created row keeps its claim in. NULL for rows made outside the API (jobs, finance
    tools), which no retry can name."""
    return [
        Column("api_key_id", BigInteger),
        Column("idempotency_key", Text),
        Column("request_hash", Text),
        Column("first_response", JSONB),
    ]


def claim_index() -> Index:
    # No foreign key on api_key_id: keys are never deleted (only revoked), and the check would lock the
    # key's row on every creation.
    return Index(None, *KEY_COLUMNS, unique=True)


def first_answer(conn: sa.Connection, table: sa.Table, claim: Claim | None) -> dict[str, Any] | None:
    """The stored first answer under this claim's key; None if the key is new. Another request under the
    key is an `IdempotencyConflict`."""
    if claim is None:
        return None
    earlier = conn.execute(
        sa.select(table.c.request_hash, table.c.first_response).where(
            table.c.api_key_id == claim.api_key_id, table.c.idempotency_key == claim.key
        )
    ).first()
    if earlier is None:
        return None
    if earlier.request_hash != claim.request_hash:
        raise IdempotencyConflict()
    return dict(earlier.first_response)


def insert_claimed(
    conn: sa.Connection, table: sa.Table, values: Mapping[str, Any], claim: Claim | None, answer: Mapping[str, Any]
) -> bool:
    """Insert the row with its claim and first answer; False if it conflicts with a row that exists or is
    being inserted concurrently (PostgreSQL waits for that one to commit). The caller tells which with
    `first_answer`: a request that claimed the key first, or another unique column (a referral code)."""
    claimed = {**claim.values(), "first_response": jsonable(answer)} if claim else {}
    inserted = conn.execute(
        pg_insert(table).values(**values, **claimed).on_conflict_do_nothing().returning(sa.literal(True))
    ).first()
    return inserted is not None


def answer_after_race(conn: sa.Connection, table: sa.Table, claim: Claim | None) -> dict[str, Any]:
    """The first answer of the request that claimed the key while this one was inserting, for a table
    whose only unique columns besides the key are generated ids."""
    answer = first_answer(conn, table, claim)
    if answer is None:
        raise RuntimeError(f"a new {table.name} row conflicted with another than its Idempotency-Key")
    return answer
