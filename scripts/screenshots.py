"""Take again the Prefect UI screenshots of the staff guide (``docs/images/*.png``).

Starts a real Prefect server (``prefect server start``, a temporary ``PREFECT_HOME``, a free
port), runs the bundled example as the guide describes it (the daily run of 2026-11-26, the
December example of 2026-12-28, the monthly report) and a run that fails, creates the
concurrency limit an Airtable run takes and holds its slot, as a run killed outright would,
then photographs each page with headless Chromium (Debian's ``chromium`` package) at 1,400
pixels wide, once the page shows what it must (driven over the DevTools protocol)::

    .venv/bin/python scripts/screenshots.py            # writes docs/images/
    .venv/bin/python scripts/screenshots.py /tmp/shots # elsewhere

Look at each image before committing it. It takes two to four minutes (the server's
first start runs its database migrations).
"""

from __future__ import annotations

import base64
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
from typing import Any

from websockets.sync.client import connect  # a dependency of Prefect

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


class Chromium:
    """Headless Chromium driven over its DevTools protocol: each page is photographed once the
    text it must show is there (a fixed delay would catch the UI half drawn)."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={work / 'chromium'}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as answer:
                    pages = [t for t in json.loads(answer.read()) if t["type"] == "page"]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("Chromium ne répond pas") from None
                time.sleep(0.5)
        self.socket = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self.calls = 0

    def call(self, method: str, **params: object) -> dict[str, Any]:
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.calls:
                if "error" in message:
                    raise RuntimeError(f"{method} : {message['error']}")
                return message["result"]  # type: ignore[no-any-return]

    def shoot(self, url: str, out: Path, height: int, showing: list[str]) -> None:
        """``url`` at ``WIDTH`` × ``height`` once its text holds each of ``showing``."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=url)
        check = f"{json.dumps(showing)}.every(t => document.body.innerText.includes(t))"
        deadline = time.monotonic() + 60
        while not self.call("Runtime.evaluate", expression=check)["result"].get("value"):
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} ne montre pas {showing} après 60 s")
            time.sleep(0.5)
        time.sleep(2)  # the UI's fade-in
        png = self.call("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(png))
        print(f"{out} ({out.stat().st_size // 1024} Kio) : {url}")

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


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
    # A run that fails (its data folder is gone), as the list shows one.
    failing = f"from flows.daily import daily; daily(data={str(work / 'absent')!r}, out={out!r})"
    subprocess.run([str(BIN / "python"), "-c", failing], cwd=ROOT, env=env, capture_output=True)
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
            ui = env["PREFECT_API_URL"].removesuffix("/api")
            chromium = Chromium(work)
            try:
                chromium.shoot(
                    f"{ui}/runs",
                    target / "prefect-executions.png",
                    1080,
                    [FIRST_RUN, "daily-2026-12-28", "erreurs-de-donnees", "Failed"],
                )
                chromium.shoot(
                    f"{ui}/artifacts/artifact/{report}",
                    target / "prefect-rapport.png",
                    1200,
                    ["Documents émis", "erreurs-de-donnees"],
                )
                chromium.shoot(
                    f"{ui}/concurrency-limits", target / "prefect-concurrence.png", 520, [LIMIT]
                )
            finally:
                chromium.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images")
