"""The one MetaData every feature's tables join, its naming convention, and the plumbing tables
without a feature of their own (audit log, check results, rate-limit counters, idempotency keys).

Money columns are BIGINT paise and end in `_paise`; times are `timestamptz` ending in `_at`.
Constraints carry names from the naming convention so migrations are reproducible.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

OWNED_SCHEMAS = (None, "analytics")


def _include_owned(name: str | None, type_: str, parent_names: object) -> bool:
    return type_ != "schema" or name in OWNED_SCHEMAS


COMPARE_OPTIONS: dict[str, object] = {"include_schemas": True, "include_name": _include_owned}
"""Alembic autogenerate options: compare our schemas (public and analytics), nothing else."""


def in_values(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's condition: `column` takes one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def created_at_column() -> Column[object]:
    return Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now())


idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", BigInteger, ForeignKey("api_keys.api_key_id"), primary_key=True),
    Column("idempotency_key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", JSONB, nullable=False),
    created_at_column(),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=True),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target_type", Text, nullable=False),
    Column("target_id", Text, nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("request_id", Text),
    created_at_column(),
    Index(None, "target_type", "target_id"),
)

check_results = Table(
    "check_results",
    metadata,
    Column("check_result_id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_id", Text),
    Column("partition_key", Text),
    Column("asset_key", Text, nullable=False),
    Column("check_name", Text, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("checked_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "asset_key", "partition_key", "checked_at"),
)

rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("bucket", Text, primary_key=True),
    Column("window_started_at", TIMESTAMP(timezone=True), primary_key=True),
    Column("hits", BigInteger, nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("hits >= 0", name="hits"),
    Index(None, "window_started_at"),
)
