"""Reading an adapter's settings from the environment: the one way every adapter does it.

Secrets (API tokens, the SMTP password) never live in ``cae.toml``: a token comes from the
Prefect Secret block that ``CAE_<SYSTEM>_TOKEN_BLOCK`` names, else from ``<SYSTEM>_TOKEN``.
Tests and benchmarks point an adapter at an emulator and shorten its waits through a few more
variables, each read here with its default.

>>> Environment({"CAE_AIRTABLE_RATE": "20"}).number("CAE_AIRTABLE_RATE", 5)
20.0
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class Environment:
    """The process environment, or a mapping standing for it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env

    def text(self, name: str, default: str = "") -> str:
        """The variable ``name``, or ``default`` when it is unset or empty."""
        return self.env.get(name) or default

    def number(self, name: str, default: float) -> float:
        """The variable ``name`` as a number, or ``default`` when it is unset."""
        return float(self.env.get(name, default))

    def airtable_base(self, base_id: str | None = None) -> str:
        """``AIRTABLE_BASE_ID``, else ``base_id`` (``[airtable]`` in ``cae.toml``)."""
        base = self.text("AIRTABLE_BASE_ID", base_id or "")
        if not base:
            raise ValueError(
                "Base Airtable inconnue : définissez AIRTABLE_BASE_ID ou [airtable] base_id."
            )
        return base

    def token(self, system: str, label: str) -> str:
        """The API token of ``system`` (``AIRTABLE``, ``NOTION``): from the Prefect Secret block
        named by ``CAE_<system>_TOKEN_BLOCK``, else ``<system>_TOKEN``. ``label`` names the
        system for the staff when there is none."""
        block = self.env.get(f"CAE_{system}_TOKEN_BLOCK")
        if block:
            from prefect.blocks.system import Secret  # Prefect loads slowly: only when needed

            token = str(Secret.load(block).get())  # type: ignore[union-attr]
        else:
            token = self.env.get(f"{system}_TOKEN", "")
        if not token:
            raise self._no_token(system, label)
        return token

    def check_token(self, system: str, label: str) -> None:
        """Raise what ``token`` would when no token is set, without loading Prefect: a block
        name is taken on trust (reading it needs the Prefect server)."""
        if not (self.env.get(f"CAE_{system}_TOKEN_BLOCK") or self.env.get(f"{system}_TOKEN")):
            raise self._no_token(system, label)

    @staticmethod
    def _no_token(system: str, label: str) -> ValueError:
        return ValueError(
            f"Jeton {label} absent : définissez {system}_TOKEN ou un bloc Secret Prefect "
            f"nommé dans CAE_{system}_TOKEN_BLOCK."
        )
