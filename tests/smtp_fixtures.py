"""A real SMTP server on localhost for the test session (aiosmtpd), and the settings that send to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateways.smtp.sink import CollectingHandler, start_sink


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[str, int, CollectingHandler]]:
    controller, handler = start_sink()
    yield controller.hostname, controller.port, handler
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[str, int, CollectingHandler]) -> CollectingHandler:
    """The session's sink, emptied for this test."""
    handler = smtp_server[2]
    handler.clear()
    return handler
