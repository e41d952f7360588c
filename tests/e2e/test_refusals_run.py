"""``cae run`` refused by Airtable or Notion: one French line that says what to check, the API's
code in parentheses, no traceback; exit status 2 when nothing was claimed, 1 after claims; the
flow run ends Failed with the sentence as its message and its report says what to fix; a rerun
after the fix finishes the job without issuing anything twice.

Real pyairtable and notion-client against the loopback emulators, the real Prefect server.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.sorting import FlowRunSort

from cae.cli import main
from emulators.airtable import SCOPES, AirtableEmulator
from emulators.notion import NotionEmulator
from flows.daily import daily
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import init_base
from integrations.refusals import SourceRefused
from settings.config import Config
from settings.defaults import EXAMPLE_DIR
from settings.schema import Schema
from tests.support.airtable_example import (
    BASE,
    LEDGER_TABLES,
    environment,
    example_base,
)
from tests.support.notion_example import FAST, build_workspace
from tests.support.notion_example import TOKEN as NOTION_TOKEN
from tests.support.notion_example import environment as notion_environment

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

AS_OF = "2026-11-26"
BASE_ACCESS = "(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND)."


def cae_run(capsys, out: Path, source: str, *args: str) -> tuple[int, str]:
    """``cae run`` in this process; its exit status and the one line it printed on stderr."""
    capsys.readouterr()
    code = main(["run", "--source", source, "--as-of", AS_OF, "--out", str(out), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.startswith("cae run : ")]
    return code, lines[-1].removeprefix("cae run : ") if lines else ""


def last_daily_run_message() -> str | None:
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"daily-{AS_OF}"])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
    assert run.state is not None and run.state.is_failed()
    return run.state.message


def with_mapping(folder: Path, mapping: str, base: Path = EXAMPLE_DIR / "cae.toml") -> str:
    config = folder / "cae.toml"
    config.write_text(base.read_text("utf-8") + "\n" + mapping + "\n", "utf-8")
    return str(config)


@pytest.fixture(scope="module")
def airtable():
    with example_base() as emulator:
        yield emulator


def ledger(emulator: AirtableEmulator, base: str = BASE) -> list[dict]:
    return [r["fields"] for t in LEDGER_TABLES for r in emulator.records(t, base=base)]


# -- Airtable: refused before anything is claimed: exit status 2 -------------------------------


def test_a_wrong_token_ends_the_run_with_one_sentence(airtable, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIRTABLE_TOKEN", "patPASTEDWRONG")
    airtable.reset_counts()
    code, line = cae_run(capsys, tmp_path, "airtable")
    sentence = (
        "Airtable refuse le jeton : vérifiez AIRTABLE_TOKEN (ou le bloc Secret nommé par "
        "CAE_AIRTABLE_TOKEN_BLOCK), qu'il a été copié en entier et qu'il n'a pas été révoqué "
        "(AUTHENTICATION_REQUIRED)."
    )
    assert (code, line) == (2, sentence)
    # Told by one request, before a flow run is started.
    assert airtable.count() == airtable.count(operation="whoami", status=401) == 1
    # A scheduled run (``cae serve``'s deployment) ends Failed with the sentence as message.
    with pytest.raises(SourceRefused) as refused:
        daily(source="airtable", as_of=date.fromisoformat(AS_OF), out=str(tmp_path))
    assert str(refused.value) == sentence
    assert last_daily_run_message() == sentence
    assert ledger(airtable) == []


def test_a_base_id_from_another_workspace(airtable, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIRTABLE_BASE_ID", "appOTHERWORKSPACE")
    code, line = cae_run(capsys, tmp_path, "airtable")
    assert code == 2
    assert line == (
        "Airtable refuse l'accès à la base appOTHERWORKSPACE : vérifiez son identifiant "
        "(AIRTABLE_BASE_ID ou [airtable] base_id de cae.toml), que le jeton a accès à cette base "
        f"et qu'il a le droit data.records:read {BASE_ACCESS}"
    )


def test_a_table_the_base_does_not_have_is_named_with_its_mapping(airtable, tmp_path, capsys):
    config = with_mapping(tmp_path, '[mapping.members]\ntable = "Adhérents"')
    code, line = cae_run(capsys, tmp_path, "airtable", "--config", config)
    assert code == 2
    assert line == (
        f"Airtable ne trouve pas la table « Adhérents » ([mapping.members] table) dans la base "
        f"{BASE}, ou le jeton ne peut pas la lire : corrigez le nom dans la base ou dans "
        f"[mapping.members] de cae.toml {BASE_ACCESS}"
    )
    assert ledger(airtable) == []


def test_a_token_that_cannot_write_names_the_scope(airtable, tmp_path, capsys):
    airtable.scopes = tuple(s for s in SCOPES if s != "data.records:write")
    try:
        code, line = cae_run(capsys, tmp_path, "airtable")
    finally:
        airtable.scopes = SCOPES
    assert code == 2
    assert line == (
        f"Airtable refuse d'écrire dans la table « Versements » de la base {BASE} : vérifiez que "
        "le jeton a le droit data.records:write et un accès en écriture à cette base "
        f"{BASE_ACCESS}"
    )
    assert ledger(airtable) == []


def test_a_request_too_large(airtable, tmp_path, capsys):
    airtable.max_body_bytes = 1000
    try:
        code, line = cae_run(capsys, tmp_path, "airtable")
    finally:
        airtable.max_body_bytes = None
    assert code == 2
    assert line.startswith(
        "Airtable refuse une requête trop volumineuse vers la table « Versements » (le registre) : "
    )
    assert line.endswith("(REQUEST_TOO_LARGE).")
    assert ledger(airtable) == []


# -- Airtable: refused after the claims: exit status 1, and a rerun finishes the job -----------


def test_a_select_option_the_base_lacks_names_field_and_value(
    airtable, tmp_path, monkeypatch, capsys
):
    # A base whose Membres.Statut offers no « Exclu·e »: the exclusion's status cannot be written.
    schema = Config().schema
    members = schema.table("members")
    status = replace(members.field("status"), options=("Actif·ve", "Sorti·e"))
    fields = tuple(status if f.key == "status" else f for f in members.fields)
    narrowed = Schema({**schema.tables, "members": replace(members, fields=fields)})
    airtable.add_base("appNOEXCLUSION")
    limit, airtable.rate_limit = airtable.rate_limit, None
    settings = AirtableSettings.from_environment(env=environment(airtable, "appNOEXCLUSION"))
    init_base(AirtableClient(replace(settings, requests_per_second=1000)), narrowed, EXAMPLE_DIR)
    airtable.rate_limit = limit
    monkeypatch.setenv("AIRTABLE_BASE_ID", "appNOEXCLUSION")

    code, line = cae_run(capsys, tmp_path, "airtable")
    assert code == 1  # the documents were claimed and sent: the ledger says so
    assert line == (
        "Airtable refuse la valeur « Exclu·e » du champ « Statut » ([mapping.members] status) de "
        "la table « Membres » : ajoutez « Exclu·e » aux choix de ce champ dans Airtable "
        "(INVALID_MULTIPLE_CHOICE_OPTIONS)."
    )
    rows = ledger(airtable, "appNOEXCLUSION")
    assert rows and {row["Statut"] for row in rows} == {"sent"}


def test_a_rerun_after_the_fix_finishes_without_losing_a_claimed_key(airtable, tmp_path, capsys):
    out = tmp_path / "out"
    config = with_mapping(tmp_path, '[mapping.members]\nstatus = "Statut AG"')
    code, line = cae_run(capsys, out, "airtable", "--config", config)
    assert code == 1
    assert line == (
        "Airtable ne connaît pas le champ « Statut AG » ([mapping.members] status) de la table "
        "« Membres », où le projet écrit « Exclu·e » : créez-le, ou corrigez le nom dans la base "
        "ou dans [mapping.members] de cae.toml (UNKNOWN_FIELD_NAME)."
    )
    assert last_daily_run_message() == line
    claimed = ledger(airtable)
    assert claimed and {row["Statut"] for row in claimed} == {"sent"}

    code, line = cae_run(capsys, out, "airtable")  # the mapping fixed
    assert (code, line) == (0, "")
    after = ledger(airtable)
    assert sorted(r["Clé"] for r in after) == sorted(r["Clé"] for r in claimed)
    assert {row["Statut"] for row in after} == {"sent"}
    statuses = {r["fields"]["Nom"]: r["fields"].get("Statut") for r in airtable.records("Membres")}
    assert statuses["Julien Perrot"] == "Exclu·e"


# -- Notion ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notion")
    with (
        NotionEmulator(NOTION_TOKEN, rate=None, seed=18) as emulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in {**notion_environment(emulator), **FAST}.items():
            patch.setenv(name, value)
        yield build_workspace(emulator, folder)


def test_a_wrong_notion_secret_is_told_before_the_run_starts(notion, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOTION_TOKEN", "secret_PASTEDWRONG")
    notion.emulator.reset_counts()
    code, line = cae_run(capsys, tmp_path, "notion", "--config", str(notion.config))
    assert (code, line) == (
        2,
        "Notion refuse le secret de l'intégration : vérifiez NOTION_TOKEN (ou le bloc Secret "
        "nommé par CAE_NOTION_TOKEN_BLOCK), qu'il a été copié en entier et que l'intégration "
        "existe toujours (unauthorized).",
    )
    assert notion.emulator.count() == notion.emulator.count(status=401) == 1


def test_a_notion_database_not_shared_says_how_to_share_it(notion, tmp_path, capsys):
    notion.emulator.unshared.add(notion.report.databases["members"])
    try:
        code, line = cae_run(capsys, tmp_path, "notion", "--config", str(notion.config))
    finally:
        notion.emulator.unshared.clear()
    assert (code, line) == (
        2,
        "Notion ne trouve pas la base « Membres » ([notion.databases] members) : partagez-la "
        "avec l'intégration (dans Notion, menu « ... » en haut à droite > Connexions > ajoutez "
        "l'intégration), et vérifiez son identifiant (object_not_found).",
    )


def test_a_notion_integration_that_cannot_insert(notion, tmp_path, capsys):
    notion.emulator.capabilities = ("read", "update")
    try:
        code, line = cae_run(capsys, tmp_path, "notion", "--config", str(notion.config))
    finally:
        notion.emulator.capabilities = ("read", "insert", "update")
    # The claims go table by table, Versements first (services.handover.claim_order).
    assert (code, line) == (
        2,
        "Notion refuse à l'intégration d'agir sur la base « Versements » : donnez-lui la "
        "capacité « Insérer du contenu (Insert content) » dans ses réglages "
        "(notion.so/profile/integrations) (restricted_resource).",
    )
    assert notion.ledger() == {"Versements": [], "Courriers": []}


def test_a_notion_property_refused_is_named_and_a_rerun_finishes(notion, tmp_path, capsys):
    out = tmp_path / "out"
    config = with_mapping(tmp_path, '[mapping.members]\nstatus = "Statut AG"', notion.config)
    code, line = cae_run(capsys, out, "notion", "--config", config)
    assert (code, line) == (
        1,
        "Notion refuse la propriété « Statut AG » ([mapping.members] status) de la base "
        "« Membres » : vérifiez qu'elle existe sous ce nom avec le bon type, ou corrigez le nom "
        "dans la base ou dans [mapping.members] de cae.toml (validation_error).",
    )
    claimed = notion.ledger()
    assert claimed["Courriers"] and all(r["Statut"] == "sent" for r in claimed["Courriers"])

    code, line = cae_run(capsys, out, "notion", "--config", str(notion.config))
    assert (code, line) == (0, "")
    assert notion.ledger() == claimed
