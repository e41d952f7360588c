"""``cae check`` on a folder of CSV files: the folder, each table's file, and the columns the
rules read.

A file that is missing, not UTF-8 or without a required column stops its table in a run: each is
a problem, in the words a run uses. A column the rules read but the file lacks leaves that field
empty for every record without a word: a problem too. The records' own values are the run's
business: every run reports their errors, record by record, and the check leaves them alone.
"""

from __future__ import annotations

from pathlib import Path

from integrations.checks import Findings, FoundField, Vocabulary, check_fields
from integrations.workbook import LocalWorkbook, header
from settings.schema import FieldType, Schema

WORDS = Vocabulary(
    where="le fichier CSV de la table", accepts=dict.fromkeys(FieldType, frozenset()), suggest={}
)


def check_folder(folder: Path, schema: Schema) -> Findings:
    findings = Findings()
    if not folder.is_dir():
        findings.problems.append(
            f"Le dossier de données {folder} n'existe pas : indiquez le bon avec --data."
        )
        return findings
    workbook = LocalWorkbook(folder)
    tables = workbook.read(schema)
    whole = {e.table for e in tables.errors if e.record is None}
    findings.problems += [e.message for e in tables.errors if e.record is None]
    files = workbook.table_files(schema)
    for key, path in files.items():
        spec = schema.table(key)
        if spec.label in whole:
            continue
        found = dict.fromkeys(header(path), FoundField())
        required = frozenset(f.key for f in spec.fields if f.required)  # the run's own words
        check_fields(findings, spec, found, WORDS, skip=required)
    missing = [schema.label(key) for key in tables.missing_tables]
    if missing:
        findings.notes.append(
            f"Tables facultatives absentes du dossier : {', '.join(missing)} ; les règles qui "
            "en ont besoin ne tourneront pas."
        )
    findings.ready.append(f"dossier {folder} : {len(tables.tables)} tables lisibles")
    return findings
