"""API keys: random bearer tokens of which only the SHA-256 hash is stored.

The key is shown once at creation. A leaked table gives nothing usable (the keys have 256 bits of
entropy, so an unsalted hash is enough); `key_prefix` lets an operator recognise a key in a list.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.users.tables import API_KEY_ROLES, api_keys

KEY_PREFIX = "sk_"


class ApiKeyError(Exception):
    """A key operation the rules refuse (unknown role, taken or unknown name)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    api_key_id: int
    name: str
    role: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: sa.Connection, name: str, role: str) -> str:
    """Store a new key's hash and return the key itself, which is never stored."""
    if role not in API_KEY_ROLES:
        raise ApiKeyError(f"role must be one of {', '.join(API_KEY_ROLES)}")
    if not name or len(name) > 64:
        raise ApiKeyError("name must be 1 to 64 characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    inserted = conn.execute(
        insert(api_keys)
        .values(name=name, role=role, key_hash=hash_key(key), key_prefix=key[:10])
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(api_keys.c.api_key_id)
    ).scalar()
    if inserted is None:
        raise ApiKeyError(f"an API key named {name!r} already exists")
    return key


def revoke_key(conn: sa.Connection, name: str) -> bool:
    """Revoke by name; return False if no live key has that name."""
    result = conn.execute(
        sa.update(api_keys)
        .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )
    return result.rowcount == 1


def find_key(conn: sa.Connection, key_hash: str) -> ApiKey | None:
    """The live key whose value hashes to `key_hash`, if any."""
    row = conn.execute(
        sa.select(api_keys.c.api_key_id, api_keys.c.name, api_keys.c.role).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return ApiKey(row.api_key_id, row.name, row.role) if row else None
