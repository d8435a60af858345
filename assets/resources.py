"""Typed Dagster resources used by the assets; `pipelines/definitions.py` instantiates them.

Secrets arrive as `dg.EnvVar` from definitions.py, never as literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from domain.database import create_engine, database_url
from domain.settings import Settings, load_settings


class SettingsResource(dg.ConfigurableResource):
    """The application settings, read once per run from the environment."""

    def get(self) -> Settings:
        return load_settings()


class PostgresResource(dg.ConfigurableResource):
    """The system of record. Unset `url` means DATABASE_URL or the embedded server."""

    url: str = ""
    statement_timeout_ms: int = 600_000
    _engine: sa.Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        url = self.url or database_url(load_settings())
        self._engine = create_engine(url, connect_args={"options": f"-c statement_timeout={self.statement_timeout_ms}"})

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        assert self._engine is not None, "resource used outside a run"
        return self._engine

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn
