"""Scheduled backups: their names (the IST time they were taken, so names sort as time does) and the
retention that keeps the newest N. Only files with a scheduled backup's name are ever deleted."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import structlog

from domain.backups.manifest import manifest_path
from domain.platform.clock import IST

log = structlog.get_logger(__name__)

SCHEDULED = re.compile(r"^settlement-\d{8}T\d{6}IST\.dump$")


def scheduled_path(directory: Path, now: dt.datetime) -> Path:
    return directory / f"settlement-{now.astimezone(IST):%Y%m%dT%H%M%S}IST.dump"


def scheduled_backups(directory: Path) -> list[Path]:
    """The scheduled backups in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if SCHEDULED.match(path.name) and path.is_file())


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest scheduled backups (each with its manifest); return the deleted dumps."""
    if keep < 1:
        raise ValueError("retention must keep at least one backup")
    backups = scheduled_backups(directory)
    removed = backups[: max(len(backups) - keep, 0)]
    for dump in removed:
        manifest_path(dump).unlink(missing_ok=True)
        dump.unlink()
        log.info("backup pruned", file=str(dump))
    return removed
