"""`sql/objects/` holds the current definition of every view and function: the migrated database
must define each exactly as its file does, and must have no view or function without a file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

OBJECTS = Path(__file__).resolve().parents[2] / "sql" / "objects"

DEFINITIONS = sa.text(
    """
    SELECT 'function ' || p.oid::regprocedure::text AS name, pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prokind = 'f'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'view ' || c.oid::regclass::text, pg_get_viewdef(c.oid, true)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'v'
    """
)


def _definitions(conn: sa.Connection) -> dict[str, str]:
    return dict(conn.execute(DEFINITIONS).all())


@pytest.mark.parametrize("path", sorted(OBJECTS.glob("*.sql")), ids=lambda path: path.name)
def test_the_migrated_database_defines_each_object_as_its_file(engine: sa.Engine, path: Path) -> None:
    with engine.connect() as conn, conn.begin():
        migrated = _definitions(conn)
        with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(path.read_text())  # no parameters: the file's own % signs stay as written
        from_file = _definitions(conn)
        conn.rollback()
    changed = sorted(name for name in from_file if from_file[name] != migrated.get(name))
    assert changed == [], f"{path.name} differs from the migrated database; a migration must run it"


def test_every_view_and_function_has_its_file(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        migrated = set(_definitions(conn))
    written = " ".join(path.read_text() for path in OBJECTS.glob("*.sql"))
    missing = sorted(name for name in migrated if name.split(" ", 1)[1].split("(")[0] not in written)
    assert missing == []
