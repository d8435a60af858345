"""The set-based SQL in `sql/`, loaded once by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def statement(name: str) -> sa.TextClause:
    return sa.text((SQL_DIR / f"{name}.sql").read_text())
