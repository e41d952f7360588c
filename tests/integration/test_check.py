"""``cae check`` against the emulators and a loopback SMTP server: one broken setup per case,
each problem named exactly once, and a correct setup ready (exit 0).

The command runs in-process (``cae.cli.main``) with the environment a staff member would set;
the Airtable base and the Notion workspace are built as ``cae airtable init`` and
``cae notion init`` build them, then broken the way a cooperative might break them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cae.cli import main
from cae.webhooks.airtable_registration import create_webhook, save_webhook_secret
from emulators.airtable import SCOPES, AirtableEmulator
from emulators.notion import NotionEmulator
from integrations import ledger_fields as ledger
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import field_definition, init_base, ledger_fields
from settings.config import Config
from settings.defaults import EXAMPLE_DIR
from settings.schema import FieldType, Schema
from tests.support import airtable_example, notion_example
from tests.support.loopback import free_port
from tests.support.smtp_server import SmtpServer

VARIABLES = (
    "AIRTABLE_TOKEN",
    "AIRTABLE_BASE_ID",
    "CAE_AIRTABLE_TOKEN_BLOCK",
    "CAE_AIRTABLE_WEBHOOK",
    "NOTION_TOKEN",
    "CAE_NOTION_TOKEN_BLOCK",
    "CAE_SMTP_BLOCK",
    "CAE_SMTP_HOST",
    "CAE_SMTP_USERNAME",
    "CAE_SMTP_PASSWORD",
    "CAE_SMTP_SECURITY",
    "PREFECT_API_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    """Exit status, the problem lines, and everything printed."""
    status = main(["check", *args])
    out = capsys.readouterr().out
    print(out)  # shown when a test fails
    return status, [line for line in out.splitlines() if line.startswith("✗ ")], out


# ---- local -------------------------------------------------------------------------------


def test_the_example_folder_is_ready(capsys):
    status, problems, out = check(capsys)
    assert (status, problems) == (0, [])
    assert "Prêt pour cae run --source local" in out


def test_a_missing_column_is_named_once(capsys, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE_DIR, data)
    missions = data / "Missions.csv"
    missions.write_text(missions.read_text("utf-8").replace(",CA HT,", ",Chiffre,", 1), "utf-8")
    status, problems, _ = check(capsys, "--data", str(data))
    assert status == 1
    assert len(problems) == 1
    assert "« Missions »" in problems[0] and "« CA HT »" in problems[0]
    assert "[mapping.missions] revenue" in problems[0]


# ---- Airtable ----------------------------------------------------------------------------


def build_base(
    emulator: AirtableEmulator, schema: Schema, ledger_tables: tuple[str, ...] = ledger.TABLES
) -> None:
    """The tables ``cae airtable init`` makes for ``schema``, with only ``ledger_tables``."""
    settings = AirtableSettings.from_environment(env=airtable_example.environment(emulator))
    client = AirtableClient(replace(settings, requests_per_second=1000))
    if ledger_tables == ledger.TABLES:
        init_base(client, schema)
        emulator.reset_counts()
        return
    ids = {}
    for spec in schema.tables.values():
        plain = [field_definition(f, {}) for f in spec.fields if f.link_table is None]
        ids[spec.key] = client.base.create_table(spec.label, plain).id
    for spec in schema.tables.values():
        for f in spec.fields:
            if f.link_table is not None:
                definition = field_definition(f, ids)
                client.table(spec.label).create_field(
                    f.label, definition["type"], options=definition["options"]
                )
    for name in ledger_tables:
        fields = ledger_fields(name == ledger.PAYOUTS, ids["members"], ids["missions"])
        client.base.create_table(name, fields)
    emulator.reset_counts()


@pytest.fixture
def airtable(monkeypatch: pytest.MonkeyPatch) -> Iterator[AirtableEmulator]:
    with AirtableEmulator(airtable_example.TOKEN, airtable_example.BASE, rate_limit=None) as at:
        for name, value in airtable_example.environment(at).items():
            monkeypatch.setenv(name, value)
        yield at


def test_a_correct_base_is_ready(capsys, airtable):
    build_base(airtable, Config().schema)
    status, problems, out = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert (status, problems) == (0, [])
    assert "registre (Versements, Courriers) en place" in out
    assert airtable.count(method="GET") == 2  # whoami and the schema: nothing else
    assert airtable.count() == airtable.count(method="GET")


def test_a_missing_field_is_named_once(capsys, airtable):
    schema = Config().schema
    missions = schema.table("missions")
    renamed = replace(missions.field("revenue"), label="Chiffre d'affaires")
    fields = tuple(renamed if f.key == "revenue" else f for f in missions.fields)
    build_base(airtable, Schema({**schema.tables, "missions": replace(missions, fields=fields)}))
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert problems == [
        "✗ La table Airtable « Missions » n'a pas de champ « CA HT », où les règles lisent un "
        "montant : ajoutez-le, de type « Devise » (currency), ou nommez le bon champ dans "
        'cae.toml : [mapping.missions] revenue = "…".'
    ]


def test_a_field_of_the_wrong_type_is_named_once(capsys, airtable):
    schema = Config().schema
    members = schema.table("members")
    fields = tuple(
        replace(f, type=FieldType.NUMBER) if f.key == "joined_on" else f for f in members.fields
    )
    build_base(airtable, Schema({**schema.tables, "members": replace(members, fields=fields)}))
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert "« Date d'adhésion »" in problems[0] and "« Membres »" in problems[0]
    assert "type « Nombre » (number)" in problems[0] and "une date" in problems[0]


def test_a_select_option_the_rules_do_not_know_is_named_once(capsys, airtable):
    build_base(airtable, Config().schema)
    airtable.insert("Missions", {"Mission": "Refonte", "Étape": "En pause"}, typecast=True)
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert "« Étape »" in problems[0] and "« En pause »" in problems[0]


def test_a_missing_ledger_table_names_airtable_init(capsys, airtable):
    build_base(airtable, Config().schema, ledger_tables=(ledger.PAYOUTS,))
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert "« Courriers »" in problems[0] and "cae airtable init" in problems[0]


def test_a_wrong_token_is_named_once(capsys, airtable, monkeypatch):
    build_base(airtable, Config().schema)
    monkeypatch.setenv("AIRTABLE_TOKEN", "patNOTTHEONE")
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert "Airtable refuse le jeton" in problems[0] and "AIRTABLE_TOKEN" in problems[0]


def test_a_token_without_write_scope_is_named_once(capsys, airtable):
    build_base(airtable, Config().schema)
    airtable.scopes = tuple(s for s in SCOPES if s != "data.records:write")
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert "data.records:write" in problems[0]


def test_the_saved_webhook_is_checked(capsys, airtable, monkeypatch, tmp_path):
    build_base(airtable, Config().schema)
    settings = AirtableSettings.from_environment(env=airtable_example.environment(airtable))
    client = AirtableClient(settings)
    hook = create_webhook(client, "https://cae.example.org/webhooks/airtable", ["Missions"])
    secret = tmp_path / "hook.json"
    save_webhook_secret(secret, hook.webhook_id, hook.mac_secret_base64)
    monkeypatch.setenv("CAE_AIRTABLE_WEBHOOK", str(secret))
    status, problems, out = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert (status, problems) == (0, [])
    assert f"webhook {hook.webhook_id} enregistré jusqu'au" in out
    client.api.delete(client.base.urls.webhooks / hook.webhook_id)
    status, problems, _ = check(capsys, "--source", "airtable", "--data", str(EXAMPLE_DIR))
    assert status == 1
    assert len(problems) == 1
    assert hook.webhook_id in problems[0]
    assert (
        f"cae airtable webhook create --url https://…/webhooks/airtable --save {secret}"
        in (problems[0])
    )


# ---- Notion ------------------------------------------------------------------------------


@pytest.fixture
def notion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[notion_example.Workspace]:
    with NotionEmulator(notion_example.TOKEN, rate=None) as emulator:
        workspace = notion_example.build_workspace(emulator, tmp_path, example=None)
        for name, value in notion_example.environment(emulator).items():
            monkeypatch.setenv(name, value)
        yield workspace


def test_a_correct_notion_workspace_is_ready(capsys, notion):
    data = str(notion.config.parent)
    status, problems, out = check(capsys, "--source", "notion", "--data", data)
    assert (status, problems) == (0, [])
    assert "9 bases Notion partagées" in out


def test_an_unshared_notion_database_is_named_once(capsys, notion):
    notion.emulator.unshare(notion.report.databases["invoices"])
    data = str(notion.config.parent)
    status, problems, _ = check(capsys, "--source", "notion", "--data", data)
    assert status == 1
    assert len(problems) == 1
    assert "« Factures »" in problems[0] and "Connexions" in problems[0]


# ---- SMTP and Prefect --------------------------------------------------------------------


def use_smtp(monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer, password: str | None) -> None:
    """The run's settings for ``smtp``, logging in as « cae » with ``password``."""
    for name, value in smtp.environment().items():
        monkeypatch.setenv(name, value)
    if password is not None:
        monkeypatch.setenv("CAE_SMTP_USERNAME", "cae")
        monkeypatch.setenv("CAE_SMTP_PASSWORD", password)


