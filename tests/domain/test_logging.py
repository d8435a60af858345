"""Log lines as operators see them: one JSON object per line, request id bound, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from domain.platform.logging import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    yield buffer
    configure_logging()


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_our_lines_are_json_with_context_and_redaction(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        structlog.get_logger("ours").info("payout_sent", password="hunter2", Authorization="Bearer k", paise=100)
        structlog.get_logger("ours").debug("below the level")
    finally:
        structlog.contextvars.clear_contextvars()
    (line,) = _lines(stream)
    assert {key: line[key] for key in ("event", "level", "request_id", "paise", "password", "Authorization")} == {
        "event": "payout_sent",
        "level": "info",
        "request_id": "req-1",
        "paise": 100,
        "password": "[redacted]",
        "Authorization": "[redacted]",
    }
    assert str(line["timestamp"]).endswith("Z")


def test_library_lines_through_stdlib_have_the_same_shape(stream: io.StringIO) -> None:
    logging.getLogger("some.library").warning("disk %s", "slow")
    logging.getLogger("some.library").info("kept at info")
    logging.getLogger("uvicorn.access").info("quietened to warning")
    assert [(line["event"], line["level"]) for line in _lines(stream)] == [
        ("disk slow", "warning"),
        ("kept at info", "info"),
    ]


def test_a_later_configuration_takes_effect_for_loggers_already_used(stream: io.StringIO) -> None:
    logger = structlog.get_logger("ours")
    logger.info("first")
    quieter = io.StringIO()
    configure_logging("WARNING", "json", stream=quieter)
    logger.info("dropped")
    logger.warning("kept")
    assert [line["event"] for line in _lines(stream)] == ["first"]
    assert [line["event"] for line in _lines(quieter)] == ["kept"]
