"""What a flow run works with, resolved from its parameters: source, ledger, out folder, mailer."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from prefect_email import EmailServerCredentials

from charter.scope import Scope
from integrations.airtable import AirtableClient
from integrations.airtable_ledger import AirtableLedger
from integrations.airtable_source import AirtableSource
from integrations.base import Source
from integrations.journal import Journal
from integrations.ledger import MARK_BATCH, LedgerStore, SqliteLedger
from integrations.notion import NotionClient
from integrations.notion_ledger import NotionLedger
from integrations.notion_source import NotionSource
from integrations.outbox import Outbox
from integrations.remote import find_config, source_client
from integrations.smtp import SmtpMailer, credentials_from_environment
from integrations.workbook import LocalWorkbook
from services.delivery import Mailer, OutboxOnly
from services.preview import PREVIEW_FOLDER, PreviewMailer, preview_ledger
from settings.config import Config, IdentityMissing, missing_identity
from settings.defaults import paris_today


def _no_requests() -> int:
    """A local folder is read without a single request."""
    return 0


@dataclass(frozen=True)
class RunSetup:
    source: Source
    config: Config
    as_of: date
    out: Path
    ledger_store: LedgerStore
    outbox: Outbox
    mailer: Mailer
    #: The Prefect concurrency limit serialising runs on this source (None: local, safe alone).
    lock: str | None = None
    #: A preview (``services.preview``): documents go to ``OUT/apercu/``, nothing is changed.
    preview: bool = False
    #: How many HTTP requests the run has made to its source so far (local: always 0).
    source_requests: Callable[[], int] = _no_requests

    @property
    def report_dir(self) -> Path:
        """Where the run writes its documents and ``run-summary.json``: the out folder, or
        ``OUT/apercu`` for a preview (``outbox`` stays the out folder, whose documents a
        real run sends again after a failure)."""
        return self.out / PREVIEW_FOLDER if self.preview else self.out

    @property
    def delivery_outbox(self) -> Outbox:
        """Where this run writes the documents it issues."""
        return Outbox(self.report_dir) if self.preview else self.outbox

    def refuse_placeholder_identity(self) -> None:
        """Raise ``IdentityMissing`` before anything is claimed when this run would email
        letters while ``[cooperative]`` lacks a name, a sender or ``staff_email``. Writing to
        the out folder only (no SMTP) keeps the defaults."""
        if self.mailer.name == OutboxOnly.name:
            return
        missing = missing_identity(self.config)
        if missing:
            raise IdentityMissing(missing, self.config.path)

    @classmethod
    def create(
        cls,
        source: str,
        data: str | None,
        as_of: date | None,
        out: str,
        config_file: str | None,
        smtp_block: str | None = None,
        scope: Scope | None = None,
        preview: bool = False,
    ) -> RunSetup:
        """``local``: the CSV folder ``data`` (default: the bundled example), ledger in
        ``OUT/ledger.sqlite``. ``airtable``: the base of ``AIRTABLE_BASE_ID`` or ``[airtable]``,
        ledger in its Versements and Courriers tables; ``notion``: the databases of
        ``[notion.databases]``, ledger in Versements and Courriers there. ``data`` then only
        holds ``cae.toml``. ``config_file`` is ``--config``: a ``cae.toml`` elsewhere.
        ``preview``: the ledger is only read and the mailer sends nothing (``services.preview``);
        the run takes no lock, so it never keeps a real run waiting."""
        folder, config = find_config(source, data, config_file)
        out_dir = Path(out)
        reader: Source
        ledger: LedgerStore
        lock = None
        requests = _no_requests
        client = source_client(source, config)
        if isinstance(client, AirtableClient):
            reader, ledger = AirtableSource(client), AirtableLedger(client, scope)
            lock = lock_name(source, client.settings.base_id)
            requests = request_counter(client.adapter)
        elif isinstance(client, NotionClient):
            reader, ledger = NotionSource(client), NotionLedger(client, scope)
            ids = client.settings
            lock = lock_name(
                source,
                ids.data_sources.get("payouts") or ids.databases.get("payouts") or "",
            )
            requests = request_counter(client.transport)
        elif preview:
            reader, ledger = LocalWorkbook(folder), preview_ledger(out_dir / "ledger.sqlite")
        else:
            reader = LocalWorkbook(folder)
            ledger = SqliteLedger(out_dir / "ledger.sqlite", mark_batch=MARK_BATCH)
        if not preview:  # each outcome on disk as it happens (integrations.journal)
            ledger.journal = Journal(out_dir, lock or "local")
        mailer = choose_mailer(smtp_block)
        if preview:
            if source != "local":
                ledger = preview_ledger(ledger)
            mailer, lock = PreviewMailer(mailer.name), None
        return cls(
            source=reader,
            config=config,
            as_of=as_of or paris_today(),
            out=out_dir,
            ledger_store=ledger,
            outbox=Outbox(out_dir),
            mailer=mailer,
            lock=lock,
            preview=preview,
            source_requests=requests,
        )


class _Counting(Protocol):
    requests: int


def request_counter(counting: _Counting) -> Callable[[], int]:
    """How many requests ``counting`` (an Airtable adapter, a Notion transport) has sent so far."""
    return lambda: counting.requests


def lock_name(source: str, identity: str) -> str:
    """The limit serialising runs on one base or ledger: ``cae-airtable-app…``."""
    return f"cae-{source}-{re.sub(r'[^A-Za-z0-9_-]', '', identity) or 'default'}"


def choose_mailer(smtp_block: str | None) -> Mailer:
    """The SMTP block named by the run or ``CAE_SMTP_BLOCK``, then the environment, else none."""
    block = smtp_block or os.environ.get("CAE_SMTP_BLOCK")
    if block:
        return SmtpMailer(EmailServerCredentials.load(block))
    credentials = credentials_from_environment()
    return SmtpMailer(credentials) if credentials is not None else OutboxOnly()
