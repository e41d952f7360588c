"""Synthetic cooperatives at three sizes, realistic in shape, deterministic for a seed.

    python -m bench.generate --size M --out /tmp/coop-M [--seed 7] [--as-of 2026-11-26]

writes one CSV file per table (the labels of ``settings/schema.py``, links by primary value,
as ``cae/example/``) and a ``cae.toml`` whose ``go_live`` is the first day of the month before
``as_of``: a run then issues about a month of documents and records the years before it as
``historical``. ``load_into_emulator`` puts the same records into the Airtable emulator through
its Python API (a bulk load, not HTTP: 500,000 records over HTTP would take hours).

The shape: members joining over eight years (more recently than long ago), founders, support
staff, sponsors for most newcomers (each with a first mission piloted for them), resignations by
every channel (some in trial, some invalid), a few non-renewals, associates; missions over four
years at every stage (quote, signed, in development, midway, delivered, cancelled, a few lagging
stages whose dates say more), with bearers, project managers, lead developers and teams; invoices
spread over each mission's life; a plenary every month of the last year with attendance (three
unjustified absences excluded the member, by the staff's hand when long ago); volunteering weeks
for the last three months; two workshops a month.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from charter.dates import add_months, first_of_month, previous_month
from settings.schema import Schema

AS_OF = date(2026, 11, 26)
SEED = 7


@dataclass(frozen=True)
class Size:
    name: str
    members: int
    missions: int
    invoices: int


SIZES = {
    "S": Size("S", 30, 100, 200),
    "M": Size("M", 1_000, 10_000, 20_000),
    "L": Size("L", 10_000, 100_000, 200_000),
}


def go_live_for(as_of: date) -> date:
    """The first day of the month before ``as_of``'s: 2026-11-26 → 2026-10-01."""
    return previous_month(as_of)


FIRST_NAMES = [
    "Aïcha",
    "Amandine",
    "Antoine",
    "Bastien",
    "Benoît",
    "Camille",
    "Chloé",
    "Clément",
    "Damien",
    "Denis",
    "Élodie",
    "Émilie",
    "Fabrice",
    "Fatou",
    "Florian",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jade",
    "Julien",
    "Karim",
    "Laure",
    "Léa",
    "Lucie",
    "Malik",
    "Manon",
    "Marc",
    "Margaux",
    "Mathis",
    "Nadia",
    "Nicolas",
    "Noémie",
    "Océane",
    "Olivier",
    "Pauline",
    "Quentin",
    "Rachid",
    "Romane",
    "Samir",
    "Sarah",
    "Sébastien",
    "Sofiane",
    "Sophie",
    "Thomas",
    "Théo",
    "Valentin",
    "Victoire",
    "Yanis",
    "Yasmine",
    "Zoé",
    "Agathe",
    "Baptiste",
    "Capucine",
    "Djibril",
    "Esteban",
    "Félix",
    "Guillaume",
    "Héloïse",
    "Iris",
    "Jules",
]
LAST_NAMES = [
    "Benali",
    "Bernard",
    "Bertrand",
    "Blanc",
    "Bonnet",
    "Boyer",
    "Caron",
    "Chevalier",
    "Cohen",
    "Colin",
    "Da",
    "Silva",
    "Dubois",
    "Dumont",
    "Dupont",
    "Durand",
    "Faure",
    "Fontaine",
    "Fournier",
    "Garnier",
    "Gauthier",
    "Girard",
    "Guerin",
    "Haddad",
    "Henry",
    "Lambert",
    "Laurent",
    "Lefèvre",
    "Lemaire",
    "Leroy",
    "Martin",
    "Masson",
    "Mathieu",
    "Mercier",
    "Michel",
    "Moreau",
    "Morel",
    "Muller",
    "Nguyen",
    "Perrin",
    "Perrot",
    "Petit",
    "Picard",
    "Richard",
    "Robert",
    "Robin",
    "Roussel",
    "Roux",
    "Simon",
    "Vasseur",
    "Vincent",
    "Traoré",
    "Diallo",
    "Ferreira",
    "Rousseau",
    "Marchand",
    "Brun",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Lucas",
]
STREETS = (
    "rue de la Roquette",
    "passage Brady",
    "rue Oberkampf",
    "rue des Envierges",
    "boulevard de Belleville",
    "rue du Faubourg Saint-Denis",
    "avenue Jean Jaurès",
    "rue de Charonne",
    "quai de Jemmapes",
    "rue des Pyrénées",
)
CITIES = (
    "75011 Paris",
    "75010 Paris",
    "75020 Paris",
    "93100 Montreuil",
    "93200 Saint-Denis",
    "94200 Ivry-sur-Seine",
    "69001 Lyon",
    "13001 Marseille",
    "44000 Nantes",
    "33000 Bordeaux",
)
MISSION_KINDS = (
    "Site vitrine",
    "Application de réservation",
    "Portail adhérents",
    "Boutique en ligne",
    "Refonte intranet",
    "Automatisation de la facturation",
    "CRM sur mesure",
    "Application mobile",
    "Tableau de bord",
    "Base de données clients",
)
CLIENT_KINDS = (
    "Boulangerie",
    "Théâtre",
    "Fédération",
    "Mairie de",
    "Association",
    "Librairie",
    "Fromagerie",
    "Cabinet",
    "Atelier",
    "Épicerie",
)
CLIENT_NAMES = (
    "Dupain",
    "des Lilas",
    "Lutèce",
    "Montreuil",
    "Belleville",
    "du Marais",
    "Aligre",
    "Ménilmontant",
    "Saint-Ouen",
    "La Villette",
    "Bastille",
    "Croix-Rousse",
)
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
INVOLVEMENTS = (("Apport d'affaire", 40), ("Cahier des charges", 35), ("Développement", 25))
REGISTERED = "Lettre recommandée AR"


