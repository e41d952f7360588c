"""Building the cooperative from any source's tables: duplicates, selects, links, left-out records.

Most tables here are built as an Airtable source would return them, with opaque record ids, to
show that the assembler does not rely on CSV's "the id is the name".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from charter.model import Attendance, Presence, Role, Stage, VolunteeringWeek, Workshop
from integrations.assemble import Assembly, assemble
from integrations.base import DataError, SourceRecord, SourceTables
from integrations.workbook import LocalWorkbook
from services.records import load
from settings.defaults import EXAMPLE_DIR
from settings.schema import Schema

SCHEMA = Schema.default()


def member(id: str, name: str | None, **values: Any) -> SourceRecord:
    values = {"joined_on": date(2024, 3, 1), **values}
    return SourceRecord(id, name or f"ligne {id}", name, {"name": name, **values})


def mission(id: str, title: str, **values: Any) -> SourceRecord:
    return SourceRecord(id, title, title, {"title": title, "stage": "Signée", **values})


def row(id: str, **values: Any) -> SourceRecord:
    return SourceRecord(id, id, None, values)


def named(id: str, primary: str, **values: Any) -> SourceRecord:
    return SourceRecord(id, primary, primary, values)


def tables(**records: list[SourceRecord]) -> SourceTables:
    return SourceTables(tables={"members": [], "missions": [], **records})


ALICE = member("recAlice", "Alice Martin")
BRUNO = member("recBruno", "Bruno Petit")


# Building


def reported_once(source: Any, table: str, record: str, field: str, message: str) -> Any:
    """Assemble ``source``, which must report exactly this one error; return the cooperative."""
    cooperative, errors = assemble(source, SCHEMA)
    assert errors == [DataError(table, record, field, message)]
    return cooperative


def assert_emptied(built: Any, attribute: str, name: str) -> None:
    """The record's ``attribute`` is left empty and marked ``name`` for the rules to skip."""
    assert getattr(built, attribute) is None
    assert built.invalid == {name}


def test_builds_members_and_missions_keyed_by_their_source_ids() -> None:
    source = tables(
        members=[
            ALICE,
            member("recBruno", "Bruno Petit", sponsor=["recAlice"], role="Équipe d'appui"),
        ],
        missions=[
            mission(
                "recSite",
                "Site vitrine",
                bearer=["recAlice"],
                team=["recAlice", "recBruno", "recAlice"],
                revenue=Decimal("12000"),
            )
        ],
    )
    cooperative, errors = assemble(source, SCHEMA)
    assert errors == []
    bruno = cooperative.members["recBruno"]
    assert (bruno.name, bruno.sponsor_id, bruno.role) == (
        "Bruno Petit",
        "recAlice",
        Role.SUPPORT_STAFF,
    )
    site = cooperative.missions["recSite"]
    assert (site.title, site.stage, site.bearer_id) == ("Site vitrine", Stage.SIGNED, "recAlice")
    assert site.team_ids == ("recAlice", "recBruno")
    assert site.revenue == Decimal("12000")


def test_direct_costs_default_to_zero() -> None:
    invoice = named("recF1", "F1", entrepreneur=["recAlice"], issued_on=date(2026, 3, 2))
    cooperative, _ = assemble(
        tables(members=[ALICE], missions=[mission("recSite", "Site")], invoices=[invoice]), SCHEMA
    )
    assert cooperative.missions["recSite"].direct_costs == Decimal("0")
    assert cooperative.invoices is not None
    assert cooperative.invoices[0].direct_costs == Decimal("0")


def test_optional_tables_absent_from_the_source_are_none() -> None:
    cooperative, _ = assemble(tables(members=[ALICE]), SCHEMA)
    assert cooperative.invoices is None
    assert cooperative.plenaries is None
    assert cooperative.attendance is None
    assert cooperative.volunteering is None
    assert cooperative.workshops is None


def test_optional_tables_present_but_empty_are_empty() -> None:
    source = tables(invoices=[], plenaries=[], attendance=[], volunteering=[], workshops=[])
    cooperative, _ = assemble(source, SCHEMA)
    assert cooperative.invoices == []
    assert cooperative.plenaries == {}
    assert cooperative.attendance == []
    assert cooperative.volunteering == []
    assert cooperative.workshops == []


def test_records_keep_the_source_order() -> None:
    names = ["Zoé", "Alice", "Marc", "Bruno"]
    source = tables(members=[member(f"rec{i}", name) for i, name in enumerate(names)])
    cooperative, _ = assemble(source, SCHEMA)
    assert [m.name for m in cooperative.members.values()] == names


