"""The ``cae`` command line.

``cae run --data DIR --as-of YYYY-MM-DD --out DIR [--config FILE]`` runs the daily job once, as a
Prefect flow run (DATA-MODEL.md, "The command line"). Exit status 0 when the run completed, data
errors included; non-zero only when the run itself could not complete.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from cae import ledger_cli
from charter.model import LedgerStatus
from integrations.ledger import SqliteLedger


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
        choices=["local", "airtable"],
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
    return parser


def run(args: argparse.Namespace) -> int:
    # Offline machines: Prefect's local server must not try to phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.daily import daily

    try:
        summary = daily(
            data=args.data,
            as_of=args.as_of,
            out=args.out,
            config=args.config,
            smtp_block=args.smtp_block,
            source=args.source,
        )
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


def airtable_init(args: argparse.Namespace) -> int:
    from cae.config import Config
    from cae.defaults import EXAMPLE_DIR
    from integrations.airtable import AirtableClient, AirtableSettings
    from integrations.airtable_init import init_base

    try:
        config = Config.find(Path.cwd(), Path(args.config) if args.config else None)
        settings = AirtableSettings.from_environment(config.airtable.get("base_id"))
        report = init_base(
            AirtableClient(settings), config.schema, EXAMPLE_DIR if args.with_example else None
        )
    except Exception as exc:
        print(f"cae airtable init : {exc}", file=sys.stderr)
        return 1
    print(
        f"Tables créées : {', '.join(report.tables_created) or 'aucune'} ; "
        f"champs ajoutés : {len(report.fields_created)} ; "
        f"fiches chargées : {report.records_created}."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "ledger":
        return ledger_cli.run(args)
    if args.command == "airtable":
        return airtable_init(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
