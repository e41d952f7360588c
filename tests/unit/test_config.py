"""The configuration file, cae.toml: its sections, its defaults, where it is found, its errors."""

from __future__ import annotations

import tomllib
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from charter.model import Involvement
from charter.params import CharterParams
from integrations.base import DataError
from integrations.workbook import LocalWorkbook
from settings.config import Config, ConfigError, CooperativeInfo, IdentityMissing, missing_identity
from settings.schema import Schema

FULL = """\
go_live = "2026-01-01"

[cooperative]
name = "Coopérative Les Essaims"
address = "3 place Bellecour, 69002 Lyon"
city = "Lyon"
legal = "SCOP SARL à capital variable – SIRET 123 456 789 00012"
signatory_name = "Jeanne Roux"
signatory_role = "Co-gérante"
email = "contact@essaims.example"
staff_email = "appui@essaims.example"

[charter]
contribution_rate = 0.15
bearer_rates = { developpement = 0.35 }
mid_share = 0.4
trial_months = 4
resignation_notice_trial_days = 10
resignation_notice_months = 2
non_renewal_notice_trial_days = 14
non_renewal_notice_months = 3
absences_warning = 3
absences_exclusion = 4
associate_years = 2
associate_reminder_months = [12, 3, 1]
max_godchildren = 3
founders_may_sponsor = false
trial_end_is_renewal_date = false
volunteering_hours_per_week = 2.5
monthly_workshops = ["Veille"]

[mapping.members]
table = "Adhérents"
joined_on = "Entrée"

[mapping.missions]
stage = "Phase"
"""


def write_config(folder: Path, text: str, name: str = "cae.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def full(tmp_path: Path) -> Config:
    return Config.load(write_config(tmp_path, FULL))


# Every section of a full file


def test_load_reads_the_cooperative_section(full: Config) -> None:
    assert isinstance(full.cooperative, CooperativeInfo)
    assert asdict(full.cooperative) == {
        "name": "Coopérative Les Essaims",
        "address": "3 place Bellecour, 69002 Lyon",
        "city": "Lyon",
        "legal": "SCOP SARL à capital variable – SIRET 123 456 789 00012",
        "signatory_name": "Jeanne Roux",
        "signatory_role": "Co-gérante",
        "email": "contact@essaims.example",
        "staff_email": "appui@essaims.example",
    }


def test_load_reads_go_live_as_a_date(full: Config) -> None:
    assert full.go_live == date(2026, 1, 1)


def test_load_accepts_go_live_as_a_toml_date(tmp_path: Path) -> None:
    config = Config.load(write_config(tmp_path, "go_live = 2026-03-01\n"))
    assert config.go_live == date(2026, 3, 1)


def test_load_remembers_the_file_it_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, FULL)
    assert Config.load(path).path == path


def test_charter_rates_are_exact_decimals_without_float_noise(full: Config) -> None:
    # Decimal(0.15) is 0.1499999999999999944488848768742172978818416595458984375.
    assert full.charter.contribution_rate == Decimal("0.15")
    assert full.charter.mid_share == Decimal("0.4")
    assert full.charter.volunteering_hours_per_week == Decimal("2.5")
    assert full.charter.bearer_rates[Involvement.DEVELOPMENT] == Decimal("0.35")


def test_a_partial_bearer_rates_table_keeps_the_other_defaults(full: Config) -> None:
    assert full.charter.bearer_rates == {
        Involvement.BUSINESS_BROUGHT: Decimal("0.05"),
        Involvement.SPECIFICATION: Decimal("0.15"),
        Involvement.DEVELOPMENT: Decimal("0.35"),
    }


def test_charter_whole_numbers_switches_and_lists_are_read(full: Config) -> None:
    charter = full.charter
    assert (charter.trial_months, charter.associate_years, charter.max_godchildren) == (4, 2, 3)
    assert (charter.resignation_notice_trial_days, charter.resignation_notice_months) == (10, 2)
    assert (charter.non_renewal_notice_trial_days, charter.non_renewal_notice_months) == (14, 3)
    assert (charter.absences_warning, charter.absences_exclusion) == (3, 4)
    assert charter.associate_reminder_months == (12, 3, 1)
    assert charter.founders_may_sponsor is False
    assert charter.trial_end_is_renewal_date is False
    assert charter.monthly_workshops == ("Veille",)