def test_source_errors_are_not_repeated() -> None:
    source = tables(members=[ALICE])
    source.errors.append(DataError("Membres", "Alice Martin", "Email", "« Email » : …"))
    assert assemble(source, SCHEMA)[1] == []


# Primary values


def test_record_with_empty_primary_is_reported_and_left_out() -> None:
    source = tables(members=[ALICE, SourceRecord("recX", "ligne 3", None, {})])
    cooperative, errors = assemble(source, SCHEMA)
    message = "« Nom » est vide : l'enregistrement est ignoré."
    assert errors == [DataError("Membres", "ligne 3", "Nom", message)]
    assert list(cooperative.members) == ["recAlice"]


def test_empty_primary_the_source_reported_is_not_reported_again() -> None:
    unnamed = SourceRecord("ligne 3", "ligne 3", None, {}, frozenset({"name"}))
    cooperative, errors = assemble(tables(members=[ALICE, unnamed]), SCHEMA)
    assert errors == []
    assert list(cooperative.members) == ["recAlice"]


def test_members_sharing_a_name_are_all_reported_and_left_out() -> None:
    source = tables(
        members=[
            member("rec1", "Zoé Durand"),
            ALICE,
            member("rec2", " Zoe\u0301 Durand "),  # the same name, decomposed and padded
        ]
    )
    cooperative, errors = assemble(source, SCHEMA)
    message = (
        "Doublon : « Zoé Durand » figure 2 fois dans Membres ; "
        "tous ces enregistrements sont ignorés, celui-ci compris."
    )
    assert [(e.record, e.field, e.message) for e in errors] == [
        ("Zoé Durand", "Nom", message),
        (" Zoe\u0301 Durand ", "Nom", message),
    ]
    assert list(cooperative.members) == ["recAlice"]


def test_duplicate_missions_are_left_out() -> None:
    source = tables(missions=[mission("rec1", "Site"), mission("rec2", "Site")])
    cooperative, errors = assemble(source, SCHEMA)
    assert cooperative.missions == {}
    assert [(e.table, e.field) for e in errors] == [("Missions", "Mission")] * 2


# Selects


def test_unknown_select_value_is_reported_listing_the_allowed_ones() -> None:
    source = tables(missions=[mission("recSite", "Site", stage="Terminée")])
    message = (
        "« Étape » : « Terminée » n'est pas une valeur prévue (valeurs possibles : "
        "Devis, Signée, En développement, Mi-parcours, Livrée, Annulée)."
    )
    cooperative = reported_once(source, "Missions", "Site", "Étape", message)
    assert_emptied(cooperative.missions["recSite"], "stage", "stage")


def test_select_value_is_matched_after_strip_and_normalization() -> None:
    source = tables(missions=[mission("recSite", "Site", stage=" Livre\u0301e")])
    cooperative, errors = assemble(source, SCHEMA)
    assert errors == []
    assert cooperative.missions["recSite"].stage is Stage.DELIVERED


def test_workshop_kind_stays_text() -> None:
    workshop = named("recW", "Veille IA", date=date(2026, 3, 5), kind="Veille")
    cooperative, _ = assemble(tables(workshops=[workshop]), SCHEMA)
    assert cooperative.workshops == [Workshop("recW", "Veille IA", date(2026, 3, 5), "Veille")]


# Links


def test_dangling_link_is_reported_and_treated_as_empty() -> None:
    source = tables(members=[ALICE], missions=[mission("recSite", "Site", bearer=["recGhost"])])
    message = (
        "« Porteur·euse » renvoie à « recGhost », introuvable dans Membres : ce lien est ignoré."
    )
    cooperative = reported_once(source, "Missions", "Site", "Porteur·euse", message)
    assert_emptied(cooperative.missions["recSite"], "bearer_id", "bearer")


def test_dangling_team_member_is_dropped_and_the_others_kept() -> None:
    site = mission("recSite", "Site", team=["recAlice", "recGhost", "recBruno"])
    cooperative, errors = assemble(tables(members=[ALICE, BRUNO], missions=[site]), SCHEMA)
    assert [e.field for e in errors] == ["Équipe"]
    assert cooperative.missions["recSite"].team_ids == ("recAlice", "recBruno")
    assert cooperative.missions["recSite"].invalid == frozenset()


