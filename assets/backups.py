"""The scheduled backup: a dump of the system of record with its manifest into the backup directory,
then the retention that keeps the newest N."""

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.resources import PostgresResource, SettingsResource
from domain.backups import retention
from domain.backups.backup import take_backup
from domain.platform.clock import IST


class BackupConfig(dg.Config):
    directory: str = Field(default="", description="Where to write the backup; empty: BACKUP_DIR (DATA_DIR/backups).")
    keep: int = Field(
        default=0, ge=0, description="How many of the newest scheduled backups to keep; 0: BACKUP_RETENTION_COUNT."
    )


@dg.op(
    description="Back up the system of record: a pg_dump of the application database and its manifest (row counts, "
    "ledger totals, SHA-256) from one snapshot, into the backup directory; then delete all but the newest backups."
)
def backup_op(
    context: dg.OpExecutionContext, config: BackupConfig, db: PostgresResource, settings: SettingsResource
) -> str:
    values = settings.get()
    directory = Path(config.directory) if config.directory else values.backup_directory
    now = dt.datetime.now(IST)
    dump = retention.scheduled_path(directory, now)
    manifest = take_backup(db.url_string, dump, now=now, pg_bin_dir=values.pg_bin_dir)
    removed = retention.prune(directory, config.keep or values.backup_retention_count)
    rows = [dg.TableRecord({"table": name, "rows": count}) for name, count in manifest.figures.tables.items()]
    schema = dg.TableSchema(columns=[dg.TableColumn("table", "string"), dg.TableColumn("rows", "int")])
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(dump)),
            "size_bytes": manifest.dump_bytes,
            "sha256": manifest.sha256,
            "migration_head": manifest.migration_head or "",
            "tables": len(rows),
            "rows": manifest.figures.rows,
            "row_counts": dg.MetadataValue.table(rows, schema=schema),
            "totals": dg.MetadataValue.json(manifest.figures.totals),
            "pruned": dg.MetadataValue.json([path.name for path in removed]),
        }
    )
    context.log.info(f"backup {dump} ({manifest.dump_bytes} bytes); pruned {len(removed)}")
    return str(dump)


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
