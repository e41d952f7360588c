"""``cae check``: is everything a run needs in place? One French line per problem.

    cae check [--source local|airtable|notion] [--data DIR] [--config FILE] [--smtp-block NAME]

The same settings as ``cae run`` (and the same environment). Exit status 1 when there is a
problem, 0 with a short summary when a run can go. The Airtable webhook is checked when
``CAE_AIRTABLE_WEBHOOK`` names its saved secret, as for ``cae serve``. The checks themselves are
``services.check``; this module only loads the webhook's secret (``cae.webhooks``) and prints.
"""

from __future__ import annotations

import argparse
import os

from integrations.airtable_check import SavedWebhook
from integrations.checks import Findings
from integrations.refusals import find_refusal
from settings.defaults import SOURCES


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check", help="vérifier la configuration avant une exécution (rien n'est modifié)"
    )
    check.add_argument("--source", choices=SOURCES, default="local", help="comme pour cae run")
    check.add_argument("--data", help="dossier des fichiers CSV, ou de cae.toml (comme cae run)")
    check.add_argument("--config", help="fichier cae.toml (comme cae run)")
    check.add_argument("--smtp-block", help="bloc Prefect EmailServerCredentials (comme cae run)")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Both load Prefect: see cae/cli.py's docstring.
    from cae.webhooks.airtable_registration import load_webhook_secret
    from services.check import check_setup

    findings = Findings()
    webhook = None
    saved = os.environ.get("CAE_AIRTABLE_WEBHOOK")
    if args.source == "airtable" and saved:
        try:
            webhook = SavedWebhook(load_webhook_secret(saved).webhook_id, saved)
        except Exception as error:  # a missing block or file, an unreadable secret
            findings.problems.append(
                f"Le secret du webhook Airtable « {saved} » (CAE_AIRTABLE_WEBHOOK) est "
                f"illisible ({error}) : recréez le webhook avec cae airtable webhook create "
                f"--save {saved}."
            )
    try:
        findings.extend(check_setup(args.source, args.data, args.config, args.smtp_block, webhook))
    except Exception as error:  # an answer no check expected: say so, never a traceback
        refusal = find_refusal(error)
        findings.problems.append(
            str(refusal) if refusal else f"La vérification s'est interrompue : {error}"
        )
    for problem in findings.problems:
        print(f"✗ {problem}")
    for note in findings.notes:
        print(f"Note : {note}")
    if not findings.ok:
        count = len(findings.problems)
        print(f"{count} problème(s) à corriger avant une exécution ; relancez ensuite cae check.")
        return 1
    print(f"Prêt pour cae run --source {args.source} : {' ; '.join(findings.ready)}.")
    return 0
