"""What a flow run works with, resolved from its parameters: source, ledger, out folder, mailer."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect_email import EmailServerCredentials

from charter.scope import Scope
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_ledger import AirtableLedger
from integrations.airtable_source import AirtableSource
from integrations.base import Source
from integrations.ledger import LedgerStore, SqliteLedger
from integrations.notion import NotionClient, NotionSettings
from integrations.notion_ledger import NotionLedger
from integrations.notion_source import NotionSource
from integrations.outbox import Outbox
from integrations.smtp import SmtpMailer, credentials_from_environment
from integrations.workbook import LocalWorkbook
from services.delivery import Mailer, OutboxOnly
from settings.config import Config, IdentityMissing, missing_identity
from settings.defaults import EXAMPLE_DIR, paris_today

SOURCES = ("local", "airtable", "notion")


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
    ) -> RunSetup:
        """``local``: the CSV folder ``data`` (default: the bundled example), ledger in
        ``OUT/ledger.sqlite``. ``airtable``: the base of ``AIRTABLE_BASE_ID`` or ``[airtable]``,
        ledger in its Versements and Courriers tables; ``notion``: the databases of
        ``[notion.databases]``, ledger in Versements and Courriers there. ``data`` then only
        holds ``cae.toml``. ``config_file`` is ``--config``: a ``cae.toml`` elsewhere."""
        if source not in SOURCES:
            raise ValueError(f"Source inconnue : {source} (possibles : {', '.join(SOURCES)})")
        folder = Path(data) if data else (EXAMPLE_DIR if source == "local" else Path.cwd())
        if not folder.is_dir():
            raise FileNotFoundError(f"Dossier de données introuvable : {folder}")
        config = Config.find(folder, Path(config_file) if config_file else None)
        out_dir = Path(out)
        reader: Source
        ledger: LedgerStore
        lock = None
        if source == "airtable":
            client = AirtableClient(airtable_settings(config))
            reader, ledger = AirtableSource(client), AirtableLedger(client, scope)
            lock = lock_name(source, client.settings.base_id)
        elif source == "notion":
            notion = NotionClient(NotionSettings.from_environment(config.notion))
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
            config=config,
            as_of=as_of or paris_today(),
            out=out_dir,
            ledger_store=ledger,
            outbox=Outbox(out_dir),
            mailer=choose_mailer(smtp_block),
            lock=lock,
        )


def airtable_settings(config: Config) -> AirtableSettings:
    """The base of ``AIRTABLE_BASE_ID`` or ``[airtable] base_id``, the token from its Secret
    block or the environment."""
    return AirtableSettings.from_environment(config.airtable.get("base_id"))


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