def test_mapping_renames_tables_and_fields_and_keeps_the_others(full: Config) -> None:
    schema = full.schema
    assert schema.label("members") == "Adhérents"
    assert schema.label("members", "joined_on") == "Entrée"
    assert schema.label("members", "name") == "Nom"
    assert schema.label("missions") == "Missions"
    assert schema.label("missions", "stage") == "Phase"


def test_a_charter_parameter_left_out_keeps_its_default(tmp_path: Path) -> None:
    config = Config.load(write_config(tmp_path, "[charter]\ntrial_months = 3\n"))
    assert config.charter == CharterParams(trial_months=3)


# Defaults and where the file is found


def test_without_a_file_every_default_applies(tmp_path: Path) -> None:
    config = Config.find(tmp_path)
    assert config == Config()
    assert config.path is None
    assert config.go_live is None
    assert config.charter.contribution_rate == Decimal("0.10")
    assert config.charter.associate_reminder_months == (6, 1)
    assert config.schema == Schema.default()


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")
    assert Config.load(path) == Config(path=path)


def test_find_reads_cae_toml_in_the_data_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[charter]\ntrial_months = 3\n")
    config = Config.find(tmp_path)
    assert config.path == path
    assert config.charter.trial_months == 3


def test_find_prefers_the_config_option_to_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_config(data, "[charter]\ntrial_months = 3\n")
    explicit = write_config(tmp_path, "[charter]\ntrial_months = 9\n", name="autre.toml")
    config = Config.find(data, explicit)
    assert config.path == explicit
    assert config.charter.trial_months == 9


def test_find_reports_a_missing_config_option_file(tmp_path: Path) -> None:
    write_config(tmp_path, "")
    with pytest.raises(ConfigError, match="Fichier de configuration introuvable"):
        Config.find(tmp_path, tmp_path / "absent.toml")


# Errors, in French, naming what is wrong


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[cooperatives]\nname = 'X'\n",
            "Section ou clé inconnue dans la configuration : cooperatives",
            id="unknown section",
        ),
        pytest.param(
            "[cooperative]\nsiret = '123'\n",
            "Clé inconnue dans [cooperative] : siret",
            id="unknown cooperative key",
        ),
        pytest.param(
            "[charter]\ncontribution = 0.1\n",
            "Paramètre inconnu dans [charter] : contribution",
            id="unknown charter parameter",
        ),
        pytest.param(
            "[charter]\ncontribution_rate = 'dix pour cent'\n",
            "Paramètre [charter] contribution_rate invalide : 'dix pour cent' "
            "(un nombre est attendu)",
            id="text for a rate",
        ),
        pytest.param(
            "[charter]\ntrial_months = 'six'\n",
            "Paramètre [charter] trial_months invalide : 'six' "
            "(un nombre entier positif est attendu)",
            id="text for a number of months",
        ),
        pytest.param(
            "[charter]\nbearer_rates = { conseil = 0.2 }\n",
            "Paramètre [charter] bearer_rates invalide",
            id="unknown bearer rate",
        ),
        pytest.param(
            "charter = 0.1\n",
            "« charter » doit être une section [charter]",
            id="section given as a value",
        ),
        pytest.param(
            "go_live = '2026-13-01'\n",
            "go_live : date AAAA-MM-JJ attendue, pas '2026-13-01'",
            id="go_live month 13",
        ),
        pytest.param(
            "go_live = '01/01/2026'\n",
            "go_live : date AAAA-MM-JJ attendue, pas '01/01/2026'",
            id="go_live French order",
        ),
        pytest.param("go_live = 2026\n", "go_live : date AAAA-MM-JJ attendue", id="go_live number"),
        pytest.param(
            "go_live = 2026-01-01T08:00:00\n",
            "go_live : date AAAA-MM-JJ attendue",
            id="go_live date-time",
        ),
        pytest.param(
            "[mapping.adherents]\ntable = 'Adhérents'\n",
            "[mapping] : table inconnue « adherents »",
            id="unknown mapping table",
        ),
        pytest.param(
            "[mapping.members]\nentree = 'Entrée'\n",
            "[mapping.members] : champ inconnu « entree »",
            id="unknown mapping field",
        ),
        pytest.param(
            "[mapping.members]\ntable = ''\n",
            "[mapping.members] table : libellé vide",
            id="empty mapping label",
        ),
    ],
)
def test_a_wrong_value_is_a_french_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        Config.load(path)
    assert message in str(raised.value)


