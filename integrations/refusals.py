"""Refusals by Airtable or Notion that a person can fix, in one French sentence.

A wrong token, a base id from another workspace, a database not shared with the integration, a
select option the base lacks: the service refuses, and the staff need to know what to check,
not a Python tuple with a URL. The adapters wrap each call in ``refused(Context(...))``: an
answer ``explain`` understands becomes a ``SourceRefused`` whose message is one French sentence
ending with the service's code in parentheses; any other error (a bug, an answer the project
does not understand) goes on unchanged, with its traceback.

    >>> with refused(Context("airtable", "write", base="app…", table="Membres")):  # doctest: +SKIP
    ...     table.batch_update(records)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from notion_client import APIResponseError


class SourceRefused(Exception):
    """Airtable or Notion refused what the run asked, for a reason a person can fix.

    ``str()`` is the French sentence, code included; ``claimed`` lists the keys this run had
    claimed in the ledger when it was refused (set by the flow: none means the run can simply
    be started again)."""

    def __init__(self, sentence: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(sentence)
        self.code = code
        self.status = status
        self.claimed: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Context:
    """What the refused request was doing, to name it in the sentence.

    ``action``: ``read``, ``write`` (Airtable), ``insert`` or ``update`` (Notion), ``init``,
    ``webhook``. ``table``/``field`` are labels as the cooperative names them; ``mapping_key``
    is the table's key in ``[mapping]`` (``members``; none for the ledger's tables),
    ``field_key`` the field's, ``database_key`` the table's key in ``[notion.databases]``.
    ``payload`` holds the cells a write sent, by label, to find the value Airtable refused.
    A name the request did not involve is left empty."""

    service: str
    action: str
    base: str = ""
    table: str = ""
    mapping_key: str = ""
    field: str = ""
    field_key: str = ""
    database_key: str = ""
    payload: tuple[Mapping[str, Any], ...] = ()


#: The token scope each Airtable action needs.
AIRTABLE_SCOPES = {
    "read": "data.records:read",
    "write": "data.records:write",
    "init": "schema.bases:read et schema.bases:write",
    "webhook": "webhook:manage et schema.bases:read",
}
#: The Notion capability each action needs, as its settings page names it.
NOTION_CAPABILITIES = {
    "read": "Lire le contenu (Read content)",
    "insert": "Insérer du contenu (Insert content)",
    "update": "Mettre à jour le contenu (Update content)",
    "init": "Insérer du contenu (Insert content)",
}
SHARE = (
    "partagez-la avec l'intégration (dans Notion, menu « ... » en haut à droite > Connexions > "
    "ajoutez l'intégration)"
)


@contextmanager
def refused(context: Context) -> Iterator[None]:
    """Turn a refusal ``explain`` understands into ``SourceRefused``; let the rest through."""
    try:
        yield
    except (requests.HTTPError, APIResponseError) as error:
        refusal = explain(error, context)
        if refusal is None:
            raise
        raise refusal from error


def explain(error: BaseException, context: Context) -> SourceRefused | None:
    """The French sentence for a refusal a person can fix; ``None`` for anything else."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        status, code, message = _airtable_answer(error.response)
        sentence = _airtable(status, code, message, context)
    elif isinstance(error, APIResponseError):
        status, code = error.status, str(getattr(error.code, "value", error.code))
        sentence = _notion(status, code, str(error), context)
    else:
        return None
    if sentence is None:
        return None
    return SourceRefused(f"{sentence} ({code or status}).", code=code, status=status)


def find_refusal(exc: BaseException | None) -> SourceRefused | None:
    """The ``SourceRefused`` behind ``exc``: itself, its cause or context, what a Prefect
    state or wrapper holds, or a member of an exception group."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SourceRefused):
            return current
        if isinstance(current, BaseException):
            todo += [current.__cause__, current.__context__]
            todo += list(getattr(current, "exceptions", ()))  # ExceptionGroup
        data = getattr(current, "data", None)  # a Prefect State holding the exception
        if isinstance(data, BaseException):
            todo.append(data)
    return None


def _airtable_answer(response: requests.Response) -> tuple[int, str, str]:
    """Status, error type and message of an Airtable answer (``{"error": {...}}`` or
    ``{"error": "NOT_FOUND"}``; a 413 may carry no JSON at all)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body.get("error") if isinstance(body, dict) else None
    if isinstance(problem, dict):
        return response.status_code, str(problem.get("type", "")), str(problem.get("message", ""))
    return response.status_code, str(problem or ""), ""


def _table(context: Context) -> str:
    """« Membres » ([mapping.members] table), or « Versements » (the ledger)."""
    if context.mapping_key:
        return f"« {context.table} » ([mapping.{context.mapping_key}] table)"
    return f"« {context.table} » (le registre)"


def _field(name: str, context: Context) -> str:
    if context.mapping_key and context.field_key and name == context.field:
        return f"« {name} » ([mapping.{context.mapping_key}] {context.field_key})"
    return f"« {name} »"


