"""``cae check`` with ``PREFECT_API_URL`` set: the server answers, and the three deployments are
registered on it (here the session's real Prefect server, before and after ``cae serve``'s
registration)."""

from __future__ import annotations

import pytest

from cae.cli import main
from integrations.prefect_check import DEPLOYMENTS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def test_deployments_not_registered_then_registered(capsys, monkeypatch, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from cae.serve import Served, deployments

    url = str(PREFECT_API_URL.value())
    monkeypatch.setenv("PREFECT_API_URL", url)
    for name in ("CAE_SMTP_HOST", "CAE_SMTP_BLOCK"):
        monkeypatch.delenv(name, raising=False)

    assert main(["check"]) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗ ")]
    assert len(problems) == len(DEPLOYMENTS)
    for name, problem in zip(DEPLOYMENTS, problems, strict=True):
        assert f"Le déploiement {name} n'est pas enregistré" in problem

    ids = [
        deployment.apply()
        for deployment in deployments(Served.resolve("local", None, str(tmp_path), None))
    ]
    try:
        assert main(["check"]) == 0
        out = capsys.readouterr().out
        assert f"serveur Prefect {url} joignable, les 3 déploiements enregistrés" in out
    finally:  # the session's server is shared: leave the names free for the other tests
        with get_client(sync_client=True) as client:
            for deployment_id in ids:
                client.delete_deployment(deployment_id)