def test_a_file_that_is_not_toml_is_a_french_config_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[charter\ncontribution_rate = 0,15\n")
    with pytest.raises(ConfigError, match="fichier TOML illisible") as raised:
        Config.load(path)
    assert str(raised.value) == f"{path} : fichier TOML illisible (ligne 1, colonne 9)"


def test_a_file_that_is_not_utf8_is_a_french_config_error(tmp_path: Path) -> None:
    path = tmp_path / "cae.toml"
    path.write_bytes("[cooperative]\nname = 'Coopérative'\n".encode("latin-1"))
    with pytest.raises(ConfigError) as raised:
        Config.load(path)
    assert str(raised.value) == f"{path} : fichier illisible, il n'est pas en UTF-8"


# A renamed table and field, read from the local folder


ADHERENTS = """\
[mapping.members]
table = "Adhérents"
joined_on = "Entrée"
"""


@pytest.fixture
def renamed(tmp_path: Path) -> Schema:
    (tmp_path / "Missions.csv").write_text("Mission,Étape\nSite vitrine,Signée\n", "utf-8")
    return Config.load(write_config(tmp_path, ADHERENTS)).schema


def test_a_renamed_table_is_read_from_its_own_file_and_header(
    tmp_path: Path, renamed: Schema
) -> None:
    (tmp_path / "Adhérents.csv").write_text("Nom,Entrée\nAlice Martin,2024-03-01\n", "utf-8")
    tables = LocalWorkbook(tmp_path).read(renamed)
    assert tables.errors == []
    (alice,) = tables.tables["members"]
    assert alice.values == {"name": "Alice Martin", "joined_on": date(2024, 3, 1)}


def test_a_bad_value_is_reported_under_the_renamed_labels(tmp_path: Path, renamed: Schema) -> None:
    (tmp_path / "Adhérents.csv").write_text("Nom,Entrée\nAlice Martin,demain\n", "utf-8")
    (error,) = LocalWorkbook(tmp_path).read(renamed).errors
    assert (error.table, error.record, error.field) == ("Adhérents", "Alice Martin", "Entrée")
    assert "« Entrée »" in error.message


def test_a_column_under_its_default_label_is_missing_once_renamed(
    tmp_path: Path, renamed: Schema
) -> None:
    (tmp_path / "Adhérents.csv").write_text(
        "Nom,Date d'adhésion\nAlice Martin,2024-03-01\n", "utf-8"
    )
    tables = LocalWorkbook(tmp_path).read(renamed)
    assert "members" not in tables.tables
    assert tables.errors == [
        DataError(
            "Adhérents",
            None,
            "Entrée",
            "La colonne « Entrée » manque dans « Adhérents.csv » : elle est obligatoire, "
            "la table n'est donc pas lue.",
        )
    ]


def test_the_default_file_is_not_read_for_a_renamed_table(tmp_path: Path, renamed: Schema) -> None:
    (tmp_path / "Membres.csv").write_text("Nom,Entrée\nAlice Martin,2024-03-01\n", "utf-8")
    tables = LocalWorkbook(tmp_path).read(renamed)
    assert "members" not in tables.tables
    (error,) = tables.errors
    assert (error.table, error.record, error.field) == ("Adhérents", None, None)
    assert "La table Adhérents est obligatoire" in error.message
    assert "« Adhérents.csv »" in error.message


def test_mail_needs_the_cooperatives_own_name_sender_and_staff_copy():
    assert missing_identity(Config.from_mapping(tomllib.loads(FULL))) == []
    assert missing_identity(Config()) == ["name", "email", "staff_email"]
    placeholders = Config.from_mapping(
        {"cooperative": {"name": "Coopérative No-Code", "email": "cooperative@example.invalid",
                         "staff_email": "  "}}
    )  # fmt: skip
    assert missing_identity(placeholders) == ["name", "email", "staff_email"]
    partial = Config.from_mapping({"cooperative": {"name": "Les Essaims", "email": "a@b.fr"}})
    assert missing_identity(partial) == ["staff_email"]


def test_the_identity_refusal_names_the_missing_keys_and_the_file():
    error = IdentityMissing(["name", "staff_email"], Path("/etc/cae/cae.toml"))
    assert isinstance(error, ConfigError)
    assert "[cooperative] de /etc/cae/cae.toml ne renseigne pas name, staff_email." in str(error)
