"""What a flow run works with, resolved from its parameters: source, ledger, out folder, mailer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cae.config import Config
from cae.defaults import EXAMPLE_DIR, paris_today
from charter.scope import Scope
from flows.locks import lock_name
from integrations.base import Source
from integrations.ledger import LedgerStore, SqliteLedger
from integrations.outbox import Outbox
from integrations.smtp import SmtpMailer, credentials_from_environment
from integrations.workbook import LocalWorkbook
from tasks.documents import Mailer, OutboxOnly

SOURCES = ("local", "airtable", "notion")


@dataclass(frozen=True)
class RunSetup:
    source: Source
    config: Config
    as_of: date
    out: Path
    ledger: LedgerStore
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
        config: str | None,
        smtp_block: str | None = None,
        scope: Scope | None = None,
    ) -> RunSetup:
        """``local``: the CSV folder ``data`` (default: the bundled example), ledger in
        ``OUT/ledger.sqlite``. ``airtable``: the base of ``AIRTABLE_BASE_ID`` or ``[airtable]``,
        ledger in its Versements and Courriers tables; ``notion``: the databases of
        ``[notion.databases]``, ledger in Versements and Courriers there. ``data`` then only
        holds ``cae.toml``."""
        if source not in SOURCES:
            raise ValueError(f"Source inconnue : {source} (possibles : {', '.join(SOURCES)})")
        folder = Path(data) if data else (EXAMPLE_DIR if source == "local" else Path.cwd())
        if not folder.is_dir():
            raise FileNotFoundError(f"Dossier de données introuvable : {folder}")
        settings = Config.find(folder, Path(config) if config else None)
        out_dir = Path(out)
        reader: Source
        ledger: LedgerStore
        lock = None
        if source == "airtable":
            from integrations.airtable import AirtableClient
            from integrations.airtable_ledger import AirtableLedger
            from integrations.airtable_source import AirtableSource

            client = AirtableClient(settings.airtable_settings())
            reader, ledger = AirtableSource(client), AirtableLedger(client, scope)
            lock = lock_name(source, client.settings.base_id)
        elif source == "notion":
            from integrations.notion import NotionClient, NotionSettings
            from integrations.notion_ledger import NotionLedger
            from integrations.notion_source import NotionSource

            notion = NotionClient(NotionSettings.from_environment(settings.notion))
            reader, ledger = NotionSource(notion), NotionLedger(notion, scope)
            ids = notion.settings
            lock = lock_name(
                source,
                ids.data_sources.get("payouts") or ids.databases.get("payouts") or "",
            )
        else:
            reader, ledger = LocalWorkbook(folder), SqliteLedger(out_dir / "ledger.sqlite")
        return cls(
            source=reader,
            config=settings,
            as_of=as_of or paris_today(),
            out=out_dir,
            ledger=ledger,
            outbox=Outbox(out_dir),
            mailer=choose_mailer(smtp_block),
            lock=lock,
        )


def choose_mailer(smtp_block: str | None) -> Mailer:
    """The SMTP block named by the run or ``CAE_SMTP_BLOCK``, then the environment, else none."""
    block = smtp_block or os.environ.get("CAE_SMTP_BLOCK")
    if block:
        from prefect_email import EmailServerCredentials

        return SmtpMailer(EmailServerCredentials.load(block))
    credentials = credentials_from_environment()
    return SmtpMailer(credentials) if credentials is not None else OutboxOnly()