def _fix_names(context: Context) -> str:
    """How to fix a name: the mapping for the cooperative's tables, init for the ledger's."""
    tool = "cae airtable init" if context.service == "airtable" else "cae notion init"
    if context.mapping_key:
        return f"corrigez le nom dans la base ou dans [mapping.{context.mapping_key}] de cae.toml"
    return f"lancez {tool} pour compléter la base"


def _airtable(status: int, code: str, message: str, context: Context) -> str | None:
    base = context.base or "?"
    if status == 401:
        return (
            "Airtable refuse le jeton : vérifiez AIRTABLE_TOKEN (ou le bloc Secret nommé par "
            "CAE_AIRTABLE_TOKEN_BLOCK), qu'il a été copié en entier et qu'il n'a pas été révoqué"
        )
    if status == 413:
        where = f" vers la table {_table(context)}" if context.table else ""
        return (
            f"Airtable refuse une requête trop volumineuse{where} : vérifiez qu'aucune fiche ne "
            "porte un texte démesuré (une note, un nom collé plusieurs fois), puis relancez"
        )
    if status == 422 and code == "INVALID_MULTIPLE_CHOICE_OPTIONS":
        value = _quoted(message) or "?"
        name = context.field or _cell_named(context, value) or "?"
        return (
            f"Airtable refuse la valeur « {value} » du champ {_field(name, context)} de la table "
            f"« {context.table} » : ajoutez « {value} » aux choix de ce champ dans Airtable"
        )
    if status == 422 and code == "UNKNOWN_FIELD_NAME" and context.action == "write":
        name = _quoted(message) or context.field or "?"
        value = next((cells[name] for cells in context.payload if name in cells), None)
        written = f", où le projet écrit « {value} »" if value not in (None, "") else ""
        return (
            f"Airtable ne connaît pas le champ {_field(name, context)} de la table "
            f"« {context.table} »{written} : créez-le, ou {_fix_names(context)}"
        )
    if status == 404 and context.action == "webhook":
        return (
            f"Airtable ne connaît pas ce webhook de la base {base} (expiré ou supprimé) : "
            "recréez-le avec cae airtable webhook create --url …"
        )
    if status == 404 or (status == 403 and code == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"):
        scope = AIRTABLE_SCOPES.get(context.action, "data.records:read")
        if context.action == "read" and context.table:
            return (
                f"Airtable ne trouve pas la table {_table(context)} dans la base {base}, ou le "
                f"jeton ne peut pas la lire : {_fix_names(context)}"
            )
        if context.action == "write" and context.table:
            return (
                f"Airtable refuse d'écrire dans la table « {context.table} » de la base {base} : "
                f"vérifiez que le jeton a le droit {scope} et un accès en écriture à cette base"
            )
        return (
            f"Airtable refuse l'accès à la base {base} : vérifiez son identifiant "
            "(AIRTABLE_BASE_ID ou [airtable] base_id de cae.toml), que le jeton a accès à cette "
            f"base et qu'il a le droit {scope}"
        )
    return None


def _notion(status: int, code: str, message: str, context: Context) -> str | None:
    what = f"la base « {context.table} »" if context.table else "la page parente (--parent)"
    if status == 401 and code == "unauthorized":
        return (
            "Notion refuse le secret de l'intégration : vérifiez NOTION_TOKEN (ou le bloc Secret "
            "nommé par CAE_NOTION_TOKEN_BLOCK), qu'il a été copié en entier et que "
            "l'intégration existe toujours"
        )
    if status == 404 and code == "object_not_found":
        key = context.database_key
        setting = f" ([notion.databases] {key})" if key else ""
        return f"Notion ne trouve pas {what}{setting} : {SHARE}, et vérifiez son identifiant"
    if status == 403 and code == "restricted_resource":
        capability = NOTION_CAPABILITIES.get(context.action, NOTION_CAPABILITIES["read"])
        return (
            f"Notion refuse à l'intégration d'agir sur {what} : donnez-lui la capacité "
            f"« {capability} » dans ses réglages (notion.so/profile/integrations)"
        )
    if status == 400 and code == "validation_error":
        name = context.field or _notion_property(message)
        if name is None:
            return None
        return (
            f"Notion refuse la propriété {_field(name, context)} de {what} : vérifiez qu'elle "
            f"existe sous ce nom avec le bon type, ou {_fix_names(context)}"
        )
    return None


def _quoted(message: str) -> str | None:
    """The name between quotes in an Airtable message (``""Sortant""``, ``"Statut"``)."""
    found = re.search(r'"+([^"]+)"+', message)
    return found.group(1) if found else None


def _cell_named(context: Context, value: str) -> str | None:
    """The label of the cell that holds ``value`` in what the write sent."""
    return next(
        (label for cells in context.payload for label, cell in cells.items() if cell == value),
        None,
    )


def _notion_property(message: str) -> str | None:
    """The property a Notion validation message names: ``X is not a property that exists.``,
    ``X is expected to be select.``, ``body.properties.X.select should be …``."""
    for pattern in (
        r"^(.+?) is not a property that exists",
        r"^(.+?) is expected to be ",
        r"body\.properties\.([^.]+)\.",
    ):
        found = re.search(pattern, message)
        if found:
            return found.group(1)
    return None
