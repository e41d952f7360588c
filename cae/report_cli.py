"""``cae report``: the monthly transparency report, by hand, as its deployment runs it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cae.arguments import add_run_options, iso_date, iso_month
from charter import french
from charter.dates import add_months, first_of_month, month_key
from settings.defaults import paris_today


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``cae report [--month YYYY-MM | --as-of YYYY-MM-DD]`` and the options of a run."""
    report = commands.add_parser("report", help="établir le rapport mensuel de transparence")
    add_run_options(report)
    period = report.add_mutually_exclusive_group()
    period.add_argument("--month", type=iso_month, help="mois AAAA-MM (défaut : le mois dernier)")
    period.add_argument(
        "--as-of", type=iso_date, help="jour du rapport : il porte sur le mois précédent"
    )


def run(args: argparse.Namespace) -> int:
    from flows.monthly import monthly_report  # Prefect: see cae/cli.py's docstring

    month = args.month or month_key(add_months(first_of_month(args.as_of or paris_today()), -1))
    try:
        figures = monthly_report(
            month=month, source=args.source, data=args.data, out=args.out, config=args.config
        )
    except Exception as exc:
        print(f"cae report : le rapport n'a pas pu être établi : {exc}", file=sys.stderr)
        return 1
    print(
        f"Rapport mensuel {figures['period']} : {len(figures['contributions'])} relevé(s) de "
        f"contribution ({french.money(figures['contributions_total'])}), "
        f"{len(figures['commissions'])} commission(s) "
        f"({french.money(figures['commissions_total'])}), {len(figures['alerts'])} alerte(s). "
        f"PDF : {Path(args.out) / 'reports' / f'rapport-{month}.pdf'}"
    )
    return 0