def test_smtp_login_accepted_and_no_mail_sent(capsys, monkeypatch):
    with SmtpServer(username="cae", password="le-bon") as smtp:
        use_smtp(monkeypatch, smtp, "le-bon")
        status, problems, out = check(capsys)
    assert (status, problems) == (0, [])
    assert f"serveur SMTP 127.0.0.1:{smtp.port} joignable" in out
    assert len(smtp.recorder.logins) == 1
    assert (smtp.recorder.transactions, smtp.recorder.received) == (0, [])


def test_an_smtp_server_that_refuses_the_login_is_named_once(capsys, monkeypatch):
    with SmtpServer(username="cae", password="le-bon") as smtp:
        use_smtp(monkeypatch, smtp, "pas-le-bon")
        status, problems, out = check(capsys)
    assert status == 1
    assert len(problems) == 1
    assert "refuse l'identifiant « cae »" in problems[0]
    assert "pas-le-bon" not in out
    assert smtp.recorder.transactions == 0


def test_smtp_with_a_placeholder_identity_is_named_once(capsys, monkeypatch, tmp_path):
    """A run would refuse to email under the default identity: the check says so first."""
    (tmp_path / "cae.toml").write_text('[cooperative]\nemail = "contact@example.org"\n')
    with SmtpServer(username="cae", password="le-bon") as smtp:
        use_smtp(monkeypatch, smtp, "le-bon")
        status, problems, _ = check(capsys, "--config", str(tmp_path / "cae.toml"))
    assert status == 1
    assert len(problems) == 1
    assert "ne renseigne pas name, staff_email" in problems[0]
    assert smtp.recorder.transactions == 0


