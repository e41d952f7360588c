"""What a flow run works with, resolved from its parameters: source, ledger, out folder, mailer."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect_email import EmailServerCredentials

from charter.scope import Scope
from integrations.airtable import AirtableClient
from integrations.airtable_ledger import AirtableLedger
from integrations.airtable_source import AirtableSource
from integrations.base import Source
from integrations.ledger import LedgerStore, SqliteLedger
from integrations.notion import NotionClient
from integrations.notion_ledger import NotionLedger
from integrations.notion_source import NotionSource
from integrations.outbox import Outbox
from integrations.remote import find_config, source_client
from integrations.smtp import SmtpMailer, credentials_from_environment
from integrations.workbook import LocalWorkbook
from services.delivery import Mailer, OutboxOnly
from settings.config import Config
from settings.defaults import paris_today


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
    ) -> RunSetup:
        """``local``: the CSV folder ``data`` (default: the bundled example), ledger in
        ``OUT/ledger.sqlite``. ``airtable``: the base of ``AIRTABLE_BASE_ID`` or ``[airtable]``,
        ledger in its Versements and Courriers tables; ``notion``: the databases of
        ``[notion.databases]``, ledger in Versements and Courriers there. ``data`` then only
        holds ``cae.toml``. ``config_file`` is ``--config``: a ``cae.toml`` elsewhere."""
        folder, config = find_config(source, data, config_file)
        out_dir = Path(out)
        reader: Source
        ledger: LedgerStore
        lock = None
        client = source_client(source, config)
        if isinstance(client, AirtableClient):
            reader, ledger = AirtableSource(client), AirtableLedger(client, scope)
            lock = lock_name(source, client.settings.base_id)
        elif isinstance(client, NotionClient):
            reader, ledger = NotionSource(client), NotionLedger(client, scope)
            ids = client.settings
            lock = lock_name(
                source,
                ids.data_sources.get("payouts") or ids.databases.get("payouts") or "",
            )
        else:
            reader, ledger = LocalWorkbook(folder), SqliteLedger(out_dir / "ledger.sqlite")
        return cls(
            source=reader,
            config=config,
            as_of=as_of or paris_today(),
            out=out_dir,
            ledger_store=ledger,
            outbox=Outbox(out_dir),
            mailer=choose_mailer(smtp_block),
            lock=lock,
        )


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
