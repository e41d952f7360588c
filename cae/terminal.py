"""How ``cae run`` and ``cae report`` start, and what they show in a terminal.

``launch`` checks the command before Prefect starts (``cae/preflight.py``), sets Prefect's
settings, then runs the command with a ``Terminal`` following the run.

``prepare_prefect`` runs before Prefect is imported, since Prefect reads its settings then:

- its temporary server gets ``FIRST_START_SECONDS`` to start, not Prefect's 20 s, which a
  first start on a fresh machine (the server creates its database) can exceed, unless the user
  set ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` in the environment or in the active
  Prefect profile;
- by default Prefect's console shows errors only: the run's log lines still go to the Prefect
  server and its UI (the ``api`` handler of Prefect's logging configuration is untouched).
  ``--verbose`` leaves Prefect's console as Prefect has it.

``Terminal`` then prints the run's steps, one line each, and a Rich progress bar while more
than ``BAR_FROM`` letters are rendered or sent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable, MutableMapping
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cae.failures import report_failure
from cae.preflight import USAGE, UsageError, check_run
from integrations.remote import check_source
from services import progress

STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
#: Seconds the temporary server may take to start (Prefect's own default is 20). A start took
#: 73 s on a 2-core machine busy with other work; a server that cannot start is reported after
#: this long, a rare case, while a slow start that fails the run is a common one.
FIRST_START_SECONDS = 300
#: Prefect's console handler (``logging.yml`` of Prefect, overridable by the environment).
CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
#: A batch of more letters than this shows a progress bar.
BAR_FROM = 50

#: Each task of the flows, as the staff read it.
STEPS = {
    "load-records": "Lecture des fiches",
    "read-ledger": "Lecture du registre",
    "evaluate-charter": "Application de la charte",
    "claim-documents": "Inscription au registre des documents dus",
    "render-documents": "Mise en page des courriers",
    "deliver-documents": "Envoi des courriers",
    "write-back-statuses": "Mise à jour des statuts",
    "publish-report": "Publication du rapport de l'exécution",
    "compile-monthly-report": "Calcul du rapport mensuel",
    "publish-monthly-report": "Publication du rapport mensuel",
}


def launch(args: argparse.Namespace, command: Callable[[argparse.Namespace], int]) -> int:
    """Refuse ``command`` at once (exit status 2) when its folder, ``cae.toml`` or settings
    are wrong; else run it with the terminal following its steps."""
    try:
        config = check_run(args.source, args.data, args.config)
    except UsageError as exc:
        print(f"cae {args.command} : {exc}", file=sys.stderr)
        return USAGE
    try:
        # A token Airtable or Notion refuse is told at once, before Prefect is even imported.
        check_source(args.source, config)
    except Exception as exc:
        detail = f"l'exécution n'a pas pu aboutir : {exc}"
        return report_failure(f"cae {args.command}", exc, detail=detail)
    prepare_prefect(args.verbose)
    terminal = Terminal()
    terminal.say("Démarrage de Prefect…")
    with progress.watching(terminal):
        return command(args)


def prepare_prefect(verbose: bool, env: MutableMapping[str, str] = os.environ) -> None:
    """Set Prefect's settings for a run from the terminal; call before importing Prefect."""
    # Offline machines: Prefect's local server must not try to phone home, nor its client,
    # which in a terminal would also print a notice about it (the DO_NOT_TRACK convention).
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    if not user_setting(STARTUP_TIMEOUT, env):
        env[STARTUP_TIMEOUT] = str(FIRST_START_SECONDS)
    if not verbose:
        env.setdefault(CONSOLE_LEVEL, "ERROR")


def user_setting(name: str, env: MutableMapping[str, str]) -> str | None:
    """The value the user gave the Prefect setting ``name``: in the environment, else in the
    active profile of ``profiles.toml`` (``PREFECT_PROFILES_PATH``, else in ``PREFECT_HOME``,
    by default ``~/.prefect``); ``None`` when neither sets it."""
    if env.get(name):
        return env[name]
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # Prefect will say what is wrong with the file: not our concern here
    active = env.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = profiles.get("profiles", {}).get(active, {}).get(name)
    return None if value in (None, "") else str(value)


class Terminal:
    """A ``services.progress`` watcher that prints each step and shows long batches' bar."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._bar: Progress | None = None

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def step(self, name: str) -> None:
        if name in STEPS:
            self.say(f"  · {STEPS[name]}")

    def start(self, label: str, total: int) -> None:
        if total <= BAR_FROM or not self.console.is_terminal:
            return  # a bar in a file or a pipe would only be noise
        self._bar = Progress(
            TextColumn("    {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._bar.add_task(label, total=total)
        self._bar.start()

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._bar.task_ids[0])

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
