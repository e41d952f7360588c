"""SmtpMailer against a real loopback SMTP server: refusals are retryable, settings from env."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import pytest

from integrations.smtp import (
    DeliveryRefused,
    SmtpMailer,
    credentials_from_environment,
)
from tests.support.loopback import free_port
from tests.support.smtp_server import SmtpServer


def message(key: str, to: str = "a@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "contact@example.org"
    msg["To"] = to
    msg["Cc"] = "appui@example.org"
    msg["Subject"] = "Relevé de contribution"
    msg["X-CAE-Key"] = key
    msg.set_content("Bonjour, voici votre relevé.")
    return msg


def test_settings_come_from_the_environment():
    credentials = credentials_from_environment(
        {
            "CAE_SMTP_HOST": "smtp.example.org",
            "CAE_SMTP_PORT": "2525",
            "CAE_SMTP_USERNAME": "cae",
            "CAE_SMTP_PASSWORD": "secret",
        }
    )
    assert credentials is not None
    assert (credentials.smtp_server, credentials.smtp_port) == ("smtp.example.org", 2525)
    assert credentials.smtp_type.name == "STARTTLS"
    assert "secret" not in repr(credentials)
    assert credentials.password.get_secret_value() == "secret"


def test_no_host_means_no_smtp():
    assert credentials_from_environment({}) is None


def test_messages_go_to_every_recipient_over_one_connection():
    with SmtpServer() as smtp:
        credentials = credentials_from_environment(smtp.environment())
        with SmtpMailer(credentials) as mailer:
            mailer.send(message("k1"))
            mailer.send(message("k2"))
    assert [r.key for r in smtp.recorder.received] == ["k1", "k2"]
    assert smtp.recorder.received[0].recipients == ["a@example.org", "appui@example.org"]


def test_a_refusal_is_reported_and_the_next_message_still_goes():
    with SmtpServer() as smtp:
        smtp.recorder.refuse_once.add("k1")
        with SmtpMailer(credentials_from_environment(smtp.environment())) as mailer:
            with pytest.raises(DeliveryRefused, match="550"):
                mailer.send(message("k1"))
            mailer.send(message("k2"))
    assert [r.key for r in smtp.recorder.received] == ["k2"]


def test_no_server_listening_is_a_refusal_safe_to_retry():
    env = {
        "CAE_SMTP_HOST": "127.0.0.1",
        "CAE_SMTP_PORT": str(free_port()),
        "CAE_SMTP_SECURITY": "INSECURE",
    }
    with SmtpMailer(credentials_from_environment(env)) as mailer, pytest.raises(DeliveryRefused):
        mailer.send(message("k1"))


def test_a_message_without_recipient_is_refused_before_connecting():
    env = {
        "CAE_SMTP_HOST": "127.0.0.1",
        "CAE_SMTP_PORT": str(free_port()),
        "CAE_SMTP_SECURITY": "INSECURE",
    }
    lonely = message("k1")
    del lonely["To"], lonely["Cc"]
    mailer = SmtpMailer(credentials_from_environment(env))
    with mailer, pytest.raises(DeliveryRefused, match="aucun destinataire"):
        mailer.send(lonely)


@pytest.mark.parametrize("security", ["INSECURE", "STARTTLS", "SSL"])
def test_a_server_that_accepts_and_never_answers_is_a_refusal_after_the_timeout(security):
    """prefect-email connects with no timeout; the mailer's applies from the first byte."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = {
            "CAE_SMTP_HOST": "127.0.0.1",
            "CAE_SMTP_PORT": str(silent.getsockname()[1]),
            "CAE_SMTP_SECURITY": security,
            "CAE_SMTP_USERNAME": "cae",
            "CAE_SMTP_PASSWORD": "secret",
        }
        mailer = SmtpMailer(credentials_from_environment(env), timeout=0.5)
        with mailer, pytest.raises(DeliveryRefused, match="connexion SMTP impossible"):
            mailer.send(message("k1"))