def test_starttls_that_the_server_does_not_offer_is_named_once(capsys, monkeypatch):
    with SmtpServer() as smtp:
        use_smtp(monkeypatch, smtp, None)
        monkeypatch.setenv("CAE_SMTP_SECURITY", "STARTTLS")
        status, problems, _ = check(capsys)
    assert status == 1
    assert len(problems) == 1
    assert "STARTTLS" in problems[0]


def test_a_prefect_server_that_does_not_answer_is_named_once(capsys, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    status, problems, _ = check(capsys)
    assert status == 1
    assert len(problems) == 1
    assert "Le serveur Prefect" in problems[0] and "ne répond pas" in problems[0]


def test_a_wrong_notion_token_is_named_once(capsys, notion, monkeypatch):
    monkeypatch.setenv("NOTION_TOKEN", "secret_NOTTHEONE")
    status, problems, _ = check(capsys, "--source", "notion", "--data", str(notion.config.parent))
    assert status == 1
    assert len(problems) == 1
    assert "Notion refuse le jeton" in problems[0]


def test_a_notion_property_of_the_wrong_type_is_named_once(capsys, notion):
    source = notion.report.data_sources["missions"]
    notion.emulator.add_properties(source, {"Date de livraison": {"name": "Livrée le"}})
    notion.emulator.add_properties(source, {"Date de livraison": {"checkbox": {}}})
    status, problems, _ = check(capsys, "--source", "notion", "--data", str(notion.config.parent))
    assert status == 1
    assert len(problems) == 1
    assert "« Date de livraison »" in problems[0] and "« Case à cocher » (checkbox)" in problems[0]
