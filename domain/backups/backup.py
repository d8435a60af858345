"""Taking a backup: the dump and its manifest's figures from one snapshot, so they agree even while
the API and the pipelines write.

A REPEATABLE READ transaction exports its snapshot (`pg_export_snapshot()`), reads the figures, and
stays open while `pg_dump --snapshot` dumps exactly what that transaction sees. The whole
application database is dumped (schemas `public` and `analytics`), in pg_dump's custom format;
Dagster's own database is not part of the system of record and is not.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import sqlalchemy as sa
import structlog

from domain.backups import tools
from domain.backups.figures import read_figures
from domain.backups.manifest import Manifest, sha256_of, write_manifest
from domain.platform.database import create_engine
from domain.platform.migrations import current_revision
from domain.platform.sql import statement

log = structlog.get_logger(__name__)

# A dump can outlast any timeout a managed server sets for statements or idle transactions.
NO_TIMEOUTS = "-c statement_timeout=0 -c idle_in_transaction_session_timeout=0"


def take_backup(url: str, dump: Path, *, now: dt.datetime, pg_bin_dir: Path | None = None) -> Manifest:
    """Dump the database at `url` to `dump` and write its manifest next to it; refuses to overwrite."""
    if dump.exists():
        raise tools.BackupError(f"{dump} already exists: a backup never overwrites a file")
    pg_dump = tools.executable(tools.bin_dir(pg_bin_dir), "pg_dump")
    dump_version = tools.major_version(pg_dump)
    dump.parent.mkdir(parents=True, exist_ok=True)
    partial = dump.with_name(dump.name + ".partial")
    engine = create_engine(url, poolclass=sa.pool.NullPool, connect_args={"options": NO_TIMEOUTS})
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                server = conn.execute(statement("backups/server")).mappings().one()
                _refuse_newer_server(server["server_version_num"] // 10_000, dump_version)
                figures, head = read_figures(conn), current_revision(conn)
                roles = list(conn.execute(statement("backups/grantee_roles")).scalars())
                tools.run(pg_dump, ["--format=custom", f"--snapshot={snapshot}", f"--file={partial}"], url)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    os.replace(partial, dump)
    manifest = Manifest(
        created_at=now.isoformat(),
        database=server["database_name"],
        server_version=server["server_version"],
        pg_dump_version=dump_version,
        migration_head=head,
        dump_file=dump.name,
        dump_bytes=dump.stat().st_size,
        sha256=sha256_of(dump),
        grantee_roles=roles,
        figures=figures,
    )
    write_manifest(dump, manifest)
    log.info("backup taken", file=str(dump), bytes=manifest.dump_bytes, tables=len(figures.tables), rows=figures.rows)
    return manifest


def _refuse_newer_server(server_major: int, dump_major: int) -> None:
    if server_major > dump_major:
        raise tools.BackupError(
            f"the server runs PostgreSQL {server_major} and pg_dump is {dump_major}: "
            f"set PG_BIN_DIR to the bin directory of PostgreSQL {server_major} or newer"
        )
