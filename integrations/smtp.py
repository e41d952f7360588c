"""Sending the letters' emails over SMTP, and telling a refusal from an unknown outcome.

The SMTP settings and password live in a prefect-email ``EmailServerCredentials`` block, or in
the environment (``CAE_SMTP_HOST``…); the password is never logged. The project builds each
message itself (``documents.mail``) and speaks SMTP step by step, so that it knows how far a
message got when something breaks:

- refused before or at the end of the data (a 4xx/5xx reply, a connection that never opened or
  dropped before the data was sent): nothing was handed over, ``DeliveryRefused``, the ledger
  marks it ``failed`` and a later run retries it;
- the connection dropped while the data was being handed over or before the server answered:
  the message may have been delivered, ``DeliveryUnknown``, the key stays ``pending`` for a person.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses
from types import TracebackType

from prefect_email import EmailServerCredentials
from prefect_email.credentials import SMTPServer, SMTPType
from pydantic import SecretStr

from integrations.environment import Environment


class DeliveryRefused(Exception):
    """Nothing was handed over: safe to retry."""


class DeliveryUnknown(Exception):
    """The message may have been handed over: a person must check before anything is resent."""


ENV_PREFIX = "CAE_SMTP_"


def credentials_from_environment(
    env: Mapping[str, str] | None = None,
) -> EmailServerCredentials | None:
    """SMTP settings from ``CAE_SMTP_HOST``, ``_PORT``, ``_USERNAME``, ``_PASSWORD`` and
    ``_SECURITY`` (``SSL``, ``STARTTLS`` or ``INSECURE``; default STARTTLS), or None without a host.
    """
    environment = Environment(env)
    host = environment.text(f"{ENV_PREFIX}HOST")
    if not host:
        return None
    port = environment.text(f"{ENV_PREFIX}PORT")
    return EmailServerCredentials(
        smtp_server=host,
        smtp_port=int(port) if port else None,
        smtp_type=environment.text(f"{ENV_PREFIX}SECURITY", "STARTTLS").upper(),
        username=environment.text(f"{ENV_PREFIX}USERNAME") or None,
        password=SecretStr(environment.text(f"{ENV_PREFIX}PASSWORD")),
    )


def open_server(credentials: EmailServerCredentials, timeout: float) -> smtplib.SMTP:
    """``EmailServerCredentials.get_server()`` with a timeout on every step: prefect-email
    connects and logs in with none, so a server that accepts the connection and then never
    answers (or never answers a refused login) would hold the run forever."""
    server = connect(credentials, timeout)
    if credentials.username is not None:
        server.login(credentials.username, credentials.password.get_secret_value())
    return server


def server_address(credentials: EmailServerCredentials) -> tuple[str, int]:
    """The host and port the credentials name (the port by default of their security)."""
    host = credentials.smtp_server
    host = host.value if isinstance(host, SMTPServer) else host
    return host, credentials.smtp_port or credentials.smtp_type.value


def connect(credentials: EmailServerCredentials, timeout: float) -> smtplib.SMTP:
    """A connection to the server with the configured security (SSL, STARTTLS or none), not
    yet logged in."""
    host, port = server_address(credentials)
    kind = credentials.smtp_type
    context = (
        ssl.create_default_context()
        if credentials.verify
        else ssl._create_unverified_context(protocol=ssl.PROTOCOL_TLS_CLIENT)
    )
    server: smtplib.SMTP
    if kind == SMTPType.SSL:
        server = smtplib.SMTP_SSL(host, port, context=context, timeout=timeout)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if kind == SMTPType.STARTTLS:
            server.starttls(context=context)
    return server


def recipients_of(message: EmailMessage) -> list[str]:
    return [
        address
        for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))
        if address
    ]


class SmtpMailer:
    """One SMTP connection for a batch of messages, reopened after a failure.

    >>> with SmtpMailer(credentials) as mailer:        # doctest: +SKIP
    ...     mailer.send(message)
    """

    name = "email"

    def __init__(self, credentials: EmailServerCredentials, timeout: float = 60) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._server: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._server is not None:
            try:
                self._server.quit()
            except (smtplib.SMTPException, OSError):
                self._server.close()
            self._server = None

    def _drop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _connection(self) -> smtplib.SMTP:
        if self._server is None:
            try:
                server = open_server(self._credentials, self._timeout)
            except (smtplib.SMTPException, OSError) as exc:
                raise DeliveryRefused(
                    f"connexion SMTP impossible : {exc.__class__.__name__}"
                ) from exc
            self._server = server
        return self._server

    def send(self, message: EmailMessage) -> None:
        recipients = recipients_of(message)
        if not recipients:
            raise DeliveryRefused("aucun destinataire")
        sender = getaddresses([str(message["From"])])[0][1]
        server = self._connection()
        try:
            server.ehlo_or_helo_if_needed()
            code, reply = server.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            for recipient in recipients:
                code, reply = server.rcpt(recipient)
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryRefused(
                f"refusé par le serveur : {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            raise DeliveryRefused(f"destinataire refusé : {', '.join(exc.recipients)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryRefused(
                f"connexion interrompue avant l'envoi : {exc.__class__.__name__}"
            ) from exc
        try:
            code, reply = server.data(message.as_bytes(policy=SMTP_POLICY))
            if code != 250:  # the server answered the whole message with a refusal
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPDataError as exc:
            self._reset()
            raise DeliveryRefused(
                f"refusé par le serveur : {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryUnknown(
                f"connexion interrompue pendant la transmission : {exc.__class__.__name__}"
            ) from exc

    def _reset(self) -> None:
        if self._server is None:
            return
        try:
            self._server.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