@dataclass
class _Member:
    index: int
    name: str
    joined_on: date
    founder: bool
    support: bool
    left_on: date | None = None  # first day no longer a member (by the staff or a rule)
    status: str = "Actif·ve"
    values: dict[str, Any] = field(default_factory=dict)

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


@dataclass
class Synthetic:
    """A generated cooperative: records by table key, values by field key, links by name."""

    size: Size
    seed: int
    as_of: date
    go_live: date
    tables: dict[str, list[dict[str, Any]]]

    def counts(self) -> dict[str, int]:
        return {key: len(rows) for key, rows in self.tables.items()}

    def write(self, folder: Path) -> Path:
        """The CSV folder (and its ``cae.toml``) a local run reads."""
        folder.mkdir(parents=True, exist_ok=True)
        schema = Schema.default()
        formats = random.Random(self.seed + 1)
        for key, rows in self.tables.items():
            spec = schema.table(key)
            with (folder / f"{spec.label}.csv").open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow([f.label for f in spec.fields])
                for row in rows:
                    writer.writerow([_cell(row.get(f.key), formats) for f in spec.fields])
        (folder / "cae.toml").write_text(
            f"# Synthetic cooperative {self.size.name} (bench/generate.py, seed {self.seed}).\n"
            f'go_live = "{self.go_live.isoformat()}"\n\n'
            "[cooperative]\n"
            f'name = "Réseau coopératif de test ({self.size.name})"\n'
            'address = "12 rue des Petites-Écuries, 75010 Paris"\n'
            'city = "Paris"\n'
            "legal = \"SCOP SA à capital variable – coopérative d'activité et d'emploi\"\n"
            'signatory_name = "Aïcha Benali"\n'
            'signatory_role = "Gérante"\n'
            'email = "contact@example.org"\n'
            'staff_email = "equipe-appui@example.org"\n',
            encoding="utf-8",
        )
        meta = {
            "size": self.size.name,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "go_live": self.go_live.isoformat(),
            "counts": self.counts(),
        }
        (folder / "bench-data.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return folder


def _cell(value: Any, formats: random.Random) -> str:
    """A CSV cell as a staff export holds it; one in ten dates and amounts in French form."""
    if value is None or value is False:
        return ""
    if value is True:
        return "checked"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if formats.random() < 0.1 else value.isoformat()
    if isinstance(value, Decimal):
        if formats.random() < 0.1:
            whole, cents = f"{value:,.2f}".split(".")
            return f"{whole.replace(',', ' ')},{cents} €"
        return f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


class _Generator:
    def __init__(self, size: Size, seed: int, as_of: date) -> None:
        self.size = size
        self.rng = random.Random(f"{seed}-{size.name}")
        self.as_of = as_of
        self.go_live = go_live_for(as_of)
        self.founded = add_months(as_of, -12 * 8)
        self.members: list[_Member] = []
        self._joined: list[date] = []  # joined_on of ``members``, sorted
        self._by_name: dict[str, _Member] = {}

    # -- helpers -----------------------------------------------------------------------------

    def day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def member_active_on(
        self, day: date, entrepreneur: bool = True, exclude: set[int] | None = None
    ) -> _Member | None:
        """A random member active on ``day`` (an entrepreneur unless told otherwise)."""
        known = bisect.bisect_right(self._joined, day)
        for _ in range(30):
            if known == 0:
                return None
            member = self.members[self.rng.randrange(known)]
            if not member.active_on(day) or (entrepreneur and member.support):
                continue
            if exclude and member.index in exclude:
                continue
            return member
        return None

    # -- members -----------------------------------------------------------------------------

    def make_members(self) -> None:
        n = self.size.members
        founders = max(3, min(8, n // 10))
        names = self._names(n)
        span = (self.as_of - self.founded).days
        joined = [
            self.founded + timedelta(days=self.rng.randint(0, 20))
            if i < founders
            else self.founded + timedelta(days=int(span * math.sqrt(self.rng.random())))
            for i in range(n)
        ]
        joined.sort()
        for i, (name, day) in enumerate(zip(names, joined, strict=True)):
            founder = i < founders
            support = not founder and self.rng.random() < 0.08
            self.members.append(_Member(i, name, min(day, self.as_of), founder, support))
        self._joined = [m.joined_on for m in self.members]
        self._by_name = {m.name: m for m in self.members}
        for member in self.members:
            self._member_values(member)
        self._sponsors()

    def _names(self, n: int) -> list[str]:
        combos = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        self.rng.shuffle(combos)
        names = combos[:n]
        extra = 0
        while len(names) < n:  # beyond the combinations, a middle initial tells them apart
            first, last = combos[extra % len(combos)].split(" ", 1)
            names.append(f"{first} {chr(65 + (extra // len(combos)) % 26)}. {last}")
            extra += 1
        return names

    def _member_values(self, m: _Member) -> None:
        rng = self.rng
        slug = m.name.lower().replace(" ", ".").replace("..", ".")
        values: dict[str, Any] = {
            "name": m.name,
            "email": f"{slug}.{m.index}@example.org",
            "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {rng.choice(CITIES)}",
            "role": "Équipe d'appui" if m.support else "Entrepreneur·e",
            "joined_on": m.joined_on,
            "founder": m.founder,
        }
        # Associates: the founders at once; most others within their three years.
        deadline = add_months(m.joined_on, 36)
        if m.founder:
            values["associate_on"] = m.joined_on
        elif deadline <= self.as_of and rng.random() < 0.9:
            values["associate_on"] = self.day_between(m.joined_on + timedelta(days=180), deadline)
        elif m.joined_on + timedelta(days=180) < self.as_of and rng.random() < 0.3:
            values["associate_on"] = self.day_between(m.joined_on + timedelta(days=180), self.as_of)
        # Resignations: in trial by any channel, later mostly by registered letter.
        if not m.founder and rng.random() < 0.15:
            received = self.day_between(
                m.joined_on + timedelta(days=20), self.as_of + timedelta(days=20)
            )
            in_trial = received < add_months(m.joined_on, 6)
            if in_trial:
                channel = rng.choice(("Email", "Lettre", REGISTERED))
            else:
                channel = rng.choices((REGISTERED, "Email", "Lettre"), (70, 20, 10))[0]
            values["resignation_received_on"] = received
            values["resignation_channel"] = channel
            effective = None
            if in_trial:
                effective = received + timedelta(days=7)
            elif channel == REGISTERED:
                effective = add_months(received, 1)
            if effective is not None and received <= self.as_of:
                m.left_on = effective + timedelta(days=1)
                if m.left_on <= self.as_of - timedelta(days=45):
                    m.status = "Sorti·e"  # the staff typed it long ago
        elif not m.founder and rng.random() < 0.006:
            values["non_renewal"] = True
            values["non_renewal_reason"] = (
                "Manquements répétés aux engagements de bénévolat (art. 11 et 13 de la charte)"
            )
        m.values = values

    def _sponsors(self) -> None:
        godchildren: dict[int, list[date]] = {}
        for m in self.members:
            if m.founder or self.rng.random() >= 0.85:
                continue
            cutoff = m.joined_on - timedelta(days=365)
            sponsor = None
            for _ in range(6):
                candidate = self.member_active_on(cutoff)
                if candidate is None or not candidate.active_on(m.joined_on):
                    continue
                load = [d for d in godchildren.get(candidate.index, []) if d > cutoff]
                sponsor = candidate
                if len(load) < 5:
                    break
            if sponsor is None and m.joined_on > self.founded + timedelta(days=30):
                sponsor = self.members[self.rng.randrange(min(3, len(self.members)))]
            if sponsor is not None and sponsor.index != m.index:
                m.values["sponsor"] = sponsor.name
                godchildren.setdefault(sponsor.index, []).append(m.joined_on)

    # -- plenaries and attendance ------------------------------------------------------------

    def plenaries(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        plenaries, attendance = [], []
        unjustified: dict[int, int] = {}
        for back in range(11, -1, -1):
            month = add_months(first_of_month(self.as_of), -back)
            day = month + timedelta(days=(3 - month.weekday()) % 7)  # first Thursday
            if day > self.as_of:
                continue
            title = f"Plénière de {MONTHS[day.month - 1]} {day.year}"
            plenaries.append({"title": title, "date": day})
            for m in self.members:
                if not m.active_on(day) or m.status != "Actif·ve":
                    continue
                draw = self.rng.random()
                if draw < 0.03:
                    presence = "Absence injustifiée"
                    unjustified[m.index] = unjustified.get(m.index, 0) + 1
                elif draw < 0.12:
                    presence = "Absence justifiée"
                else:
                    presence = "Présent·e"
                attendance.append({"plenary": title, "member": m.name, "presence": presence})
                if unjustified.get(m.index) == 3 and day < self.go_live - timedelta(days=14):
                    m.status, m.left_on = "Exclu·e", day + timedelta(days=10)
        return plenaries, attendance

    # -- missions and invoices ---------------------------------------------------------------

    def missions(self) -> list[dict[str, Any]]:
        missions: list[dict[str, Any]] = []
        for m in self.members:  # each sponsored newcomer's first mission, piloted for them
            sponsor_name = m.values.get("sponsor")
            start = m.joined_on + timedelta(days=self.rng.randint(10, 60))
            if sponsor_name is None or start > self.as_of or len(missions) >= self.size.missions:
                continue
            sponsor = self._by_name[sponsor_name]
            lead = sponsor if self.rng.random() < 0.95 else self.member_active_on(start)
            missions.append(self._mission(len(missions), start, sponsor, m, lead))
        while len(missions) < self.size.missions:
            span = (self.as_of - add_months(self.as_of, -48)).days
            start = self.as_of - timedelta(days=int(span * (1 - math.sqrt(self.rng.random()))))
            bearer = self.member_active_on(start)
            if bearer is None:
                continue
            missions.append(self._mission(len(missions), start, bearer, None, None))
        return missions

    def _mission(
        self,
        n: int,
        start: date,
        bearer: _Member,
        piloted_for: _Member | None,
        project_manager: _Member | None,
    ) -> dict[str, Any]:
        rng = self.rng
        client = f"{rng.choice(CLIENT_KINDS)} {rng.choice(CLIENT_NAMES)}"
        involvement = rng.choices([i for i, _ in INVOLVEMENTS], [w for _, w in INVOLVEMENTS])[0]
        team = {bearer.index: bearer} if involvement == "Développement" else {}
        if piloted_for is not None:
            team[piloted_for.index] = piloted_for
        for _ in range(rng.randint(1, 3)):
            other = self.member_active_on(start)
            if other is not None:
                team[other.index] = other
        lead = bearer if involvement == "Développement" else next(iter(team.values()), bearer)
        pm = project_manager or self.member_active_on(start) or bearer
        revenue = Decimal(round(rng.lognormvariate(9.6, 0.6) / 50) * 50).quantize(Decimal("1"))
        costs = Decimal(0)
        if rng.random() < 0.6:
            costs = (revenue * Decimal(rng.randint(5, 25)) / 100).quantize(Decimal("10"))
        values: dict[str, Any] = {
            "title": f"{rng.choice(MISSION_KINDS)} {client} n°{n + 1}",
            "client": client,
            "bearer": bearer.name,
            "bearer_involvement": involvement,
            "project_manager": pm.name,
            "lead_developer": lead.name,
            "team": [t.name for t in team.values()],
            "revenue": revenue,
            "direct_costs": costs,
            "piloted_for": piloted_for.name if piloted_for is not None else None,
        }
        if rng.random() < 0.01:
            values["lead_developer"] = None  # signed without one: an alert
        signed_on = start + timedelta(days=rng.randint(7, 45))
        mid_on = signed_on + timedelta(days=rng.randint(20, 100))
        delivered_on = mid_on + timedelta(days=rng.randint(20, 100))
        cancelled_on = self.day_between(start, delivered_on) if rng.random() < 0.05 else None
        if cancelled_on is not None and cancelled_on <= self.as_of:
            values["stage"] = "Annulée"
            if mid_on <= cancelled_on:
                values["mid_on"] = mid_on
        elif signed_on > self.as_of:
            values["stage"] = "Devis"
        elif mid_on > self.as_of:
            young = (self.as_of - signed_on).days < 10
            values["stage"] = "Signée" if young else "En développement"
            if rng.random() < 0.5:  # planned dates
                values["mid_on"], values["delivered_on"] = mid_on, delivered_on
        elif delivered_on > self.as_of:
            values["stage"] = "En développement" if rng.random() < 0.1 else "Mi-parcours"
            values["mid_on"] = mid_on
            if rng.random() < 0.5:
                values["delivered_on"] = delivered_on
        else:
            values["stage"] = "Mi-parcours" if rng.random() < 0.03 else "Livrée"
            values["mid_on"], values["delivered_on"] = mid_on, delivered_on
        values["_signed_on"] = signed_on
        values["_ends_on"] = min(
            d for d in (delivered_on + timedelta(days=30), cancelled_on, self.as_of) if d
        )
        return values

    def invoices(self, missions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        billable = [
            m for m in missions if m["stage"] != "Devis" and m["_signed_on"] <= m["_ends_on"]
        ]
        counts: dict[int, int] = {}
        for index in self.rng.choices(range(len(billable)), k=self.size.invoices):
            counts[index] = counts.get(index, 0) + 1
        invoices = []
        for index, count in counts.items():
            mission = billable[index]
            people = [mission["bearer"], *mission["team"]]
            share = mission["revenue"] / count
            cost_share = mission["direct_costs"] / count
            for _ in range(count):
                issued = self.day_between(mission["_signed_on"], mission["_ends_on"])
                noise = Decimal(self.rng.randint(80, 120)) / 100
                invoices.append(
                    {
                        "entrepreneur": self.rng.choice(people),
                        "mission": mission["title"],
                        "issued_on": issued,
                        "amount": (share * noise).quantize(Decimal("0.01")),
                        "direct_costs": (cost_share * noise).quantize(Decimal("0.01")),
                    }
                )
        invoices.sort(key=lambda i: (i["issued_on"], i["mission"]))
        per_year: dict[int, int] = {}
        for invoice in invoices:
            year = invoice["issued_on"].year
            per_year[year] = per_year.get(year, 0) + 1
            invoice["number"] = f"F-{year}-{per_year[year]:06d}"
        return invoices

    # -- volunteering and workshops ------------------------------------------------------------

    def volunteering(self) -> list[dict[str, Any]]:
        rows = []
        day = add_months(first_of_month(self.as_of), -2)
        day += timedelta(days=(7 - day.weekday()) % 7)
        while day <= self.as_of:
            for m in self.members:
                if not m.active_on(day) or m.status != "Actif·ve":
                    continue
                draw = self.rng.random()
                hours = 4 if draw < 0.8 else 8 if draw < 0.86 else 2 if draw < 0.9 else None
                if hours is not None:
                    rows.append({"member": m.name, "week": day, "hours": Decimal(hours)})
            day += timedelta(days=7)
        return rows

    def workshops(self) -> list[dict[str, Any]]:
        rows = []
        skipped = self.rng.randrange(12)
        for back in range(11, -1, -1):
            month = add_months(first_of_month(self.as_of), -back)
            label = f"{MONTHS[month.month - 1]} {month.year}"
            tuesday = month + timedelta(days=(1 - month.weekday()) % 7 + 7)
            thursday = month + timedelta(days=(3 - month.weekday()) % 7 + 21)
            if tuesday <= self.as_of:
                rows.append(
                    {
                        "title": f"Atelier technique de {label}",
                        "date": tuesday,
                        "kind": "Atelier technique",
                    }  # fmt: skip
                )
            if thursday <= self.as_of and back != skipped:
                rows.append({"title": f"Veille de {label}", "date": thursday, "kind": "Veille"})
        return rows

    def run(self) -> dict[str, list[dict[str, Any]]]:
        self.make_members()
        plenaries, attendance = self.plenaries()
        missions = self.missions()
        invoices = self.invoices(missions)
        volunteering = self.volunteering()
        for m in self.members:
            m.values["status"] = m.status
        for mission in missions:
            del mission["_signed_on"], mission["_ends_on"]
        return {
            "members": [m.values for m in self.members],
            "missions": missions,
            "invoices": invoices,
            "plenaries": plenaries,
            "attendance": attendance,
            "volunteering": volunteering,
            "workshops": self.workshops(),
        }


def generate(size: str | Size, seed: int = SEED, as_of: date = AS_OF) -> Synthetic:
    """The cooperative of ``size`` (``S``, ``M``, ``L`` or a ``Size``), the same for a seed."""
    chosen = SIZES[size] if isinstance(size, str) else size
    tables = _Generator(chosen, seed, as_of).run()
    return Synthetic(chosen, seed, as_of, go_live_for(as_of), tables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    args = parser.parse_args(argv)
    synthetic = generate(args.size, args.seed, args.as_of)
    synthetic.write(args.out)
    counts = ", ".join(f"{k} {v}" for k, v in synthetic.counts().items())
    print(f"{args.size} → {args.out} (go_live {synthetic.go_live}) : {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
