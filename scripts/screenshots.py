"""Take again the Prefect UI screenshots of the staff guide (``docs/images/*.png``).

Starts a real Prefect server (``prefect server start``, a temporary ``PREFECT_HOME``, a free
port), runs the bundled example as the guide describes it (the daily run of 2026-11-26, the
December example of 2026-12-28, the monthly report), creates the concurrency limit an Airtable
run takes and holds its slot, as a run killed outright would, then photographs each page with
headless Chromium (Debian's ``chromium`` package) at 1,400 pixels wide::

    .venv/bin/python scripts/screenshots.py            # writes docs/images/
    .venv/bin/python scripts/screenshots.py /tmp/shots # elsewhere

Look at each image before committing it. It takes about a minute and a half.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1400
#: The Airtable base of the pictured concurrency limit (``services.run_setup`` names it).
LIMIT = "cae-airtable-appExempleCAE"
#: The run whose report is pictured.
FIRST_RUN = "daily-2026-11-26"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api(env: dict[str, str], path: str, body: dict[str, object]) -> list[dict[str, object]]:
    request = urllib.request.Request(
        env["PREFECT_API_URL"] + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def wait_healthy(env: dict[str, str], server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("le serveur Prefect s'est arrêté au démarrage")
        try:
            with urllib.request.urlopen(env["PREFECT_API_URL"] + "/health", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"le serveur Prefect ne répond pas après {seconds:g} s")


def shoot(env: dict[str, str], path: str, out: Path, height: int) -> None:
    """One page of the UI, rendered for 15 s of virtual time, as a PNG."""
    url = env["PREFECT_API_URL"].removesuffix("/api") + path
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={out}",
            "--virtual-time-budget=15000",
            url,
        ],
        check=True,
        capture_output=True,
    )
    print(f"{out} ({out.stat().st_size // 1024} Kio) : {url}")


def populate(env: dict[str, str], work: Path) -> str:
    """The guide's runs on the example; return the id of the first daily report artifact."""
    out = str(work / "out")
    runs = [
        [str(BIN / "cae"), "run", "--as-of", "2026-11-26", "--out", out],
        [str(BIN / "cae"), "run", "--data", "cae/example-december", "--as-of", "2026-12-28"]
        + ["--out", out],
        [
            str(BIN / "python"),
            "-c",
            f"from flows.monthly import monthly_report; monthly_report('2026-11', out={out!r})",
        ],
    ]
    for command in runs:
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    (run,) = api(env, "/flow_runs/filter", {"flow_runs": {"name": {"any_": [FIRST_RUN]}}})
    (report,) = api(
        env,
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": ["daily-report"]}, "flow_run_id": {"any_": [run["id"]]}}},
    )
    # The slot an interrupted Airtable run would still hold (guide: « Après une panne »).
    hold = (
        "from flows.locks import ensure_limit\n"
        "from prefect import get_client\n"
        "from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate\n"
        f"ensure_limit({LIMIT!r})\n"
        "with get_client(sync_client=True) as client:\n"
        f"    client.update_global_concurrency_limit({LIMIT!r}, "
        "GlobalConcurrencyLimitUpdate(active_slots=1))\n"
    )
    subprocess.run([str(BIN / "python"), "-c", hold], cwd=ROOT, env=env, check=True)
    return str(report["id"])


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cae-screenshots-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_API_PORT": str(port),  # or the UI calls port 4200
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ANALYTICS_ENABLED": "false",
        }
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_healthy(env, server, 180)
            report = populate(env, work)
            shoot(env, "/runs", target / "prefect-executions.png", 1180)
            shoot(env, f"/artifacts/artifact/{report}", target / "prefect-rapport.png", 1200)
            shoot(env, "/concurrency-limits", target / "prefect-concurrence.png", 520)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images")
