"""The local CSV folder: files, columns, record names and the reading of each kind of cell."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from integrations.base import DataError, SourceRecord, SourceTables
from integrations.workbook import LocalWorkbook
from settings.schema import Schema

MEMBERS_HEADER = "Nom,Date d'adhésion"
MISSIONS_HEADER = "Mission,Étape"


def write(folder: Path, name: str, *lines: str, bom: bool = False) -> None:
    text = "\r\n".join(lines) + "\r\n"
    (folder / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())


def read(folder: Path, schema: Schema | None = None) -> SourceTables:
    return LocalWorkbook(folder).read(schema or Schema.default())


def base_tables(folder: Path) -> None:
    """The two required tables, with one record each."""
    write(folder, "Membres.csv", MEMBERS_HEADER, "Alice Martin,2024-03-01")
    write(folder, "Missions.csv", MISSIONS_HEADER, "Site vitrine,Signée")


def record(tables: SourceTables, table: str, index: int = 0) -> SourceRecord:
    return tables.tables[table][index]


def read_cell(folder: Path, label: str, cell: str) -> tuple[SourceRecord, list[DataError]]:
    """The mission record read from one cell under ``label``, and the errors."""
    base_tables(folder)
    write(folder, "Missions.csv", f"{MISSIONS_HEADER},{label}", f'Site vitrine,Signée,"{cell}"')
    tables = read(folder)
    return record(tables, "missions"), tables.errors


def read_value(folder: Path, label: str, cell: str, key: str) -> Any:
    mission, errors = read_cell(folder, label, cell)
    assert errors == []
    return mission.values[key]


# Files


def test_reads_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", MEMBERS_HEADER, "Alice Martin,2024-03-01", bom=True)
    tables = read(tmp_path)
    assert tables.errors == []
    assert record(tables, "members").values["name"] == "Alice Martin"


def test_reads_airtable_grid_view_file_name(tmp_path: Path) -> None:
    base_tables(tmp_path)
    (tmp_path / "Missions.csv").unlink()
    write(tmp_path, "Missions-Grid view.csv", MISSIONS_HEADER, "Refonte,Devis")
    tables = read(tmp_path)
    assert tables.errors == []
    assert record(tables, "missions").id == "Refonte"


def test_reads_a_file_name_saved_decomposed_on_a_mac(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Ple\u0301nie\u0300res.csv", "Plénière,Date", "AG 2026,2026-06-01")
    tables = read(tmp_path)
    assert record(tables, "plenaries").values["date"] == date(2026, 6, 1)


def test_reads_a_semicolon_separated_file(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Missions.csv", "Mission;Étape;CA HT", "Site vitrine;Signée;1 250,50")
    tables = read(tmp_path)
    assert record(tables, "missions").values["revenue"] == Decimal("1250.50")


def test_missing_members_file_is_an_error_for_the_table(tmp_path: Path) -> None:
    write(tmp_path, "Missions.csv", MISSIONS_HEADER, "Site vitrine,Signée")
    tables = read(tmp_path)
    message = (
        "La table Membres est obligatoire, mais le dossier ne contient "
        "ni « Membres.csv » ni « Membres-Grid view.csv »."
    )
    assert tables.errors == [DataError("Membres", None, None, message)]
    assert "members" not in tables.tables
    assert "members" not in tables.missing_tables


def test_missing_optional_table_is_listed_without_error(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Plénières.csv", "Plénière,Date", "AG 2026,2026-06-01")
    tables = read(tmp_path)
    assert tables.errors == []
    assert tables.missing_tables == ["invoices", "attendance", "volunteering", "workshops"]
    assert set(tables.tables) == {"members", "missions", "plenaries"}


def test_file_not_in_utf8_is_an_error_for_the_table(tmp_path: Path) -> None:
    base_tables(tmp_path)
    (tmp_path / "Membres.csv").write_bytes(
        "Nom,Date d'adhésion\r\nZoé,2024-03-01\r\n".encode("cp1252")
    )
    tables = read(tmp_path)
    assert [(e.table, e.record, e.field) for e in tables.errors] == [("Membres", None, None)]
    assert "UTF-8" in tables.errors[0].message
    assert "members" not in tables.tables


def test_missing_data_folder_stops_the_read(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Dossier de données introuvable"):
        read(tmp_path / "absent")


def test_reader_never_writes_into_the_folder(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Factures.csv", "N°,Entrepreneur·e,Date,Montant HT", "F1,Alice Martin,x,abc")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    read(tmp_path)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before


# Columns


def test_missing_required_column_rejects_the_whole_table(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", "Nom,Email", "Alice Martin,alice@example.org")
    tables = read(tmp_path)
    message = (
        "La colonne « Date d'adhésion » manque dans « Membres.csv » : elle est obligatoire, "
        "la table n'est donc pas lue."
    )
    assert tables.errors == [DataError("Membres", None, "Date d'adhésion", message)]
    assert "members" not in tables.tables
    assert "missions" in tables.tables


def test_missing_optional_column_reads_as_empty(tmp_path: Path) -> None:
    base_tables(tmp_path)
    tables = read(tmp_path)
    assert tables.errors == []
    assert record(tables, "members").values == {
        "name": "Alice Martin",
        "joined_on": date(2024, 3, 1),
    }


def test_unknown_extra_columns_are_ignored(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", f"Notes,{MEMBERS_HEADER}", "rappeler,Alice Martin,2024-03-01")
    tables = read(tmp_path)
    assert record(tables, "members").values["name"] == "Alice Martin"


def test_renamed_labels_name_the_file_columns_and_errors(tmp_path: Path) -> None:
    schema = Schema.from_mapping({"members": {"table": "Adhérents", "joined_on": "Date d'entrée"}})
    write(tmp_path, "Adhérents.csv", "Nom,Date d'entrée", "Alice Martin,2024-03-01", "Bruno,hier")
    write(tmp_path, "Missions.csv", MISSIONS_HEADER, "Site vitrine,Signée")
    tables = read(tmp_path, schema)
    assert record(tables, "members").values["joined_on"] == date(2024, 3, 1)
    assert [(e.table, e.record, e.field) for e in tables.errors] == [
        ("Adhérents", "Bruno", "Date d'entrée")
    ]


# Records


def test_named_record_is_identified_by_its_stripped_primary_value(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", MEMBERS_HEADER, "  Alice Martin ,2024-03-01")
    member = record(read(tmp_path), "members")
    assert (member.id, member.name, member.primary) == ("Alice Martin",) * 3


def test_record_with_empty_primary_is_named_by_its_spreadsheet_row(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(
        tmp_path,
        "Membres.csv",
        f"{MEMBERS_HEADER},Adresse",
        'Alice Martin,2024-03-01,"1 rue de la Paix\n75002 Paris"',
        " ,2024-04-01,",
    )
    tables = read(tmp_path)
    unnamed = record(tables, "members", 1)
    assert (unnamed.id, unnamed.name, unnamed.primary) == ("ligne 3", "ligne 3", None)
    message = "« Nom » : ce champ obligatoire est vide."
    assert tables.errors == [DataError("Membres", "ligne 3", "Nom", message)]
    assert unnamed.invalid == {"name"}


def test_records_of_unnamed_tables_are_named_by_row(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Bénévolat.csv", "Membre,Semaine,Heures", "Alice Martin,2026-03-02,4")
    week = record(read(tmp_path), "volunteering")
    assert (week.id, week.name, week.primary) == ("ligne 2", "ligne 2", None)
    assert week.values == {"member": ["Alice Martin"], "week": date(2026, 3, 2), "hours": 4}


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", MEMBERS_HEADER, "Alice Martin,2024-03-01", ",", " , ")
    tables = read(tmp_path)
    assert tables.errors == []
    assert len(tables.tables["members"]) == 1


def test_required_field_left_empty_is_reported_and_invalid(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", MEMBERS_HEADER, "Alice Martin,")
    tables = read(tmp_path)
    message = "« Date d'adhésion » : ce champ obligatoire est vide."
    assert tables.errors == [DataError("Membres", "Alice Martin", "Date d'adhésion", message)]
    assert record(tables, "members").invalid == {"joined_on"}


def test_every_other_record_is_still_read_after_a_bad_value(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(
        tmp_path,
        "Membres.csv",
        f"{MEMBERS_HEADER},Email",
        "Alice Martin,2024-03-01,alice@example.org",
        "Bruno Petit,31/02/2024,bruno@example.org",
        "Chloé Roux,2024-05-01,chloe@example.org",
    )
    tables = read(tmp_path)
    members = tables.tables["members"]
    assert [m.name for m in members] == ["Alice Martin", "Bruno Petit", "Chloé Roux"]
    assert members[1].values == {"name": "Bruno Petit", "email": "bruno@example.org"}
    assert members[1].invalid == {"joined_on"}
    assert [e.record for e in tables.errors] == ["Bruno Petit"]


# Cells


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1\u202f234,56 €", "1234.56"),  # narrow no-break space, as French locales write it
        ("1\u00a0234,56\u00a0€", "1234.56"),
        ("€1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1250,50", "1250.50"),
        ("1250.5", "1250.5"),
        ("-1 250,50 €", "-1250.50"),
        ("-€1,234.56", "-1234.56"),
        ("€-1,234.56", "-1234.56"),
        ("\u22121 250,50 €", "-1250.50"),  # the typographic minus sign
        ("€12,345,678.90", "12345678.90"),
        ("3 000", "3000"),
    ],
)
def test_amount_is_read_with_french_and_airtable_separators(
    tmp_path: Path, cell: str, amount: str
) -> None:
    assert read_value(tmp_path, "CA HT", cell, "revenue") == Decimal(amount)


@pytest.mark.parametrize(
    "cell", ["abc", "NaN", "inf", "12 €50", "1,23.45", "1.234,", "--5", "5-", "€"]
)
def test_text_in_an_amount_is_an_error(tmp_path: Path, cell: str) -> None:
    mission, errors = read_cell(tmp_path, "CA HT", cell)
    message = f"« CA HT » : « {cell} » n'est pas un montant."
    assert errors == [DataError("Missions", "Site vitrine", "CA HT", message)]
    assert mission.invalid == {"revenue"}
    assert "revenue" not in mission.values


@pytest.mark.parametrize("cell", ["1.234.567", "1,234,567"])
def test_repeated_separator_alone_is_ambiguous(tmp_path: Path, cell: str) -> None:
    mission, errors = read_cell(tmp_path, "CA HT", cell)
    assert len(errors) == 1
    assert errors[0].message.startswith(f"« CA HT » : « {cell} » est ambigu")
    assert mission.invalid == {"revenue"}


def test_text_in_a_number_is_called_not_a_number(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Bénévolat.csv", "Membre,Semaine,Heures", "Alice Martin,2026-03-02,quatre")
    message = "« Heures » : « quatre » n'est pas un nombre."
    assert read(tmp_path).errors == [DataError("Bénévolat", "ligne 2", "Heures", message)]


def test_long_bad_value_is_cut_in_the_message(tmp_path: Path) -> None:
    _, errors = read_cell(tmp_path, "CA HT", "environ " + "x" * 100)
    quoted = errors[0].message.split("« ")[2].split(" »")[0]
    assert len(quoted) == 60
    assert quoted.endswith("…")


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2026-03-09", date(2026, 3, 9)),
        ("09/03/2026", date(2026, 3, 9)),
        ("9/3/2026", date(2026, 3, 9)),
    ],
)
def test_date_is_read_in_iso_or_french_form(tmp_path: Path, cell: str, day: date) -> None:
    assert read_value(tmp_path, "Date de livraison", cell, "delivered_on") == day


def test_impossible_date_is_an_error(tmp_path: Path) -> None:
    mission, errors = read_cell(tmp_path, "Date de livraison", "31/02/2026")
    message = "« Date de livraison » : « 31/02/2026 » n'existe pas dans le calendrier."
    assert errors == [DataError("Missions", "Site vitrine", "Date de livraison", message)]
    assert mission.invalid == {"delivered_on"}


@pytest.mark.parametrize("cell", ["mars 2026", "2026/03/09", "09-03-2026", "09/03/26"])
def test_date_in_another_form_is_an_error(tmp_path: Path, cell: str) -> None:
    _, errors = read_cell(tmp_path, "Date de livraison", cell)
    assert [e.message for e in errors] == [
        f"« Date de livraison » : « {cell} » n'est pas une date "
        "(formats acceptés : JJ/MM/AAAA ou AAAA-MM-JJ)."
    ]


def checkbox(folder: Path, cell: str) -> tuple[SourceRecord, list[DataError]]:
    base_tables(folder)
    write(
        folder, "Membres.csv", f"{MEMBERS_HEADER},Membre fondateur·rice", f"Alice,2024-03-01,{cell}"
    )
    tables = read(folder)
    return record(tables, "members"), tables.errors


@pytest.mark.parametrize("cell", ["checked", "CHECKED", "true", "Oui", "yes", "1", "x", "X"])
def test_checkbox_reads_checked_values(tmp_path: Path, cell: str) -> None:
    assert checkbox(tmp_path, cell)[0].values["founder"] is True


@pytest.mark.parametrize("cell", ["false", "Non", "no", "0"])
def test_checkbox_reads_unchecked_values(tmp_path: Path, cell: str) -> None:
    assert checkbox(tmp_path, cell)[0].values["founder"] is False


def test_empty_checkbox_is_absent(tmp_path: Path) -> None:
    member, errors = checkbox(tmp_path, "")
    assert "founder" not in member.values
    assert errors == []


def test_checkbox_with_another_word_is_an_error(tmp_path: Path) -> None:
    member, errors = checkbox(tmp_path, "peut-être")
    assert [e.message for e in errors] == [
        "« Membre fondateur·rice » : « peut-être » n'est pas une valeur de case à cocher "
        "(valeurs acceptées : checked, oui/non, true/false, yes/no, 1/0, x)."
    ]
    assert member.invalid == {"founder"}


def test_email_is_read(tmp_path: Path) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", f"{MEMBERS_HEADER},Email", "Alice,2024-03-01, alice@coop.fr ")
    assert record(read(tmp_path), "members").values["email"] == "alice@coop.fr"


@pytest.mark.parametrize(
    "cell", ["alice.coop.fr", "alice@coop", "alice@@coop.fr", "a lice@coop.fr"]
)
def test_email_that_is_not_an_address_is_an_error(tmp_path: Path, cell: str) -> None:
    base_tables(tmp_path)
    write(tmp_path, "Membres.csv", f"{MEMBERS_HEADER},Email", f"Alice,2024-03-01,{cell}")
    message = f"« Email » : « {cell} » n'est pas une adresse e-mail."
    assert read(tmp_path).errors == [DataError("Membres", "Alice", "Email", message)]


def test_select_is_read_as_stripped_text_without_checking_options(tmp_path: Path) -> None:
    mission, errors = read_cell(tmp_path, "Implication du porteur·euse", " Coaching ")
    assert mission.values["bearer_involvement"] == "Coaching"
    assert errors == []


def test_links_are_split_on_commas_outside_quotes(tmp_path: Path) -> None:
    team = read_value(tmp_path, "Équipe", 'Alice Martin, ""Petit, Bruno"",Chloé', "team")
    assert team == ["Alice Martin", "Petit, Bruno", "Chloé"]


def test_single_link_with_several_records_keeps_none(tmp_path: Path) -> None:
    mission, errors = read_cell(tmp_path, "Porteur·euse", "Alice Martin, Bruno Petit")
    assert [e.message for e in errors] == [
        "« Porteur·euse » : « Alice Martin, Bruno Petit » cite 2 enregistrements alors "
        "qu'un seul est permis : aucun n'est retenu."
    ]
    assert "bearer" not in mission.values
    assert mission.invalid == {"bearer"}


def test_link_cell_of_only_separators_is_empty(tmp_path: Path) -> None:
    mission, errors = read_cell(tmp_path, "Équipe", " , ")
    assert "team" not in mission.values
    assert errors == []
