"""``cae check``: everything a run needs, checked before the first run, changing nothing.

With the same settings as ``cae run`` (``--source``, ``--data``, ``--config``,
``--smtp-block`` and the environment), it reads ``cae.toml``, then asks the source
(``integrations.local_check``, ``airtable_check``, ``notion_check``), the mail server when one
is configured (``smtp_check``: no mail is sent) and the Prefect server when
``PREFECT_API_URL`` is set (``prefect_check``). Each problem is one French sentence saying
what to fix, named once: a check that cannot go on without what failed (a refused token, an
unreadable ``cae.toml``) stops there rather than repeat it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from prefect_email import EmailServerCredentials

from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_check import SavedWebhook, check_airtable
from integrations.checks import Findings
from integrations.local_check import check_folder
from integrations.notion import NotionClient, NotionSettings
from integrations.notion_check import check_notion
from integrations.prefect_check import check_prefect
from integrations.smtp import credentials_from_environment
from integrations.smtp_check import check_smtp
from settings.config import Config, ConfigError, IdentityMissing, missing_identity
from settings.defaults import SOURCES, given_folder


def check_setup(
    source: str,
    data: str | None,
    config_file: str | None,
    smtp_block: str | None = None,
    webhook: SavedWebhook | None = None,
    env: Mapping[str, str] | None = None,
) -> Findings:
    """What ``cae run`` with the same arguments would meet; ``webhook``: the Airtable webhook
    saved for the receiver, if any."""
    environment = os.environ if env is None else env
    findings = Findings()
    if source not in SOURCES:
        findings.problems.append(f"Source inconnue : {source} (possibles : {', '.join(SOURCES)}).")
        return findings
    folder = given_folder(source, data)
    config = _config(findings, folder, config_file)
    if config is not None:
        findings.extend(_check_source(source, folder, config, webhook, environment))
    findings.extend(_check_mail(smtp_block, environment, config))
    api_url = environment.get("PREFECT_API_URL")
    if api_url:
        findings.extend(check_prefect(api_url))
    return findings


def _config(findings: Findings, folder: Path, config_file: str | None) -> Config | None:
    """``cae.toml`` as a run finds it, or ``None`` (and the problem)."""
    if not folder.is_dir():
        findings.problems.append(
            f"Le dossier de données {folder} n'existe pas : indiquez le bon avec --data."
        )
        return None
    try:
        config = Config.find(folder, Path(config_file) if config_file else None)
    except ConfigError as error:
        findings.problems.append(f"Configuration inutilisable : {error}.")
        return None
    where = str(config.path) if config.path else "aucun cae.toml, réglages par défaut"
    findings.ready.append(f"configuration lue ({where})")
    return config


def _check_source(
    source: str,
    folder: Path,
    config: Config,
    webhook: SavedWebhook | None,
    env: Mapping[str, str],
) -> Findings:
    if source == "local":
        return check_folder(folder, config.schema)
    findings = Findings()
    try:
        if source == "airtable":
            base_id = config.airtable.get("base_id")
            airtable = AirtableClient(AirtableSettings.from_environment(base_id, env))
            return check_airtable(airtable, config.schema, webhook)
        notion = NotionClient(NotionSettings.from_environment(config.notion, env))
    except ValueError as error:  # no token, no base: the settings say which
        findings.problems.append(str(error))
        return findings
    return check_notion(notion, config.schema)


def _check_mail(smtp_block: str | None, env: Mapping[str, str], config: Config | None) -> Findings:
    """The SMTP server a run would send through, if any, and the identity its letters would
    carry: a run refuses to email under a placeholder one (``missing_identity``)."""
    findings = Findings()
    block = smtp_block or env.get("CAE_SMTP_BLOCK")
    try:
        if block:
            credentials = EmailServerCredentials.load(block, _sync=True)  # type: ignore[call-arg]
        else:
            credentials = credentials_from_environment(env)
    except ValueError as error:
        what = f"le bloc SMTP « {block} »" if block else "les réglages CAE_SMTP_…"
        findings.problems.append(f"Impossible de lire {what} : {error}.")
        return findings
    if credentials is None:
        findings.ready.append("pas de SMTP : les courriels restent dans le dossier de sortie")
        return findings
    missing = missing_identity(config) if config is not None else []
    if missing:
        findings.problems.append(str(IdentityMissing(missing, config.path if config else None)))
    findings.extend(check_smtp(credentials))
    return findings
