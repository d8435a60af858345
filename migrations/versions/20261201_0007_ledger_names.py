"""SQL twins of the ledger's account names and entry keys, for the one posting path.

`payable_account()`, `account_type_of()`, `account_payee()` and `entry_key()` compute in SQL exactly
what `domain.ledger.accounts` computes in Python, so the set-based writers and `post_entry` name
accounts and keys one way. The current definitions live in `sql/objects/ledger_names.sql`; this is
the copy frozen at this revision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_NAMES = """
CREATE FUNCTION payable_account(payee_type text, payee_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN payee_type || '_payable:' || payee_id;

CREATE FUNCTION account_type_of(account_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN split_part(account_id, ':', 1);

CREATE FUNCTION account_payee(account_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN nullif(substr(account_id, length(split_part(account_id, ':', 1)) + 2), '');

CREATE FUNCTION entry_key(kind text, VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN kind || ':' || array_to_string(parts, ':');
"""


def upgrade() -> None:
    op.execute(LEDGER_NAMES)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION entry_key(text, VARIADIC text[]); DROP FUNCTION account_payee(text); "
        "DROP FUNCTION account_type_of(text); DROP FUNCTION payable_account(text, text)"
    )
