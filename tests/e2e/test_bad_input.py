"""A workbook full of mistakes: every problem is reported once, every valid record processed."""

from __future__ import annotations

from datetime import date

import pytest

from flows.daily import daily

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

FILES = {
    "Membres.csv": (
        "Nom,Email,Date d'adhésion,Rôle\n"
        "Alice Martin,alice@example.org,2024-03-15,Entrepreneur·e\n"
        "Alice Martin,alice2@example.org,2025-01-10,Entrepreneur·e\n"
        "Bob Leroy,bob@example.org,15/03/2024,Entrepreneur·e\n"
        "Chloé Vidal,chloe@example.org,2024-03-15,Consultante\n"
    ),
    "Missions.csv": (
        "Mission,Client,Porteur·euse,Implication du porteur·euse,Chef·fe de projet,Lead dev,"
        "CA HT,Coûts directs,Étape,Date de mi-parcours\n"
        "Site vitrine,Boulangerie,Bob Leroy,Cahier des charges,Bob Leroy,Bob Leroy,"
        '"12 000,00 €",2000,Mi-parcours,2026-11-02\n'
        "Appli RH,Mairie,Bob Leroy,Développement,Bob Leroy,Bob Leroy,beaucoup,0,Mi-parcours,\n"
        "Extranet,Syndic,Bob Leroy,Apport d'affaire,Bob Leroy,Bob Leroy,5000,0,En pause,\n"
        "Boutique,Fromagerie,Zoé Inconnue,Apport d'affaire,Bob Leroy,Bob Leroy,5000,0,"
        "Mi-parcours,\n"
        "Portail,Alice & co,Alice Martin,Développement,Bob Leroy,Bob Leroy,3000,0,Mi-parcours,\n"
    ),
    # A required column (Montant HT) is missing: the whole table is reported and left out.
    "Factures.csv": "N°,Entrepreneur·e,Date\nF1,Bob Leroy,2026-10-03\n",
}


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("bad-data")
    for name, text in FILES.items():
        (data / name).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("bad-out")
    return daily(data=str(data), as_of=date(2026, 11, 26), out=str(out))


def errors(summary: dict) -> list[tuple[str, str | None, str | None]]:
    return sorted((e["table"], e["record"], e["field"]) for e in summary["errors"])


def test_every_problem_is_reported_once_with_table_record_and_field(summary):
    assert errors(summary) == sorted(
        [
            ("Membres", "Alice Martin", "Nom"),
            ("Membres", "Alice Martin", "Nom"),
            ("Membres", "Chloé Vidal", "Rôle"),
            ("Missions", "Appli RH", "CA HT"),
            ("Missions", "Extranet", "Étape"),
            ("Missions", "Boutique", "Porteur·euse"),
            ("Factures", None, "Montant HT"),
        ]
    )


def test_error_messages_are_french_and_quote_the_bad_value(summary):
    by_record = {(e["record"], e["field"]): e["message"] for e in summary["errors"]}
    assert "beaucoup" in by_record[("Appli RH", "CA HT")]
    assert "En pause" in by_record[("Extranet", "Étape")]
    assert "Zoé Inconnue" in by_record[("Boutique", "Porteur·euse")]
    assert "Consultante" in by_record[("Chloé Vidal", "Rôle")]


def test_valid_records_are_still_processed(summary):
    keys = {d["key"] for d in summary["documents"]}
    # Bob's good mission is paid; Chloé (bad role only) still gets her associate reminder.
    assert "payout_mid:Site vitrine" in keys
    assert "associate_reminder:Chloé Vidal:6" in keys
    (notice,) = [d for d in summary["documents"] if d["key"] == "payout_mid:Site vitrine"]
    assert notice["amount"] == "750.00"
    # Left out: the bad amount, the unknown stage, the unknown bearer, the duplicate bearer.
    assert not keys & {
        "payout_mid:Appli RH",
        "payout_mid:Extranet",
        "payout_mid:Boutique",
        "payout_mid:Portail",
    }
    assert not any(d["member"] == "Alice Martin" for d in summary["documents"])


def test_a_run_with_data_errors_still_completes_with_its_summary(summary):
    assert summary["source"] == "local"
    assert summary["alerts"] is not None
