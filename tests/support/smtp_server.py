"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

It can refuse the message of a chosen ledger key once, require a login (and refuse a wrong one
with 535, as a real server does), and hold the n-th mail
transaction until released, so a test can kill a sending process at that exact point.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.loopback import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def key(self) -> str:
        return str(self.message["X-CAE-Key"])


@dataclass
class Recorder:
    received: list[Received] = field(default_factory=list)
    refuse_once: set[str] = field(default_factory=set)
    hold_transaction: int | None = None  # 1-based number of the MAIL command to hold
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    transactions: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.transactions += 1
        if self.transactions == self.hold_transaction:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Serveur en maintenance"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=default)
        key = str(message["X-CAE-Key"])
        if key in self.refuse_once:
            self.refuse_once.discard(key)
            return "550 5.7.1 Message refusé (test)"
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, envelope.content)
        )
        return "250 OK"

    def per_key(self) -> Counter[str]:
        return Counter(r.key for r in self.received)

    def by_key(self, key: str) -> Received:
        (found,) = [r for r in self.received if r.key == key]
        return found


def smtp_environment(port: int) -> dict[str, str]:
    """What a run needs to send through a plain SMTP server on 127.0.0.1:``port``."""
    return {
        "CAE_SMTP_HOST": "127.0.0.1",
        "CAE_SMTP_PORT": str(port),
        "CAE_SMTP_SECURITY": "INSECURE",
    }


class SmtpServer:
    """``with SmtpServer() as smtp: …`` — listens on 127.0.0.1:``smtp.port``."""

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        kwargs = {}
        if username is not None:

            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                ) == (username, password)
                if ok:
                    self.recorder.logins.append((username, mechanism))
                # handled=False: aiosmtpd then answers a refusal with 535; the default (True)
                # answers nothing, and the client waits until its timeout.
                return AuthResult(success=ok, handled=False)

            kwargs = {"authenticator": authenticate, "auth_require_tls": False}
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.release.set()
        self._controller.stop()

    def environment(self) -> dict[str, str]:
        return smtp_environment(self.port)
