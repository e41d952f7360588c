"""``cae check`` on the Prefect server of ``PREFECT_API_URL``: it answers, and the three
deployments of ``prefect.yaml`` (or of ``cae serve``) are registered on it.
"""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings

from integrations.checks import Findings

#: The deployments a cooperative runs on, as ``flow name/deployment name``.
DEPLOYMENTS = ("daily/daily", "monthly-report/monthly", "targeted/targeted")


def check_prefect(api_url: str) -> Findings:
    """The server at ``api_url`` (the ``PREFECT_API_URL`` in force) and its deployments."""
    findings = Findings()
    # The URL given wins over whatever Prefect read when it was imported.
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
        if failure is not None:
            findings.problems.append(
                f"Le serveur Prefect {api_url} ne répond pas ({failure.__class__.__name__}) : "
                "démarrez-le (prefect server start), ou corrigez PREFECT_API_URL."
            )
            return findings
        missing = []
        for name in DEPLOYMENTS:
            try:
                client.read_deployment_by_name(name)
            except ObjectNotFound:
                missing.append(name)
    for name in missing:
        findings.problems.append(
            f"Le déploiement {name} n'est pas enregistré sur le serveur Prefect {api_url} : "
            "lancez cae serve (une machine) ou prefect deploy --all (plusieurs)."
        )
    if not missing:
        findings.ready.append(
            f"serveur Prefect {api_url} joignable, les {len(DEPLOYMENTS)} déploiements enregistrés"
        )
    return findings
