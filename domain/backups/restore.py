"""Restoring a backup into an empty database, and proving it: the restored database's figures must
equal the manifest's, figure by figure.

Refused before anything is written: a dump whose SHA-256 is not the manifest's, a manifest whose
migration head is not this code's, a target database with anything in it. `pg_restore` then runs in
one transaction that stops at the first error, so a restore is whole or absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import make_url

from domain.backups import tools
from domain.backups.figures import Figures, differences, read_figures
from domain.backups.manifest import Manifest, read_manifest, sha256_of
from domain.platform.database import create_engine
from domain.platform.migrations import current_revision, head_revision
from domain.platform.sql import statement

log = structlog.get_logger(__name__)


class RestoreRefused(tools.BackupError):
    """The restore would not be safe; nothing was changed."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: Manifest
    restored: Figures
    migration_head: str | None
    created_roles: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.differences


def check_backup(dump: Path, head: str | None) -> Manifest:
    """The manifest of `dump`, once the dump is the one it describes and of this code's schema."""
    try:
        manifest = read_manifest(dump)
    except tools.BackupError as exc:
        raise RestoreRefused(str(exc)) from None
    actual = sha256_of(dump)
    if actual != manifest.sha256:
        raise RestoreRefused(
            f"{dump} has SHA-256 {actual}, its manifest says {manifest.sha256}: the file is damaged or not "
            "the one the manifest describes"
        )
    if manifest.migration_head != head:
        raise RestoreRefused(
            f"the backup is at migration {manifest.migration_head} and this code's head is {head}: restore it "
            "with the release that took it"
        )
    return manifest


def restore(url: str, dump: Path, *, pg_bin_dir: Path | None = None) -> RestoreReport:
    """Restore `dump` into the empty database at `url`, then compare it with the manifest."""
    manifest = check_backup(dump, head_revision(url))
    pg_restore = tools.executable(tools.bin_dir(pg_bin_dir), "pg_restore")
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            _refuse_non_empty(conn, url)
            created = _create_missing_roles(conn, manifest.grantee_roles)
        tools.run(pg_restore, ["--no-owner", "--exit-on-error", "--single-transaction", str(dump)], url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))  # the planner needs statistics before the first night
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            restored, head = read_figures(conn), current_revision(conn)
    finally:
        engine.dispose()
    found = differences(manifest.figures, restored)
    if head != manifest.migration_head:
        found.insert(0, f"migration head: {manifest.migration_head} in the backup, {head} restored")
    log.info("backup restored", file=str(dump), tables=len(restored.tables), differences=len(found))
    return RestoreReport(manifest, restored, head, created, found)


def _refuse_non_empty(conn: sa.Connection, url: str) -> None:
    found = list(conn.execute(statement("backups/target_objects")).scalars())
    if found:
        database = make_url(url).database
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise RestoreRefused(f"database {database} is not empty ({shown}): restore only into a new, empty database")


def _create_missing_roles(conn: sa.Connection, roles: list[str]) -> list[str]:
    """Roles live outside databases: create, without login, those the backup grants to and the server lacks."""
    missing = list(conn.execute(statement("backups/missing_roles"), {"roles": roles}).scalars())
    quote = conn.dialect.identifier_preparer.quote
    for role in missing:
        conn.execute(sa.text(f"CREATE ROLE {quote(role)} NOLOGIN"))
    return missing
