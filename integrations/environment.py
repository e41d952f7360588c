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

    def token(self, system: str, label: str) -> str:
        """The API token of ``system`` (``AIRTABLE``, ``NOTION``): from the Prefect Secret block
        named by ``CAE_<system>_TOKEN_BLOCK``, else ``<system>_TOKEN``. ``label`` names the
        system for the staff when there is none."""
        variable, block_variable = f"{system}_TOKEN", f"CAE_{system}_TOKEN_BLOCK"
        block = self.env.get(block_variable)
        if block:
            from prefect.blocks.system import Secret  # Prefect loads slowly: only when needed

            token = str(Secret.load(block).get())  # type: ignore[union-attr]
        else:
            token = self.env.get(variable, "")
        if not token:
            raise ValueError(
                f"Jeton {label} absent : définissez {variable} ou un bloc Secret Prefect "
                f"nommé dans {block_variable}."
            )
        return token