def test_link_to_a_duplicate_is_empty_without_a_new_error() -> None:
    twins = [member("rec1", "Zoé Durand"), member("rec2", "Zoé Durand")]
    site = mission("recSite", "Site", bearer=["rec1"], team=["rec2", "recAlice"])
    cooperative, errors = assemble(tables(members=[ALICE, *twins], missions=[site]), SCHEMA)
    assert [e.record for e in errors] == ["Zoé Durand", "Zoé Durand"]
    built = cooperative.missions["recSite"]
    assert built.bearer_id is None
    assert built.invalid == {"bearer"}  # the rules skip it silently: it was reported once
    assert built.team_ids == ("recAlice",)


def test_member_sponsoring_themself_is_reported_and_has_no_sponsor() -> None:
    source = tables(members=[member("recAlice", "Alice Martin", sponsor=["recAlice"])])
    message = (
        "« Parrain·marraine » : un membre ne peut pas être son propre parrain ni sa propre "
        "marraine ; ce lien est ignoré."
    )
    cooperative = reported_once(source, "Membres", "Alice Martin", "Parrain·marraine", message)
    assert_emptied(cooperative.members["recAlice"], "sponsor_id", "sponsor")


def test_links_into_a_table_the_source_lacks_are_empty_without_error() -> None:
    attendance = [row("ligne 2", plenary=["AG"], member=["recAlice"], presence="Présent·e")]
    cooperative, errors = assemble(tables(members=[ALICE], attendance=attendance), SCHEMA)
    assert errors == []
    assert cooperative.attendance == []


# Records that cannot be built


def test_plenary_without_date_is_left_out_and_its_attendance_too() -> None:
    plenaries = [named("recAG", "AG 2026", date=date(2026, 6, 1)), named("recAGE", "AGE 2026")]
    attendance = [
        row("ligne 2", plenary=["recAGE"], member=["recAlice"], presence="Présent·e"),
        row("ligne 3", plenary=["recAG"], member=["recAlice"], presence="Absence injustifiée"),
    ]
    source = tables(members=[ALICE], plenaries=plenaries, attendance=attendance)
    cooperative, errors = assemble(source, SCHEMA)
    assert errors == []
    assert cooperative.plenaries is not None
    assert list(cooperative.plenaries) == ["recAG"]
    assert cooperative.attendance == [Attendance("recAG", "recAlice", Presence.UNJUSTIFIED)]


def test_attendance_with_an_unknown_presence_is_reported_and_left_out() -> None:
    plenaries = [named("recAG", "AG 2026", date=date(2026, 6, 1))]
    attendance = [row("ligne 2", plenary=["recAG"], member=["recAlice"], presence="Excusé")]
    source = tables(members=[ALICE], plenaries=plenaries, attendance=attendance)
    cooperative, errors = assemble(source, SCHEMA)
    assert [(e.table, e.record, e.field) for e in errors] == [("Présences", "ligne 2", "Présence")]
    assert cooperative.attendance == []


def test_volunteering_rows_missing_a_value_are_left_out_silently() -> None:
    weeks = [
        row("ligne 2", member=["recAlice"], week=date(2026, 3, 2), hours=Decimal("4")),
        SourceRecord(
            "ligne 3", "ligne 3", None, {"member": ["recAlice"]}, frozenset({"week", "hours"})
        ),
    ]
    cooperative, errors = assemble(tables(members=[ALICE], volunteering=weeks), SCHEMA)
    assert errors == []
    assert cooperative.volunteering == [
        VolunteeringWeek("recAlice", date(2026, 3, 2), Decimal("4"))
    ]


def test_invoice_without_amount_is_kept_with_its_invalid_set() -> None:
    invoice = SourceRecord(
        "recF1", "F1", "F1", {"number": "F1", "entrepreneur": ["recAlice"]}, frozenset({"amount"})
    )
    cooperative, errors = assemble(tables(members=[ALICE], invoices=[invoice]), SCHEMA)
    assert errors == []
    assert cooperative.invoices is not None
    (built,) = cooperative.invoices
    assert (built.number, built.entrepreneur_id, built.amount) == ("F1", "recAlice", None)
    assert built.invalid == {"amount"}


def test_member_without_joining_date_is_kept_with_none() -> None:
    unknown_date = SourceRecord(
        "recA", "Alice", "Alice", {"name": "Alice"}, frozenset({"joined_on"})
    )
    cooperative, _ = assemble(tables(members=[unknown_date]), SCHEMA)
    alice = cooperative.members["recA"]
    assert alice.joined_on is None
    assert alice.invalid == {"joined_on"}


# From a folder: every other record is still processed


