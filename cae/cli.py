"""The ``cae`` command line.

``cae run --data DIR --as-of YYYY-MM-DD --out DIR [--config FILE]`` runs the daily job once, as a
Prefect flow run. Exit status 0 when the run completed, data
errors included; 2 when it refused to email letters under a placeholder identity (SMTP set,
``[cooperative]`` incomplete); 1 when the run could not complete otherwise.

The commands that need Prefect (``run``, ``unlock``, ``serve``) import the flows when they run:
Prefect takes seconds to import, which ``cae ledger`` does not pay, and it reads its settings
when imported, after ``PREFECT_SERVER_ANALYTICS_ENABLED`` is set. There is no import cycle to
avoid: ``lint-imports`` checks that nothing below imports ``cae``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from cae import ledger_cli
from cae.webhooks.airtable_registration import (
    create_webhook,
    load_webhook_secret,
    refresh_webhook,
    save_webhook_secret,
)
from charter.model import LedgerStatus
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import init_base
from integrations.ledger import SqliteLedger
from integrations.notion import NotionClient, NotionSettings
from integrations.notion_init import init_workspace
from settings.config import Config, IdentityMissing
from settings.defaults import EXAMPLE_DIR


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"date AAAA-MM-JJ attendue, pas {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cae", description="Back office de la coopérative : règles de la charte et courriers."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="exécuter la tournée quotidienne une fois")
    run.add_argument(
        "--source",
        choices=["local", "airtable", "notion"],
        default="local",
        help="d'où lire les données (défaut : local, un dossier de fichiers CSV)",
    )
    run.add_argument(
        "--data", help="dossier des fichiers CSV (défaut : la coopérative d'exemple fournie)"
    )
    run.add_argument(
        "--as-of", type=_iso_date, help="jour considéré (défaut : aujourd'hui, heure de Paris)"
    )
    run.add_argument("--out", default="outbox", help="dossier de sortie (défaut : ./outbox)")
    run.add_argument("--config", help="fichier cae.toml (défaut : cae.toml du dossier de données)")
    run.add_argument(
        "--smtp-block",
        help="bloc Prefect EmailServerCredentials (défaut : CAE_SMTP_BLOCK, puis CAE_SMTP_HOST…)",
    )
    ledger_cli.add_commands(commands)
    airtable = commands.add_parser("airtable", help="préparer une base Airtable")
    airtable_verbs = airtable.add_subparsers(dest="verb", required=True)
    init = airtable_verbs.add_parser("init", help="créer les tables et champs dans une base vide")
    init.add_argument(
        "--with-example", action="store_true", help="charger aussi la coopérative d'exemple"
    )
    init.add_argument("--config", help="fichier cae.toml ([airtable] base_id, [mapping])")
    webhook = airtable_verbs.add_parser("webhook", help="webhook Airtable (créer, prolonger)")
    webhook.add_argument("action", choices=["create", "refresh"])
    webhook.add_argument("--url", help="adresse publique de /webhooks/airtable (pour create)")
    webhook.add_argument(
        "--save",
        default=os.environ.get("CAE_AIRTABLE_WEBHOOK", "cae-airtable-webhook"),
        help="bloc Secret Prefect (ou fichier) où garder l'identifiant et le secret",
    )
    webhook.add_argument("--config", help="fichier cae.toml")
    notion = commands.add_parser("notion", help="préparer des bases Notion")
    notion_verbs = notion.add_subparsers(dest="verb", required=True)
    notion_init = notion_verbs.add_parser("init", help="créer les bases sous une page Notion")
    notion_init.add_argument("--parent", help="id de la page (partagée avec l'intégration)")
    notion_init.add_argument(
        "--with-example", action="store_true", help="charger aussi la coopérative d'exemple"
    )
    notion_init.add_argument("--config", help="fichier cae.toml ([notion.databases], [mapping])")
    unlock = commands.add_parser(
        "unlock", help="libérer la source qu'une exécution interrompue tient encore"
    )
    unlock.add_argument("--source", choices=["airtable", "notion"], required=True)
    unlock.add_argument("--data", help="dossier contenant cae.toml (défaut : dossier courant)")
    unlock.add_argument("--config", help="fichier cae.toml")
    serve = commands.add_parser("serve", help="servir les déploiements et les webhooks")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument("--source", choices=["local", "airtable", "notion"], default="local")
    serve.add_argument("--data", help="dossier de données (comme pour cae run)")
    serve.add_argument("--out", default="outbox", help="dossier de sortie (défaut : ./outbox)")
    serve.add_argument("--config", help="fichier cae.toml, pour toutes les exécutions servies")
    serve.add_argument(
        "--smtp-block", help="bloc Prefect EmailServerCredentials (défaut : CAE_SMTP_BLOCK)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Offline machines: Prefect's local server must not try to phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.daily import daily  # Prefect: see the module's docstring

    try:
        summary = daily(
            data=args.data,
            as_of=args.as_of,
            out=args.out,
            config=args.config,
            smtp_block=args.smtp_block,
            source=args.source,
        )
    except IdentityMissing as exc:
        print(f"cae run : {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"cae run : l'exécution n'a pas pu aboutir : {exc}", file=sys.stderr)
        return 1
    print(
        f"{summary['as_of']} : {len(summary['documents'])} document(s) émis, "
        f"{len(summary['alerts'])} alerte(s), {len(summary['errors'])} erreur(s) de données. "
        f"Résumé : {os.path.join(args.out, 'run-summary.json')}"
    )
    failed = sum(1 for d in summary["documents"] if d["delivery"] == "failed")
    registered = sum(1 for d in summary["documents"] if d["registered"])
    # Locally the ledger is at hand; elsewhere the run's report lists earlier pending keys.
    waiting = [d["key"] for d in summary["documents"] if d["delivery"] == "pending"]
    if args.source == "local":
        ledger = SqliteLedger(Path(args.out) / "ledger.sqlite")
        waiting = [row.key for row in ledger.rows(LedgerStatus.PENDING)]
    if failed:
        print(f"{failed} envoi(s) en échec : ils seront retentés à la prochaine exécution.")
    if registered:
        print(f"{registered} courrier(s) à envoyer en recommandé AR (cae ledger list).")
    if waiting:
        print(f"{len(waiting)} document(s) en attente d'une personne (envoi non confirmé) :")
        for key in waiting:
            print(f"  {key}")
    return 0


def unlock_source(args: argparse.Namespace) -> int:
    """Free the one-run-at-a-time slot of an Airtable base or Notion ledger after a run was
    killed outright (it would otherwise lapse with the run's lease)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.locks import unlock  # Prefect: see the module's docstring
    from services.run_setup import RunSetup

    setup = RunSetup.create(args.source, args.data, None, "outbox", args.config)
    assert setup.lock is not None
    freed = unlock(setup.lock)
    print(
        f"{setup.lock} : {freed} place(s) libérée(s)."
        if freed
        else f"{setup.lock} : aucune exécution ne tenait la source."
    )
    return 0


Command = Callable[[argparse.Namespace], int]


def _reports_failure(prefix: str) -> Callable[[Command], Command]:
    """A command that fails prints ``<prefix> : <the reason>`` in French and exits with 1."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def guarded(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except Exception as exc:
                print(f"{prefix} : {exc}", file=sys.stderr)
                return 1

        return guarded

    return wrap


def _config(args: argparse.Namespace) -> Config:
    """``--config FILE``, else ``cae.toml`` in the current folder, else the defaults."""
    return Config.find(Path.cwd(), Path(args.config) if args.config else None)


def _airtable_client(config: Config) -> AirtableClient:
    """The base of ``AIRTABLE_BASE_ID`` or ``[airtable] base_id``, with its token."""
    return AirtableClient(AirtableSettings.from_environment(config.airtable.get("base_id")))


@_reports_failure("cae airtable init")
def airtable_init(args: argparse.Namespace) -> int:
    config = _config(args)
    example = EXAMPLE_DIR if args.with_example else None
    report = init_base(_airtable_client(config), config.schema, example)
    print(
        f"Tables créées : {', '.join(report.tables_created) or 'aucune'} ; "
        f"champs ajoutés : {len(report.fields_created)} ; "
        f"fiches chargées : {report.records_created}."
    )
    return 0


@_reports_failure("cae airtable webhook")
def airtable_webhook(args: argparse.Namespace) -> int:
    config = _config(args)
    client = _airtable_client(config)
    if args.action == "create":
        if not args.url:
            raise ValueError("--url est nécessaire pour créer le webhook")
        watched = {
            config.schema.label(key): [f.label for f in config.schema.table(key).fields]
            for key in ("missions", "members")
        }
        created = create_webhook(client, args.url, list(watched), watched)
        save_webhook_secret(args.save, created.webhook_id, created.mac_secret_base64)
        print(f"Webhook {created.webhook_id} créé, valable jusqu'au {created.expiration} ;")
        print(f"son secret est gardé dans « {args.save} ». Prolongez-le chaque semaine.")
    else:
        secret = load_webhook_secret(args.save)
        expiration = refresh_webhook(client, secret.webhook_id)
        print(f"Webhook {secret.webhook_id} prolongé jusqu'au {expiration}.")
    return 0


@_reports_failure("cae notion init")
def notion_init(args: argparse.Namespace) -> int:
    config = _config(args)
    client = NotionClient(NotionSettings.from_environment(config.notion))
    example = EXAMPLE_DIR if args.with_example else None
    report = init_workspace(client, config.schema, args.parent, example)
    print(
        f"Bases créées : {', '.join(report.created) or 'aucune'} ; "
        f"propriétés ajoutées : {len(report.properties_added)} ; "
        f"pages chargées : {report.records_created}."
    )
    print("À copier dans cae.toml :\n")
    print(report.toml())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "ledger":
        return ledger_cli.run(args)
    if args.command == "airtable" and args.verb == "init":
        return airtable_init(args)
    if args.command == "airtable":
        return airtable_webhook(args)
    if args.command == "notion":
        return notion_init(args)
    if args.command == "unlock":
        return unlock_source(args)
    if args.command == "serve":
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from cae.serve import Served, serve  # Prefect: see the module's docstring

        try:
            served = Served.resolve(args.source, args.data, args.out, args.config, args.smtp_block)
        except ValueError as exc:
            print(f"cae serve : {exc}", file=sys.stderr)
            return 1
        serve(args.host, args.port, served)
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
