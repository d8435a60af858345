"""The email channel over a real SMTP server: STARTTLS and AUTH as configured, and how refusals map
to permanent or retriable errors."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.notifications.channels import DeliveryError, Message
from gateways.smtp.client import SmtpChannel
from gateways.smtp.sink import CollectingHandler, Credentials, free_port, start_sink

MESSAGE = Message(
    "<delivery-1.email@marketplace.example>", "email", "asha@example.in", "Subject", "Text.\n", "<p>H</p>"
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, CollectingHandler]]:
    """A server that accepts mail only after STARTTLS and AUTH as settle/s3cret."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller, handler = start_sink(
        credentials=Credentials("settle", "s3cret"),
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
    )
    yield controller.port, handler
    controller.stop()


def channel(port: int, cert: Path | None, **options: object) -> SmtpChannel:
    context = ssl.create_default_context(cafile=str(cert)) if cert else None
    return SmtpChannel("127.0.0.1", port, "Settlements <s@marketplace.example>", ssl_context=context, **options)  # type: ignore[arg-type]


def test_starttls_then_auth_delivers(tls_server, certificate) -> None:
    port, handler = tls_server
    with channel(port, certificate[0], starttls=True, username="settle", password="s3cret").session() as session:
        session.send(MESSAGE)
    [received] = handler.messages
    assert received["Message-ID"] == "<delivery-1.email@marketplace.example>"
    assert received["To"] == "asha@example.in"
    assert received.get_body(("plain",)).get_content().splitlines() == ["Text."]


def test_a_wrong_password_is_refused_without_showing_it(tls_server, certificate) -> None:
    port, handler = tls_server
    wrong = channel(port, certificate[0], starttls=True, username="settle", password="wrong-pass")
    with pytest.raises(DeliveryError) as refused, wrong.session():
        pass
    assert str(refused.value) == "SMTP authentication refused (535)"
    assert not refused.value.permanent
    assert handler.messages == []


def test_without_starttls_the_server_refuses_the_mail(tls_server) -> None:
    port, _ = tls_server
    with pytest.raises(DeliveryError) as refused, channel(port, None).session() as session:
        session.send(MESSAGE)
    assert str(refused.value) == "SMTP 530"
    assert refused.value.permanent


def test_an_untrusted_certificate_is_not_sent_to(tls_server) -> None:
    port, handler = tls_server
    untrusting = channel(port, None, starttls=True, username="settle", password="s3cret")
    with pytest.raises(DeliveryError, match=r"^SMTP session: SSLCertVerificationError$"), untrusting.session():
        pass
    assert handler.messages == []


def test_nobody_listening_is_a_retriable_error() -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as refused, channel(port, None).session():
        pass
    assert str(refused.value) == f"SMTP connection to 127.0.0.1:{port}: ConnectionRefusedError"
    assert not refused.value.permanent


def test_a_message_without_an_address_is_permanent(smtp_server) -> None:
    _, port, _ = smtp_server
    with pytest.raises(DeliveryError, match="no email address") as refused, channel(port, None).session() as session:
        session.send(Message("<x@y>", "email", None, "S", "T"))
    assert refused.value.permanent
