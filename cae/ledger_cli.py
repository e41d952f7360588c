"""``cae ledger``: what was sent, what failed, what waits for a person.

    cae ledger list [--kind K] [--status S] [--member NAME]
    cae ledger show KEY
    cae ledger mark KEY [KEY …] --as sent|failed
    cae ledger register KEY NUMBER [--posted-on YYYY-MM-DD]
    cae ledger export [--csv FILE]

Each takes ``--out DIR`` (default ``./outbox``): the ledger is ``DIR/ledger.sqlite``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from charter.model import LedgerStatus
from integrations.ledger import LedgerRow, SqliteLedger
from settings.defaults import paris_today

EXPORT_COLUMNS = (
    "key",
    "kind",
    "status",
    "issued_on",
    "member",
    "mission",
    "amount",
    "registered",
    "registered_number",
    "posted_on",
    "document",
)

#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A plain amount such as ``-150.00`` (a negative payout) is a number, not a formula.
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ledger = commands.add_parser("ledger", help="consulter et mettre à jour le registre")
    verbs = ledger.add_subparsers(dest="verb", required=True)

    def verb(name: str, help_: str) -> argparse.ArgumentParser:
        parser = verbs.add_parser(name, help=help_)
        parser.add_argument("--out", default="outbox", help="dossier de sortie (défaut : ./outbox)")
        return parser

    listing = verb("list", "lister les documents du registre")
    listing.add_argument("--kind", help="type de document (payout_mid, renewal…)")
    listing.add_argument("--status", choices=[s.value for s in LedgerStatus])
    listing.add_argument("--member", help="nom du membre")
    verb("show", "afficher un document").add_argument("key")
    mark = verb("mark", "marquer des clés comme envoyées ou en échec")
    mark.add_argument("keys", nargs="+", metavar="KEY")
    mark.add_argument("--as", dest="status", required=True, choices=["sent", "failed"])
    register = verb("register", "noter le n° et la date d'envoi d'un recommandé")
    register.add_argument("key")
    register.add_argument("number")
    register.add_argument("--posted-on", type=date.fromisoformat, help="défaut : aujourd'hui")
    export = verb("export", "exporter le registre en CSV")
    export.add_argument("--csv", type=Path, help="fichier à écrire (défaut : la sortie standard)")


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    path = Path(args.out) / "ledger.sqlite"
    if not path.is_file():
        print(f"cae ledger : aucun registre dans {args.out}", file=sys.stderr)
        return 1
    store = SqliteLedger(path)
    try:
        if args.verb == "list":
            status = LedgerStatus(args.status) if args.status else None
            rows = store.rows(status, kind=args.kind, member=args.member)
            for row in rows:
                print(_line(row), file=stdout)
            print(f"{len(rows)} document(s)", file=stdout)
        elif args.verb == "show":
            row = store.row(args.key)
            if row is None:
                raise KeyError(f"Clé absente du registre : {args.key}")
            print(json.dumps(_as_dict(row), ensure_ascii=False, indent=2), file=stdout)
        elif args.verb == "mark":
            for key in args.keys:
                store.mark(key, LedgerStatus(args.status))
                print(f"{key} : {args.status}", file=stdout)
        elif args.verb == "register":
            posted_on = args.posted_on or paris_today()
            store.register(args.key, args.number, posted_on)
            print(f"{args.key} : recommandé n° {args.number} posté le {posted_on}", file=stdout)
        elif args.verb == "export":
            text = export_csv(store.rows())
            if args.csv:
                args.csv.write_text(text, encoding="utf-8-sig")
            else:
                stdout.write(text)
    except KeyError as exc:
        print(f"cae ledger : {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


def _line(row: LedgerRow) -> str:
    amount = f" {row.amount} €" if row.amount is not None else ""
    registered = " [recommandé AR" + (
        f" n° {row.registered_number}]" if row.registered_number else "]"
    )
    return f"{row.status.value:<10} {row.issued_on} {row.key}  ({row.member or '—'}){amount}" + (
        registered if row.registered else ""
    )


def _as_dict(row: LedgerRow) -> dict[str, object]:
    values = {name: _cell(getattr(row, name)) for name in EXPORT_COLUMNS}
    values["details"] = row.details
    return values


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, LedgerStatus):
        return value.value
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def neutralise(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe; a plain
    amount stays a number.

    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-150.00"), neutralise("-1+2")
    ('-150.00', "'-1+2")
    """
    if PLAIN_NUMBER.fullmatch(text):
        return text
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def export_csv(rows: list[LedgerRow]) -> str:
    """The ledger as CSV for a spreadsheet, formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(_cell(getattr(row, name))) for name in EXPORT_COLUMNS])
    return buffer.getvalue()
