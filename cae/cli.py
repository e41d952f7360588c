"""The ``cae`` command line.

``cae run --data DIR --as-of YYYY-MM-DD --out DIR [--config FILE]`` runs the daily job once, as a
Prefect flow run; with ``--mission ID`` or ``--member ID``, the targeted run on that record.
``cae report --month YYYY-MM`` runs the monthly report. Exit status 0 when the run completed,
data errors included; 2 when the command is refused before Prefect starts (a wrong option, a
missing folder, a bad ``cae.toml``, a missing token: ``cae/preflight.py``) or when Airtable or
Notion refused it before it claimed anything (a sentence says what to fix: ``cae.failures``);
2 as well when it refused to email letters under a placeholder identity (SMTP
set, ``[cooperative]`` incomplete); 1 when the run itself could not complete.

``cae check`` (``cae/check_cli.py``) checks the same settings without running anything.

The commands that need Prefect (``run``, ``report``, ``unlock``, ``serve``, ``check``) import it
when they run: Prefect takes seconds to import, which ``cae ledger`` and a refused command do
not pay, and it reads its settings when imported, after ``cae/terminal.py`` set them. There is
no import cycle to avoid: ``lint-imports`` checks that nothing below imports ``cae``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cae import check_cli, ledger_cli, report_cli
from cae.arguments import FrenchParser, add_run_options, iso_date
from cae.failures import report_failure
from cae.terminal import launch
from charter.model import LedgerStatus
from integrations.ledger import SqliteLedger
from settings.config import Config, IdentityMissing
from settings.defaults import EXAMPLE_DIR

if TYPE_CHECKING:
    from integrations.airtable import AirtableClient


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(
        prog="cae", description="Back office de la coopérative : règles de la charte et courriers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="commande")
    run = commands.add_parser("run", help="exécuter la tournée quotidienne une fois")
    add_run_options(run)
    run.add_argument(
        "--as-of", type=iso_date, help="jour considéré (défaut : aujourd'hui, heure de Paris)"
    )
    run.add_argument(
        "--smtp-block",
        help="bloc Prefect EmailServerCredentials (défaut : CAE_SMTP_BLOCK, puis CAE_SMTP_HOST…)",
    )
    run.add_argument(
        "--preview",
        action="store_true",
        help="aperçu : produire dans OUT/apercu/ ce que la tournée émettrait, sans rien envoyer "
        "ni réserver",
    )
    target = run.add_mutually_exclusive_group()
    target.add_argument("--mission", help="seulement ce qui concerne cette mission (son id)")
    target.add_argument("--member", help="seulement ce qui concerne ce membre (son id)")
    report_cli.add_command(commands)
    check_cli.add_command(commands)
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
    notifications = commands.add_parser(
        "notifications", help="prévenir l'équipe des exécutions en échec ou à vérifier"
    )
    notifications_verbs = notifications.add_subparsers(dest="verb", required=True)
    notifications_setup = notifications_verbs.add_parser(
        "setup",
        help="créer ou mettre à jour les automatisations Prefect (webhook : "
        "CAE_NOTIFY_WEBHOOK_URL)",
    )
    notifications_setup.add_argument(
        "--block",
        help="bloc de notification Prefect TYPE/NOM (défaut : custom-webhook/"
        "cae-notifications, créé depuis CAE_NOTIFY_WEBHOOK_URL)",
    )
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
    serve.add_argument(
        "--runs-in-subprocess",
        action="store_true",
        help="les exécutions lancées par un webhook dans un processus à part, par Prefect "
        "(défaut : dans celui de cae serve, sans attendre)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from flows.daily import daily  # Prefect: see the module's docstring
    from flows.targeted import targeted

    options = {
        "data": args.data,
        "as_of": args.as_of,
        "out": args.out,
        "config": args.config,
        "smtp_block": args.smtp_block,
        "source": args.source,
        "preview": args.preview,
    }
    kind, record = ("mission", args.mission) if args.mission else ("member", args.member)
    try:
        summary = targeted(kind=kind, record=record, **options) if record else daily(**options)
    except IdentityMissing as exc:
        print(f"cae run : {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        return report_failure("cae run", exc, detail=f"l'exécution n'a pas pu aboutir : {exc}")
    folder = os.path.join(args.out, "apercu") if args.preview else args.out
    where = "" if record else f" Résumé : {os.path.join(folder, 'run-summary.json')}"
    print(
        f"{summary['as_of']} : {len(summary['documents'])} document(s) émis, "
        f"{len(summary['alerts'])} alerte(s), {len(summary['errors'])} erreur(s) de données."
        f"{where}"
    )
    if args.preview:
        print(f"Aperçu : rien n'a été envoyé ni réservé ; les documents sont dans {folder}.")
        return 0
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
    """A command that fails prints ``<prefix> : <the reason>`` in French (``cae.failures``)."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def guarded(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except Exception as exc:
                return report_failure(prefix, exc)

        return guarded

    return wrap


def _config(args: argparse.Namespace) -> Config:
    """``--config FILE``, else ``cae.toml`` in the current folder, else the defaults."""
    return Config.find(Path.cwd(), Path(args.config) if args.config else None)


def _airtable_client(config: Config) -> AirtableClient:
    """The base of ``AIRTABLE_BASE_ID`` or ``[airtable] base_id``, with its token."""
    # pyairtable takes a second to import: only the commands that use it pay for it.
    from integrations.airtable import AirtableClient, AirtableSettings

    return AirtableClient(AirtableSettings.from_environment(config.airtable.get("base_id")))


@_reports_failure("cae airtable init")
def airtable_init(args: argparse.Namespace) -> int:
    from integrations.airtable_init import init_base  # see _airtable_client

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
    # The receiver's package loads Prefect: see the module's docstring.
    from cae.webhooks.airtable_registration import (
        create_webhook,
        load_webhook_secret,
        refresh_webhook,
        save_webhook_secret,
    )

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
    from integrations.notion import NotionClient, NotionSettings  # see _airtable_client
    from integrations.notion_init import init_workspace

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
        return launch(args, run)
    if args.command == "report":
        return launch(args, report_cli.run)
    if args.command == "check":
        return check_cli.run(args)
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
    if args.command == "notifications":
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from cae.notifications import NotificationError, setup  # Prefect: see the docstring

        try:
            print("\n".join(setup(args.block)))
        except NotificationError as exc:
            print(f"cae notifications : {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "serve":
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from cae.serve import Served, serve  # Prefect: see the module's docstring

        try:
            served = Served.resolve(args.source, args.data, args.out, args.config, args.smtp_block)
        except ValueError as exc:
            print(f"cae serve : {exc}", file=sys.stderr)
            return 1
        serve(args.host, args.port, served, in_process=not args.runs_in_subprocess)
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
