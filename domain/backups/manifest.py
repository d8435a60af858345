"""The manifest: a JSON file next to the dump (`FILE.manifest.json`) saying what the dump is and what it
must restore to. Kept apart from the dump so the dump stays a plain `pg_restore` archive and the
manifest can be read with any JSON tool; the dump's SHA-256 in it binds the two."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.backups.figures import Figures
from domain.backups.tools import BackupError

FORMAT = "settle-backup/1"


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str
    database: str
    server_version: str
    pg_dump_version: int
    migration_head: str | None
    dump_file: str
    dump_bytes: int
    sha256: str
    grantee_roles: list[str]
    figures: Figures

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "database": self.database,
            "server_version": self.server_version,
            "pg_dump_version": self.pg_dump_version,
            "migration_head": self.migration_head,
            "dump_file": self.dump_file,
            "dump_bytes": self.dump_bytes,
            "sha256": self.sha256,
            "grantee_roles": self.grantee_roles,
            **self.figures.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise BackupError(f"not a manifest of this system (format {data.get('format')!r}, expected {FORMAT})")
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name != "figures"}
        return cls(**fields, figures=Figures.from_json(data))


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def write_manifest(dump: Path, manifest: Manifest) -> Path:
    """Written to a temporary name and renamed, so a manifest is either whole or absent."""
    path = manifest_path(dump)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)
    return path


def read_manifest(dump: Path) -> Manifest:
    path = manifest_path(dump)
    if not path.is_file():
        raise BackupError(f"no manifest next to the dump: {path} is missing")
    try:
        return Manifest.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"the manifest {path} cannot be read: {exc}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
