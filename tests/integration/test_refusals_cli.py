"""Refusals by Airtable and Notion in ``cae airtable init``, ``cae airtable webhook`` and
``cae notion init``: one French line that says what to check, the API's code in parentheses,
no traceback, exit status 2 (nothing was changed). An answer the project does not understand
keeps its traceback. Real pyairtable and notion-client against the loopback emulators.
"""

from __future__ import annotations

import logging

import pytest

from cae.cli import main
from cae.webhooks.airtable import AirtableChanges, AirtableWebhookConfig
from cae.webhooks.airtable_registration import save_webhook_secret
from cae.webhooks.stores import FileCursorStore
from emulators.airtable import SCOPES, AirtableEmulator
from emulators.notion import NotionEmulator
from integrations.airtable import AirtableSettings
from tests.support.airtable_example import BASE, TOKEN, build_example_base, environment
from tests.support.notion_example import FAST, build_workspace
from tests.support.notion_example import TOKEN as NOTION_TOKEN
from tests.support.notion_example import environment as notion_environment


def refusal_line(capsys: pytest.CaptureFixture[str], prefix: str) -> str:
    """The one line the command printed on stderr, without its prefix."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith(f"{prefix} : ")
    return line.removeprefix(f"{prefix} : ")


@pytest.fixture
def airtable(monkeypatch, tmp_path):
    with AirtableEmulator(TOKEN, BASE, rate_limit=None) as emulator:
        for name, value in environment(emulator).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        yield emulator


@pytest.fixture
def notion(monkeypatch, tmp_path):
    with NotionEmulator(NOTION_TOKEN, rate=None, seed=18) as emulator:
        for name, value in {**notion_environment(emulator), **FAST}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        yield emulator


@pytest.mark.parametrize(
    ("variable", "value", "status", "sentence"),
    [
        (
            "AIRTABLE_TOKEN",
            "patPASTEDWRONG",
            401,
            "Airtable refuse le jeton : vérifiez AIRTABLE_TOKEN (ou le bloc Secret nommé par "
            "CAE_AIRTABLE_TOKEN_BLOCK), qu'il a été copié en entier et qu'il n'a pas été révoqué "
            "(AUTHENTICATION_REQUIRED).",
        ),
        (
            "AIRTABLE_BASE_ID",
            "appOTHERWORKSPACE",
            403,
            "Airtable refuse l'accès à la base appOTHERWORKSPACE : vérifiez son identifiant "
            "(AIRTABLE_BASE_ID ou [airtable] base_id de cae.toml), que le jeton a accès à cette "
            "base et qu'il a le droit schema.bases:read et schema.bases:write "
            "(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND).",
        ),
    ],
)
def test_airtable_init_with_a_wrong_token_or_base_id(
    airtable, monkeypatch, capsys, variable, value, status, sentence
):
    monkeypatch.setenv(variable, value)
    assert main(["airtable", "init"]) == 2
    assert refusal_line(capsys, "cae airtable init") == sentence
    assert airtable.count(status=status) == 1  # neither a 401 nor a 403 is retried


def test_airtable_init_with_a_token_that_cannot_change_the_schema(airtable, capsys):
    airtable.scopes = tuple(s for s in SCOPES if s != "schema.bases:write")
    assert main(["airtable", "init"]) == 2
    line = refusal_line(capsys, "cae airtable init")
    assert line.startswith(f"Airtable refuse l'accès à la base {BASE} : ")
    assert "le droit schema.bases:read et schema.bases:write" in line
    assert line.endswith("(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND).")
    assert airtable.schema()["tables"] == []


def test_airtable_webhook_with_a_token_without_webhook_manage(airtable, capsys):
    build_example_base(airtable)
    airtable.scopes = tuple(s for s in SCOPES if s != "webhook:manage")
    code = main(["airtable", "webhook", "create", "--url", "https://cae.example/w", "--save", "s"])
    assert code == 2
    line = refusal_line(capsys, "cae airtable webhook")
    assert "que le jeton a accès à cette base et qu'il a le droit webhook:manage" in line
    assert line.endswith("(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND).")
    assert airtable.webhooks() == []


def test_an_answer_the_project_does_not_understand_keeps_its_traceback(airtable, capsys):
    airtable.inject(400, body={"error": {"type": "SOMETHING_NEW", "message": "Unheard of"}})
    assert main(["airtable", "init"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" in captured.err and "SOMETHING_NEW" in captured.err


def test_notion_init_on_a_database_not_shared_with_the_integration(notion, tmp_path, capsys):
    workspace = build_workspace(notion, tmp_path, example=None)
    notion.unshared.add(workspace.report.databases["members"])
    assert main(["notion", "init"]) == 2
    assert refusal_line(capsys, "cae notion init") == (
        "Notion ne trouve pas la base « Membres » ([notion.databases] members) : partagez-la "
        "avec l'intégration (dans Notion, menu « ... » en haut à droite > Connexions > ajoutez "
        "l'intégration), et vérifiez son identifiant (object_not_found)."
    )


def wrong_secret(notion: NotionEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_TOKEN", "secret_PASTEDWRONG")


def no_insert(notion: NotionEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    notion.capabilities = ("read", "update")


@pytest.mark.parametrize(
    ("refuse", "status", "sentence"),
    [
        (
            wrong_secret,
            401,
            "Notion refuse le secret de l'intégration : vérifiez NOTION_TOKEN (ou le bloc Secret "
            "nommé par CAE_NOTION_TOKEN_BLOCK), qu'il a été copié en entier et que l'intégration "
            "existe toujours (unauthorized).",
        ),
        (
            no_insert,
            403,
            "Notion refuse à l'intégration d'agir sur la page parente (--parent) : donnez-lui la "
            "capacité « Insérer du contenu (Insert content) » dans ses réglages "
            "(notion.so/profile/integrations) (restricted_resource).",
        ),
    ],
)
def test_notion_init_refused(notion, monkeypatch, capsys, refuse, status, sentence):
    refuse(notion, monkeypatch)
    parent = notion.create_page_parent("Coopérative")
    assert main(["notion", "init", "--parent", parent]) == 2
    assert refusal_line(capsys, "cae notion init") == sentence
    assert notion.count(status=status) == 1  # neither a 401 nor a 403 is retried


def test_the_webhook_receiver_of_cae_serve_logs_the_sentence(airtable, tmp_path, caplog):
    build_example_base(airtable)
    airtable.scopes = tuple(s for s in SCOPES if s != "webhook:manage")
    settings = AirtableSettings.from_environment()
    changes = AirtableChanges(
        AirtableWebhookConfig("achREFUSED0000001", "c2VjcmV0", settings),
        FileCursorStore(tmp_path / "cursors.json"),
        lambda name, parameters, key: pytest.fail("nothing to launch"),
        "targeted/targeted",
    )
    changes.drain()
    (logged,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.getMessage().startswith(
        f"Lecture des changements Airtable impossible : Airtable refuse l'accès à la base {BASE}"
    )
    assert logged.getMessage().endswith(
        "qu'il a le droit webhook:manage et schema.bases:read "
        "(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND)."
    )
    assert logged.exc_info is None


def test_refreshing_a_webhook_airtable_no_longer_knows(airtable, tmp_path, capsys):
    saved = tmp_path / "webhook.json"
    save_webhook_secret(saved, "achGONE0000000001", "c2VjcmV0")
    assert main(["airtable", "webhook", "refresh", "--save", str(saved)]) == 2
    assert refusal_line(capsys, "cae airtable webhook") == (
        f"Airtable ne connaît pas ce webhook de la base {BASE} (expiré ou supprimé) : recréez-le "
        "avec cae airtable webhook create --url … (NOT_FOUND)."
    )
