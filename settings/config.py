"""The configuration file, ``cae.toml``, read into a ``Config`` every layer below the flows uses.

Sections: ``[cooperative]`` (who signs the letters), ``[charter]`` (the rules' parameters),
``[mapping]`` (table and field labels) and a top-level ``go_live``. Every key is optional.
Secrets never live here: tokens and passwords come from Prefect Secret blocks or the
environment.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from charter.params import CharterParams
from settings.defaults import PLACEHOLDER_NAME, PLACEHOLDER_SENDER
from settings.schema import Schema

CONFIG_NAME = "cae.toml"


class ConfigError(ValueError):
    """The configuration file cannot be used; the message is in French, for the staff."""


@dataclass(frozen=True)
class CooperativeInfo:
    """What the letterhead and the signature block say."""

    name: str = PLACEHOLDER_NAME
    address: str = ""
    city: str = "Paris"
    legal: str = ""  # legal identifiers, one line: "SCOP SA à capital variable – SIRET …"
    signatory_name: str = ""
    signatory_role: str = ""
    email: str = ""  # the sender address of the letters
    staff_email: str = ""  # copied on every letter

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> CooperativeInfo:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"Clé inconnue dans [cooperative] : {', '.join(unknown)}")
        bad = sorted(k for k, v in values.items() if not isinstance(v, str))
        if bad:
            raise ConfigError(f"[cooperative] : texte attendu pour {', '.join(bad)}")
        return cls(**values)


@dataclass(frozen=True)
class Config:
    cooperative: CooperativeInfo = field(default_factory=CooperativeInfo)
    charter: CharterParams = field(default_factory=CharterParams)
    schema: Schema = field(default_factory=Schema.default)
    go_live: date | None = None
    path: Path | None = None
    #: ``[airtable]``: ``base_id`` (the token is a secret: never here).
    airtable: dict[str, str] = field(default_factory=dict)
    #: ``[notion.databases]`` and ``[notion.data_sources]``: ids by table key.
    notion: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} : fichier illisible, il n'est pas en UTF-8") from exc
        except PermissionError as exc:
            raise ConfigError(f"{path} : fichier illisible (accès refusé)") from exc
        except OSError as exc:
            raise ConfigError(f"{path} : fichier illisible (erreur système {exc.errno})") from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message is English; where it stopped is what the staff need.
            where = re.search(r"line (\d+), column (\d+)", str(exc))
            at = f" (ligne {where[1]}, colonne {where[2]})" if where else ""
            raise ConfigError(f"{path} : fichier TOML illisible{at}") from exc
        return cls.from_mapping(raw, path)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], path: Path | None = None) -> Config:
        sections = {"cooperative", "charter", "mapping", "go_live", "airtable", "notion"}
        unknown = sorted(set(raw) - sections)
        if unknown:
            raise ConfigError(
                f"Section ou clé inconnue dans la configuration : {', '.join(unknown)}"
            )
        for section in ("cooperative", "charter", "mapping"):
            if not isinstance(raw.get(section, {}), dict):
                raise ConfigError(f"« {section} » doit être une section [{section}]")
        go_live = raw.get("go_live")
        if isinstance(go_live, str):
            try:
                go_live = date.fromisoformat(go_live)
            except ValueError as exc:
                raise ConfigError(f"go_live : date AAAA-MM-JJ attendue, pas {go_live!r}") from exc
        # A TOML date-time is a ``datetime``, which the rules cannot compare with their dates.
        if go_live is not None and (not isinstance(go_live, date) or isinstance(go_live, datetime)):
            raise ConfigError(f"go_live : date AAAA-MM-JJ attendue, pas {go_live!r}")
        try:
            return cls(
                cooperative=CooperativeInfo.from_mapping(raw.get("cooperative", {})),
                charter=CharterParams.from_mapping(raw.get("charter", {})),
                schema=Schema.from_mapping(raw.get("mapping", {})),
                go_live=go_live,
                path=path,
                airtable=_airtable(raw.get("airtable", {})),
                notion=_notion(raw.get("notion", {})),
            )
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    @classmethod
    def find(cls, data_dir: Path, explicit: Path | None = None) -> Config:
        """``--config FILE`` when given, else ``cae.toml`` in the data folder, else defaults."""
        found = locate(data_dir, explicit)
        return cls.load(found) if found is not None else cls()


def locate(data_dir: Path, explicit: Path | None = None) -> Path | None:
    """The file ``Config.find`` reads, as an absolute path: ``--config FILE`` (which must
    exist), else ``cae.toml`` in the data folder; None when there is none (the defaults)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"Fichier de configuration introuvable : {explicit}")
        return explicit.resolve()
    candidate = data_dir / CONFIG_NAME
    return candidate.resolve() if candidate.is_file() else None


#: The ``[cooperative]`` keys a letter sent by email must carry: who signs, who sends, who is
#: copied. Left out (or at their placeholder), the letter would reach a member under a made-up
#: identity.
IDENTITY_KEYS = ("name", "email", "staff_email")


class IdentityMissing(ConfigError):
    """SMTP is configured but ``[cooperative]`` lacks part of the identity letters carry."""

    def __init__(self, missing: list[str], path: Path | None) -> None:
        self.missing = missing
        where = f"de {path}" if path is not None else "(aucun fichier cae.toml trouvé)"
        super().__init__(
            f"Envoi par email refusé : la section [cooperative] {where} ne renseigne pas "
            f"{', '.join(missing)}. Aucun courrier ne part sous une identité par défaut : "
            "complétez ces clés (name : nom de la coopérative, email : adresse d'expédition, "
            "staff_email : l'équipe en copie), ou retirez les réglages SMTP pour n'écrire les "
            "courriers que dans le dossier de sortie."
        )


def missing_identity(config: Config) -> list[str]:
    """The ``IDENTITY_KEYS`` that ``[cooperative]`` leaves empty or at their placeholder
    (``settings.defaults``), in that order; empty when letters may go out by email."""
    info = config.cooperative
    placeholders = {"name": PLACEHOLDER_NAME, "email": PLACEHOLDER_SENDER}
    missing = []
    for key in IDENTITY_KEYS:
        value = getattr(info, key).strip()
        if not value or value == placeholders.get(key):
            missing.append(key)
    return missing


def _airtable(values: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(values) - {"base_id"})
    if unknown:
        raise ConfigError(
            f"Clé inconnue dans [airtable] : {', '.join(unknown)} (le jeton n'a pas sa place ici)"
        )
    return {k: str(v) for k, v in values.items()}


#: The tables ``[notion.databases]`` may name: the input tables and the ledger's two.
NOTION_TABLES = (*Schema.default().tables, "payouts", "letters")


def _notion(values: Any) -> dict[str, dict[str, str]]:
    if not isinstance(values, dict):
        raise ConfigError("« notion » doit être une section [notion]")
    unknown = sorted(set(values) - {"databases", "data_sources"})
    if unknown:
        raise ConfigError(
            f"Clé inconnue dans [notion] : {', '.join(unknown)} (seules [notion.databases] et "
            "[notion.data_sources] ; le jeton n'a pas sa place ici)"
        )
    ids: dict[str, dict[str, str]] = {}
    for section, table in values.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[notion.{section}] doit être une table d'identifiants")
        bad = sorted(set(table) - set(NOTION_TABLES))
        if bad:
            raise ConfigError(
                f"[notion.{section}] : table inconnue {', '.join(bad)} "
                f"(connues : {', '.join(NOTION_TABLES)})"
            )
        ids[section] = {key: str(value) for key, value in table.items()}
    return ids
