"""Users and the API keys that call on their behalf. A user registered through the API keeps the
Idempotency-Key claim of its registration (`domain.platform.idempotency`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from domain.platform.idempotency import claim_columns, claim_index
from domain.platform.tables import created_at_column, in_values, metadata

USER_ROLES = ("buyer", "seller", "scout")

USER_STATUSES = ("active", "suspended", "closed")

REFERRAL_SOURCES = ("link", "code", "admin", "none")

API_KEY_ROLES = ("client", "admin")

users = Table(
    "users",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("phone", Text),
    Column("status", Text, nullable=False, server_default="active"),
    Column("referral_code", Text, unique=True),
    Column("recruiter_id", Text, ForeignKey("users.user_id")),
    Column("referral_source", Text, nullable=False, server_default="none"),
    # None is SQL NULL (no destination), never the JSON null the payout batch would take for one.
    Column("payout_destination", JSONB(none_as_null=True)),
    created_at_column(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    *claim_columns(),
    CheckConstraint(in_values("role", USER_ROLES), name="role"),
    CheckConstraint(in_values("status", USER_STATUSES), name="status"),
    CheckConstraint(in_values("referral_source", REFERRAL_SOURCES), name="referral_source"),
    CheckConstraint("recruiter_id IS NULL OR recruiter_id <> user_id", name="not_self_recruited"),
    CheckConstraint("referral_code IS NULL OR role = 'scout'", name="referral_code_for_scouts"),
    CheckConstraint(
        "payout_destination IS NULL OR jsonb_typeof(payout_destination) = 'object'", name="payout_destination_object"
    ),
    Index(None, "recruiter_id"),
    claim_index(),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("key_prefix", Text, nullable=False),
    created_at_column(),
    Column("revoked_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("role", API_KEY_ROLES), name="role"),
)
