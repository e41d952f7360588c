"""The command line's parser, which refuses a wrong command in one French line, and the
options every run takes.

argparse prints its usage and an English message, then exits with status 2. The staff read
French, and one line is enough to say what is wrong: ``FrenchParser`` says it so, with the same
exit status. The messages argparse writes are translated by pattern (those of Python 3.11 to
3.13); one it does not know is shown as it is rather than lost.

>>> french("argument --source: invalid choice: 'csv' (choose from 'local', 'airtable')")
"option --source : choix impossible : 'csv' (possibles : 'local', 'airtable')"
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from typing import Any, NoReturn

from charter.dates import month_key
from settings.defaults import SOURCES

#: argparse's messages, as regular expressions, and their French: one rule a line,
#: ``pattern  =>  replacement`` (a message catalogue, read once into ``TRANSLATIONS``).
CATALOGUE = r"""
the following arguments are required: (.*)  =>  il manque : \1
unrecognized arguments: (.*)  =>  arguments inconnus : \1
ambiguous option: (\S+) could match (.*)  =>  option ambiguë : \1 (\2 ?)
one of the arguments (.*) is required  =>  une de ces options est nécessaire : \1
invalid choice: (.*) \(choose from (.*)\)  =>  choix impossible : \1 (possibles : \2)
invalid (\w+) value: (.*)  =>  valeur impossible : \2
expected one argument  =>  une valeur est attendue
expected at least one argument  =>  au moins une valeur est attendue
expected at most one argument  =>  au plus une valeur est attendue
expected (\d+) arguments?  =>  \1 valeur(s) attendue(s)
not allowed with argument (.*)  =>  incompatible avec \1
ignored explicit argument (.*)  =>  valeur en trop : \1
"""
TRANSLATIONS = tuple(tuple(line.split("  =>  ")) for line in CATALOGUE.strip().splitlines())


def french(message: str) -> str:
    """argparse's ``message`` in French: ``argument --x: …`` becomes ``option --x : …``."""
    prefix = ""
    found = re.match(r"argument (\S+?): (.*)", message, re.DOTALL)
    if found:
        name = f"option {found[1]}" if found[1].startswith("-") else found[1]
        prefix, message = f"{name} : ", found[2]
    for pattern, replacement in TRANSLATIONS:
        if re.fullmatch(pattern, message, re.DOTALL):
            message = re.sub(pattern, replacement, message, count=1, flags=re.DOTALL)
            break
    return " ".join(f"{prefix}{message}".split())


class FrenchHelp(argparse.HelpFormatter):
    """argparse's help, its usage line introduced in French."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose refusals are one French line on stderr, exit status 2, and
    whose help is in French. Its sub-commands' parsers are of the same class (argparse's
    default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", FrenchHelp)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="afficher cette aide")

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog} : {french(message)}", file=sys.stderr)
        sys.exit(2)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"date AAAA-MM-JJ attendue, pas {text!r}") from exc


def iso_month(text: str) -> str:
    try:
        return month_key(date.fromisoformat(f"{text}-01"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"mois AAAA-MM attendu, pas {text!r}") from exc


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """What a run reads, where it writes, what it shows: the options of ``run`` and
    ``report``."""
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="local",
        help="d'où lire les données (défaut : local, un dossier de fichiers CSV)",
    )
    parser.add_argument(
        "--data", help="dossier des fichiers CSV (défaut : la coopérative d'exemple fournie)"
    )
    parser.add_argument("--out", default="outbox", help="dossier de sortie (défaut : ./outbox)")
    parser.add_argument(
        "--config", help="fichier cae.toml (défaut : cae.toml du dossier de données)"
    )
    parser.add_argument("--verbose", action="store_true", help="afficher le journal de Prefect")