def write(folder: Path, name: str, *lines: str) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_every_other_record_is_still_processed(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Membres.csv",
        "Nom,Date d'adhésion,Rôle,Parrain·marraine",
        "Alice Martin,01/03/2024,Entrepreneur·e,",
        "Bruno Petit,31/02/2024,Entrepreneur·e,Alice Martin",  # impossible date
        "Chloé Roux,2024-05-01,Stagiaire,Personne",  # unknown role, unknown sponsor
        "Zoé Durand,2024-06-01,,",
        "Zoé Durand,2024-07-01,,",  # duplicate
        "Marc Blanc,2024-08-01,,Zoé Durand",  # sponsor left out
    )
    write(
        tmp_path,
        "Missions.csv",
        "Mission,Étape,Porteur·euse,CA HT,Coûts directs",
        "Site vitrine,Signée,Alice Martin,12 000,500",
        "Appli,Signée,Chloé Roux,douze mille,",  # bad amount
        "Refonte,Finie,Marc Blanc,3000,",  # unknown stage
    )
    source = LocalWorkbook(tmp_path).read(SCHEMA)
    cooperative, errors = assemble(source, SCHEMA)

    assert list(cooperative.members) == ["Alice Martin", "Bruno Petit", "Chloé Roux", "Marc Blanc"]
    assert cooperative.members["Bruno Petit"].sponsor_id == "Alice Martin"
    assert cooperative.members["Chloé Roux"].invalid == {"role", "sponsor"}
    assert cooperative.members["Marc Blanc"].sponsor_id is None
    assert list(cooperative.missions) == ["Site vitrine", "Appli", "Refonte"]
    assert cooperative.missions["Site vitrine"].direct_costs == Decimal("500")
    assert cooperative.missions["Appli"].bearer_id == "Chloé Roux"
    assert cooperative.missions["Refonte"].revenue == Decimal("3000")
    reported = [(e.table, e.record, e.field) for e in source.errors + errors]
    assert reported == [
        ("Membres", "Bruno Petit", "Date d'adhésion"),
        ("Missions", "Appli", "CA HT"),
        ("Membres", "Zoé Durand", "Nom"),
        ("Membres", "Zoé Durand", "Nom"),
        ("Membres", "Chloé Roux", "Rôle"),
        ("Membres", "Chloé Roux", "Parrain·marraine"),
        ("Missions", "Refonte", "Étape"),
    ]


# Table by table (bench/README.md, memory at L)


def test_a_read_into_an_assembly_builds_the_same_cooperative_and_keeps_no_records() -> None:
    schema = Schema.default()
    read = LocalWorkbook(EXAMPLE_DIR).read(schema)
    assembly = Assembly(schema)
    streamed = LocalWorkbook(EXAMPLE_DIR).read(schema, into=SourceTables(sink=assembly))
    cooperative, errors = assembly.finish()

    assert streamed.tables == {}  # each table went to the assembly, none was kept
    assert (cooperative, errors) == assemble(read, schema)
    assert streamed.errors == read.errors
    assert streamed.missing_tables == read.missing_tables


def test_load_builds_the_cooperative_from_the_tables_as_they_are_read() -> None:
    schema = Schema.default()
    records = load(LocalWorkbook(EXAMPLE_DIR), schema)
    tables = LocalWorkbook(EXAMPLE_DIR).read(schema)
    cooperative, errors = assemble(tables, schema)

    assert records.coop == cooperative
    assert records.errors == tables.errors + errors


def test_a_table_handed_over_after_one_that_links_to_it_is_refused() -> None:
    assembly = Assembly(SCHEMA)
    assembly.add("missions", [mission("recSite", "Site vitrine", bearer=["recAlice"])])
    with pytest.raises(ValueError, match="members"):
        assembly.add("members", [ALICE])


def test_records_share_their_link_ids_and_empty_invalid_sets() -> None:
    """What 560,000 records would otherwise each hold a copy of (bench/README.md)."""

    def read(text: str) -> str:
        return "".join(text)  # a new string, as a source reads each cell

    source = tables(
        members=[ALICE, BRUNO],
        missions=[
            mission("recSite", "Site vitrine", bearer=[read("recAlice")]),
            mission("recAppli", "Appli", bearer=[read("recAlice")], team=[read("recBruno")]),
        ],
    )
    cooperative, errors = assemble(source, SCHEMA)

    assert errors == []
    site, appli = cooperative.missions["recSite"], cooperative.missions["recAppli"]
    alice = cooperative.members["recAlice"]
    assert site.bearer_id is alice.id and appli.bearer_id is alice.id
    assert appli.team_ids[0] is cooperative.members["recBruno"].id
    assert site.invalid == frozenset() and site.invalid is appli.invalid is alice.invalid
