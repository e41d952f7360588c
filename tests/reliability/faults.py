"""Seeded fault injection over whole runs of the daily job (Airtable + SMTP).

A *scenario* is a function of ``(seed, index)``: ``plan_for`` draws, from a generator seeded
with both, which faults hit the faulted run and where (the n-th Airtable request, the n-th mail
transaction). ``Harness.run`` then, on a fresh emulator base loaded with the example:

1. runs the daily job once with the faults armed: in this process, or for a *kill* scenario as
   the real ``cae run`` in a subprocess that the emulator or the SMTP server sends SIGKILL to
   when it sees the chosen request;
2. reruns the job without faults until a run issues and resends nothing (a refused mail goes
   again in the next run; the first rerun settles a killed run's journal, ``services.journal``);
3. checks the invariants (``Harness.check``): per key at most one message reached the SMTP
   server; every key the hand oracle expects is in the ledger exactly once, either ``sent``
   with exactly one message or ``pending`` (0 or 1 message: nobody knows) and listed in the
   last run's report for a person; the keys left ``pending`` are exactly the mails whose
   connection dropped after their data plus, for a kill during an SMTP transaction, that one
   letter (a kill leaves a person nothing else); the ledger's rows and the messages equal those
   of a run without faults; the input tables are unchanged but for the status change the oracle
   expects.

Kinds of fault (``KINDS``): ``429_storm`` (k consecutive 429s, the client waits the penalty
each time), ``500``/``503`` (answered without applying the request), ``slow`` (applied, then
answered after the client's timeout), ``disconnect`` (connection closed before or after the
request is applied), ``smtp_4xx``/``smtp_5xx`` (refused at MAIL, RCPT or after DATA),
``smtp_disconnect`` (connection dropped at MAIL, or after DATA with the message kept or lost),
``kill`` (SIGKILL to the ``cae run`` process after the n-th Airtable request, at the n-th MAIL
or right after the n-th message was received).

Replay one scenario: ``python -m tests.reliability.soak --only SEED:INDEX --kill-every N``
(the command each failure prints), or in the suite by its test id: ``pytest
"tests/reliability/test_fault_injection.py::test_scenario_holds_every_invariant[scenario_12]"``
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from emulators.airtable import AirtableEmulator, ApiRequest
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import init_base
from settings.config import Config
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import INPUT_TABLES, LEDGER_TABLES
from tests.support.loopback import free_port
from tests.support.smtp_server import smtp_environment

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT / "tests" / "e2e" / "expected_example.json"
AS_OF = date(2026, 11, 26)
#: The example's cae.toml: the runs email their letters, which needs the cooperative's identity.
IDENTITY = str(EXAMPLE_DIR / "cae.toml")
TOKEN = "patFAULTS"
#: The emulator's and the client's penalty after a 429, shortened from Airtable's 30 s.
PENALTY = 0.05
#: The client's read timeout, shortened from 60 s; a slow answer comes this much later.
CLIENT_TIMEOUT = 0.6
SLOW_BY = 0.3
#: Every scenario's base is built by an emulator seeded alike: the same record ids, so the
#: keys, Message-IDs and PDFs of every scenario can be compared with one run without faults.
EMULATOR_SEED = 8
#: The client's attempts per request (``AirtableSettings.attempts``): a run hit by fewer
#: consecutive Airtable faults than this must complete.
ATTEMPTS = AirtableSettings.__dataclass_fields__["attempts"].default
MAX_RERUNS = 4

#: What the run writes into the input tables, from the hand oracle (expected_example.json:
#: "Julien is Exclu·e since run 1"; Karim Haddad's « Sorti·e » was typed by the staff).
EXPECTED_STATUS_CHANGES = {"Julien Perrot": "Exclu·e"}

AIRTABLE_KINDS = ("429_storm", "500", "503", "slow", "disconnect")
SMTP_KINDS = ("smtp_4xx", "smtp_5xx", "smtp_disconnect")
KILL = "kill"
KINDS = (*AIRTABLE_KINDS, *SMTP_KINDS, KILL)
#: Requests of a run without faults (11 reads, 3 claims, 3 marks, 1 status) and its writes;
#: mail transactions (one per document).
RUN_REQUESTS, RUN_WRITES, RUN_MAILS = 18, 7, 22


# ---- plans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One fault: ``kind`` at the ``at``-th request of ``target`` (Airtable: ``any`` request
    or ``write``; SMTP: ``mail``), repeated on ``count`` consecutive ones; ``stage`` says where
    in the exchange (see the module's docstring)."""

    kind: str
    at: int
    count: int = 1
    target: str = "any"
    stage: str = ""

    def describe(self) -> str:
        where = f"{self.target}#{self.at}" + (f"/{self.stage}" if self.stage else "")
        return f"{self.kind}@{where}" + (f"x{self.count}" if self.count > 1 else "")


@dataclass(frozen=True)
class Plan:
    seed: int
    index: int
    faults: tuple[Fault, ...]
    kill_every: int

    @property
    def ident(self) -> str:
        return f"{self.seed}:{self.index}"

    @property
    def kill(self) -> Fault | None:
        return next((f for f in self.faults if f.kind == KILL), None)

    @property
    def airtable_budget(self) -> int:
        """Airtable requests the faults can fail; below ``ATTEMPTS`` the run must complete."""
        return sum(f.count for f in self.faults if f.kind in AIRTABLE_KINDS)

    def describe(self) -> str:
        return f"scenario {self.ident}: " + (", ".join(f.describe() for f in self.faults) or "-")

    def replay(self) -> str:
        return (
            f"python -m tests.reliability.soak --only {self.ident} --kill-every {self.kill_every}"
        )


def _airtable_fault(rng: random.Random, kind: str) -> Fault:
    target = rng.choice(("any", "write"))
    at = rng.randint(1, RUN_REQUESTS if target == "any" else RUN_WRITES)
    if kind == "429_storm":
        count = rng.choice((2, 3, 4, 5, 6, 9))  # 9 exhausts the client's 8 attempts
    elif kind == "slow":
        count = rng.choice((1, 1, 2))
    else:
        count = rng.choice((1, 1, 2, 3))
    stage = rng.choice(("before", "after")) if kind == "disconnect" else ""
    return Fault(kind, at, count, target, stage)


def _smtp_fault(rng: random.Random, kind: str) -> Fault:
    if kind == "smtp_disconnect":
        stage = rng.choice(("mail", "data-kept", "data-lost"))
    else:
        stage = rng.choice(("mail", "rcpt", "data"))
    return Fault(kind, rng.randint(1, RUN_MAILS), rng.choice((1, 1, 2, 3)), "mail", stage)


def _kill_fault(rng: random.Random) -> Fault:
    stage = rng.choice(("airtable", "airtable", "mail", "data"))
    if stage == "airtable":
        return Fault(KILL, rng.randint(1, RUN_REQUESTS), 1, "any", "after")
    return Fault(KILL, rng.randint(1, RUN_MAILS), 1, "mail", stage)


def plan_for(seed: int, index: int, kill_every: int = 10) -> Plan:
    """The faults of scenario ``index`` of ``seed``: one to three, drawn at random; every
    ``kill_every``-th scenario (index ≡ -1 mod ``kill_every``) also kills the process."""
    rng = random.Random(f"cae-faults:{seed}:{index}")
    faults = []
    kill = kill_every > 0 and index % kill_every == kill_every - 1
    for _ in range(rng.randint(0, 1) if kill else rng.randint(1, 3)):
        kind = rng.choice(AIRTABLE_KINDS + AIRTABLE_KINDS[1:] + SMTP_KINDS + SMTP_KINDS)
        faults.append(
            _airtable_fault(rng, kind) if kind in AIRTABLE_KINDS else _smtp_fault(rng, kind)
        )
    if kill:
        faults.append(_kill_fault(rng))
    return Plan(seed, index, tuple(faults), kill_every)


def parse_only(text: str) -> tuple[int, list[int]]:
    """``SEED:INDEX[,SEED:INDEX…]`` (one seed) as the seed and the indexes."""
    pairs = [item.strip().partition(":") for item in text.split(",") if item.strip()]
    seeds = {int(seed) for seed, _, _ in pairs}
    if len(seeds) != 1:
        raise ValueError(f"--only takes scenarios of one seed: {text}")
    return seeds.pop(), [int(index) for _, _, index in pairs]


# ---- the SMTP server ----------------------------------------------------------------------


@dataclass
class Mail:
    key: str
    recipients: list[str]
    raw: bytes

    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]


class FaultySmtp:
    """An aiosmtpd handler that records each message by its ``X-CAE-Key`` and, on the
    transactions the armed faults name, refuses, drops the connection or kills a process."""

    def __init__(self) -> None:
        self.received: list[Mail] = []
        self.transactions = 0
        self.faults: list[Fault] = []
        self.fired: Counter[str] = Counter()
        self.unknown = 0  # connections dropped after the data: outcomes the client cannot know
        self.kill: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def reset(self, faults: list[Fault] | None = None) -> None:
        with self._lock:
            self.received = []
            self.transactions = 0
            self.faults = list(faults or [])
            self.fired = Counter()
            self.unknown = 0
            self.kill = None

    def per_key(self) -> Counter[str]:
        return Counter(m.key for m in self.received)

    def _fault(self, number: int, stages: tuple[str, ...]) -> Fault | None:
        for fault in self.faults:
            if fault.stage in stages and fault.at <= number < fault.at + fault.count:
                return fault
        return None

    def _kill_now(self, fault: Fault) -> None:
        if self.kill is not None:
            self.kill()
            self.fired[KILL] += 1
            self.faults.remove(fault)

    @staticmethod
    def _drop(server: Any) -> None:
        with contextlib.suppress(Exception):
            server.transport.close()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        with self._lock:
            self.transactions += 1
            number = envelope.cae_transaction = self.transactions
            fault = self._fault(number, ("mail",))
        if fault is not None:
            if fault.kind == KILL:
                self._kill_now(fault)
            else:
                self.fired[fault.kind] += 1
                if fault.kind == "smtp_disconnect":
                    self._drop(server)
                    return "421 4.4.2 Connexion coupée (test)"
                return _refusal(fault, "MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        fault = self._fault(getattr(envelope, "cae_transaction", 0), ("rcpt",))
        if fault is not None:  # the client gives up at the first refused recipient
            self.fired[fault.kind] += 1
            return _refusal(fault, "RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        number = getattr(envelope, "cae_transaction", 0)
        fault = self._fault(number, ("data", "data-kept", "data-lost"))
        if fault is None or fault.stage == "data-kept" or fault.kind == KILL:
            headers = BytesHeaderParser(policy=default_policy).parsebytes(envelope.content)
            with self._lock:
                self.received.append(
                    Mail(str(headers["X-CAE-Key"]), list(envelope.rcpt_tos), envelope.content)
                )
        if fault is None:
            return "250 OK"
        if fault.kind == KILL:
            self._kill_now(fault)
            return "250 OK"
        self.fired[fault.kind] += 1
        if fault.kind == "smtp_disconnect":
            self.unknown += 1
            self._drop(server)
            return "451 4.4.2 Connexion coupée (test)"
        return _refusal(fault, "DATA")


def _refusal(fault: Fault, step: str) -> str:
    if fault.kind == "smtp_4xx":
        return f"451 4.3.0 Erreur temporaire à {step} (test)"
    return f"554 5.7.1 Refus définitif à {step} (test)"


class SmtpFaultServer:
    """``FaultySmtp`` on 127.0.0.1, one for a whole session of scenarios."""

    def __init__(self) -> None:
        self.handler = FaultySmtp()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpFaultServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def environment(self) -> dict[str, str]:
        return smtp_environment(self.port)


# ---- Airtable faults ----------------------------------------------------------------------


class _Arming:
    """Arms a plan's Airtable faults on an emulator, counting those that fire."""

    def __init__(self, emulator: AirtableEmulator) -> None:
        self.emulator = emulator
        self.fired: Counter[str] = Counter()

    def _nth(self, fault: Fault, kind: str | None = None) -> Callable[[ApiRequest], bool]:
        emulator = self.emulator

        def when(request: ApiRequest) -> bool:
            if fault.target == "write":
                if request.operation == "list":
                    return False
                seen = emulator.count() - emulator.count(operation="list")
            else:
                seen = emulator.count()
            if seen + 1 < fault.at:
                return False
            self.fired[kind or fault.kind] += 1
            return True

        return when

    def arm(self, fault: Fault) -> None:
        em = self.emulator
        if fault.kind == "429_storm":
            em.inject(status=429, count=fault.count, when=self._nth(fault))
        elif fault.kind in ("500", "503"):
            em.inject(status=int(fault.kind), count=fault.count, when=self._nth(fault))
        elif fault.kind == "slow":
            em.inject_delay(CLIENT_TIMEOUT + SLOW_BY, count=fault.count, when=self._nth(fault))
        elif fault.kind == "disconnect":
            em.inject_disconnect(
                count=fault.count, when=self._nth(fault), after_processing=fault.stage == "after"
            )

    def arm_kill(self, fault: Fault, kill: Callable[[], None]) -> None:
        """After the ``at``-th request is applied, SIGKILL the run (a no-op fault that never
        matches: the emulator only asks it whether it applies)."""
        emulator = self.emulator
        done = threading.Event()

        def when(request: ApiRequest) -> bool:
            if not done.is_set() and emulator.count() + 1 >= fault.at:
                done.set()
                kill()
                self.fired[KILL] += 1
            return False

        emulator.inject_delay(0.0, count=1, when=when)


# ---- the oracle and the reference run ----------------------------------------------------


def oracle_keys() -> set[str]:
    """The keys the hand oracle expects on the example's first day, by name."""
    runs = json.loads(ORACLE.read_text("utf-8"))["runs"]
    (first,) = [r for r in runs if r["as_of"] == AS_OF.isoformat()]
    return {d["key"] for d in first["documents"]}


def message_facts(mail: Mail) -> dict[str, Any]:
    """What must be the same in every delivery of one letter (a retry resets To and Cc)."""
    message = mail.message()
    (attachment,) = list(message.iter_attachments())
    return {
        "message_id": str(message["Message-ID"]),
        "subject": str(message["Subject"]),
        "from": str(message["From"]),
        "to": sorted(a.addr_spec for a in message["To"].addresses) if message["To"] else [],
        "cc": sorted(a.addr_spec for a in message["Cc"].addresses) if message["Cc"] else [],
        "envelope": sorted(mail.recipients),
        "text": message.get_body(("plain",)).get_content(),
        "pdf": attachment.get_content(),
    }


@dataclass
class Reference:
    """A run without faults on the same base: what every scenario must end with."""

    names: dict[str, str]  # record id -> primary value (Membres, Missions)
    inputs: dict[str, dict[str, dict[str, Any]]]  # table -> record id -> fields, after the run
    ledger: dict[str, dict[str, Any]]  # key -> fields but Statut
    messages: dict[str, dict[str, Any]]  # key -> message_facts


# ---- results ------------------------------------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    fired: Counter[str] = field(default_factory=Counter)
    delivered: int = 0  # keys sent, with exactly one message
    delivered_unconfirmed: int = 0  # keys pending whose one message did reach the server
    duplicates: int = 0  # keys with more than one message
    lost: int = 0  # expected keys not in the ledger, input records gone or changed wrongly
    pending: int = 0  # keys left pending for a person
    unknown: int = 0  # mails whose connection dropped after the data (outcome unknown)
    in_flight: int = 0  # 1 when the kill struck during an SMTP transaction (its letter unknown)
    faulted_error: str | None = None  # how the faulted run ended, if not normally
    reruns: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    #: Errors of the test's own Prefect server during the reruns (retried, not the job's).
    infrastructure: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            self.plan.describe(),
            f"replay: {self.plan.replay()}",
            f"fired: {dict(self.fired)}; faulted run: {self.faulted_error or 'completed'}; "
            f"reruns: {self.reruns}; delivered {self.delivered}, pending {self.pending}",
        ]
        return "\n".join(lines + [f"- {p}" for p in self.problems])

    def as_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "plan"}
        return {
            **data,
            "seed": self.plan.seed,
            "index": self.plan.index,
            "kill_every": self.plan.kill_every,
            "fired": dict(self.fired),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        values = dict(data)
        plan = plan_for(values.pop("seed"), values.pop("index"), values.pop("kill_every"))
        values["fired"] = Counter(values["fired"])
        return cls(plan, **values)


Tamper = Callable[[AirtableEmulator, "SmtpFaultServer"], None]


# ---- the harness --------------------------------------------------------------------------


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _unlock(base_id: str) -> None:
    """Free the per-source slot a killed run still holds, as a person would (``cae unlock``)."""
    from prefect.exceptions import PrefectHTTPStatusError

    from flows.locks import unlock
    from services.run_setup import lock_name

    for attempt in range(3):  # the test's Prefect server may answer 503 under load
        try:
            unlock(lock_name("airtable", base_id))
            return
        except PrefectHTTPStatusError:
            if attempt == 2:
                raise
            time.sleep(1.0)


def _fields(record: dict[str, Any], drop: set[str]) -> dict[str, Any]:
    return {k: v for k, v in record["fields"].items() if k not in drop}


class Harness:
    """Runs scenarios; needs a Prefect API (the test session's server or a test harness)."""

    def __init__(self, workdir: Path, smtp: SmtpFaultServer, keep_failed: bool = True) -> None:
        self.workdir = workdir
        self.smtp = smtp
        self.keep_failed = keep_failed
        self.expected = oracle_keys()
        self.reference: Reference | None = None

    # -- pieces --------------------------------------------------------------------------

    def _env(self, emulator: AirtableEmulator, base_id: str) -> dict[str, str]:
        return {
            "AIRTABLE_TOKEN": TOKEN,
            "AIRTABLE_BASE_ID": base_id,
            "AIRTABLE_ENDPOINT_URL": emulator.url,
            "CAE_AIRTABLE_PENALTY_SECONDS": str(PENALTY),
            "CAE_AIRTABLE_RATE": "1000",
            "CAE_AIRTABLE_TIMEOUT": str(CLIENT_TIMEOUT),
            **self.smtp.environment(),
        }

    def _build(self, emulator: AirtableEmulator, base_id: str) -> None:
        """``cae airtable init --with-example`` with no limit, then the request log cleared."""
        settings = AirtableSettings.from_environment(env=self._env(emulator, base_id))
        init_base(
            AirtableClient(replace(settings, requests_per_second=1000)),
            Config().schema,
            EXAMPLE_DIR,
        )
        emulator.reset_counts()

    def _daily(self, out: Path) -> tuple[dict[str, Any], Any]:
        from flows.daily import daily

        state = daily(
            source="airtable", as_of=AS_OF, out=str(out), config=IDENTITY, return_state=True
        )
        return state.result(), state.state_details.flow_run_id

    def _subprocess_run(self, out: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        from prefect.settings import PREFECT_API_URL

        command = [
            sys.executable, "-m", "cae.cli", "run", "--source", "airtable",
            "--as-of", AS_OF.isoformat(), "--out", str(out), "--config", IDENTITY,
        ]  # fmt: skip
        child_env = {
            **os.environ,
            **env,
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_TO_API_ENABLED": "false",
        }
        return subprocess.Popen(
            command,
            env=child_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @staticmethod
    def _waiting_in_report(flow_run_id: Any) -> str:
        """The « À traiter par une personne » part of the run's report artifact."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            ArtifactFilter,
            ArtifactFilterFlowRunId,
            ArtifactFilterKey,
        )

        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["daily-report"]),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                )
            )
        if not artifacts:
            return ""
        return str(artifacts[0].data).split("## Documents émis")[0]

    # -- a scenario ----------------------------------------------------------------------

    def prepare(self) -> Reference:
        """The run without faults every scenario is compared with (it is checked too)."""
        if self.reference is None:
            plan = Plan(0, 0, (), 0)
            outcome, snapshot = self._scenario(plan, reference=True)
            if outcome.problems:
                raise AssertionError("the run without faults fails:\n" + outcome.report())
            self.reference = snapshot
        return self.reference

    def run(self, plan: Plan, tamper: Tamper | None = None) -> Outcome:
        """Run one scenario and check it; ``tamper`` (for the checks' own tests) may break
        something between the reruns and the checks."""
        self.prepare()
        outcome, _ = self._scenario(plan, tamper=tamper)
        return outcome

    def _scenario(
        self, plan: Plan, reference: bool = False, tamper: Tamper | None = None
    ) -> tuple[Outcome, Reference]:
        started = time.monotonic()
        outcome = Outcome(plan)
        name = "reference" if reference else f"s{plan.seed}-{plan.index}"
        out = self.workdir / name
        shutil.rmtree(out, ignore_errors=True)
        base_id = f"appF{plan.seed % 10_000:04d}{plan.index:06d}" if not reference else "appFREF"
        with AirtableEmulator(
            TOKEN, base_id, rate_limit=None, penalty_seconds=PENALTY, seed=EMULATOR_SEED
        ) as emulator:
            env = self._env(emulator, base_id)
            with environment(env):
                self._build(emulator, base_id)
                before = {t: emulator.records(t) for t in INPUT_TABLES}
                smtp_faults = [f for f in plan.faults if f.kind in SMTP_KINDS]
                kill = plan.kill
                if kill is not None and kill.target == "mail":
                    smtp_faults.append(kill)
                self.smtp.handler.reset(smtp_faults)
                arming = _Arming(emulator)
                for fault in plan.faults:
                    arming.arm(fault)
                if kill is None:
                    try:
                        self._daily(out)
                    except Exception as exc:  # the faulted run may give up: the rerun must cope
                        outcome.faulted_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                        if type(exc).__name__ == "PrefectHTTPStatusError":  # the test's server
                            outcome.infrastructure.append(outcome.faulted_error)
                else:
                    self._killed_run(out, env, kill, arming, outcome)
                emulator.clear_faults()
                outcome.fired = arming.fired + self.smtp.handler.fired
                outcome.unknown = self.smtp.handler.unknown
                outcome.in_flight = self.smtp.handler.fired[KILL]
                self.smtp.handler.faults = []
                self.smtp.handler.kill = None
                if (
                    outcome.faulted_error
                    and plan.airtable_budget < ATTEMPTS
                    and kill is None
                    and not outcome.infrastructure
                ):
                    outcome.problems.append(
                        f"the faulted run crashed though every request had retries left: "
                        f"{outcome.faulted_error}"
                    )
                final_run = self._rerun(out, outcome)
                if tamper is not None:
                    tamper(emulator, self.smtp)
                snapshot = self._check(emulator, before, final_run, outcome, reference)
        outcome.seconds = time.monotonic() - started
        if not outcome.problems or not self.keep_failed:
            shutil.rmtree(out, ignore_errors=True)
        return outcome, snapshot

    def _killed_run(
        self,
        out: Path,
        env: dict[str, str],
        kill: Fault,
        arming: _Arming,
        outcome: Outcome,
    ) -> None:
        process: subprocess.Popen[bytes] | None = None
        killed = threading.Event()

        def do_kill() -> None:
            if process is not None and not killed.is_set():
                killed.set()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)

        if kill.target == "any":
            arming.arm_kill(kill, do_kill)
        else:
            self.smtp.handler.kill = do_kill
        process = self._subprocess_run(out, env)
        try:
            process.wait(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode == -signal.SIGKILL:
            outcome.faulted_error = "killed (SIGKILL)"
            _unlock(env["AIRTABLE_BASE_ID"])
        elif process.returncode != 0:
            outcome.faulted_error = f"cae run exited {process.returncode}"
            if kill is not None and not killed.is_set() and outcome.plan.airtable_budget < ATTEMPTS:
                outcome.problems.append(f"cae run exited {process.returncode} without being killed")

    def _rerun(self, out: Path, outcome: Outcome) -> tuple[dict[str, Any], str]:
        """Rerun without faults until a run has nothing to issue or resend."""
        from prefect.exceptions import PrefectHTTPStatusError

        summary: dict[str, Any] = {}
        waiting = ""
        runs = 0
        while runs < MAX_RERUNS:
            outcome.reruns += 1
            try:
                summary, run_id = self._daily(out)
            except PrefectHTTPStatusError as exc:
                # The test's own Prefect server (SQLite) refused a call under load: not a fault
                # of the job's; noted, and the rerun is tried again (three times at most).
                outcome.infrastructure.append(f"Prefect API: {exc}"[:300])
                if len(outcome.infrastructure) > 3:
                    outcome.problems.append(f"the Prefect API keeps failing: {exc!r}"[:500])
                    return {}, ""
                time.sleep(1.0)
                continue
            except Exception as exc:
                outcome.problems.append(f"a rerun without faults crashed: {exc!r}"[:500])
                return {}, ""
            runs += 1
            if not summary["documents"]:
                waiting = self._waiting_in_report(run_id)
                return summary, waiting
        outcome.problems.append(f"still issuing after {MAX_RERUNS} reruns: {summary['documents']}")
        return summary, waiting

    # -- the invariants ------------------------------------------------------------------

    def _check(
        self,
        emulator: AirtableEmulator,
        before: dict[str, list[dict[str, Any]]],
        final_run: tuple[dict[str, Any], str],
        outcome: Outcome,
        reference: bool,
    ) -> Reference:
        problems = outcome.problems
        names = {
            r["id"]: r["fields"][primary]
            for table, primary in (("Membres", "Nom"), ("Missions", "Mission"))
            for r in emulator.records(table)
        }

        def named(key: str) -> str:
            return ":".join(names.get(part, part) for part in key.split(":"))

        # The ledger: each expected key exactly once, nothing else.
        rows = [r for t in LEDGER_TABLES for r in emulator.records(t)]
        keys = Counter(r["fields"].get("Clé") for r in rows)
        for key, n in keys.items():
            if n > 1:
                problems.append(f"ledger: {n} rows for {named(key)}")
        ledger_named = {named(k) for k in keys if k}
        for missing in sorted(self.expected - ledger_named):
            problems.append(f"lost: {missing} is due but not in the ledger")
            outcome.lost += 1
        for extra in sorted(ledger_named - self.expected):
            problems.append(f"ledger: {extra} is not due")
        by_key = {r["fields"].get("Clé"): r for r in rows}

        # The mails: at most one per key, each agreeing with the key's ledger row.
        per_key = self.smtp.handler.per_key()
        for key, n in per_key.items():
            if n > 1:
                outcome.duplicates += 1
                problems.append(f"duplicate: {named(key)} delivered {n} times")
            if key not in by_key:
                problems.append(f"mail for {named(key)}, which the ledger does not hold")
        summary, waiting = final_run
        for key, row in by_key.items():
            status, n = row["fields"].get("Statut"), per_key.get(key, 0)
            if status == "sent":
                if n != 1:
                    problems.append(f"ledger says {named(key)} sent; the server received {n}")
                else:
                    outcome.delivered += 1
            elif status == "pending":
                outcome.pending += 1
                outcome.delivered_unconfirmed += n == 1
                if n > 1:
                    problems.append(f"{named(key)} pending with {n} messages")
                if summary and key not in waiting:
                    problems.append(f"{named(key)} pending but not in the report for a person")
            else:
                problems.append(f"{named(key)} left {status} after the reruns ({n} messages)")
        if summary and summary["documents"]:
            problems.append("the last rerun still issued documents")
        expected_pending = outcome.unknown + outcome.in_flight
        if not reference and outcome.pending != expected_pending:
            # However the faulted run ended (completed, crashed, killed), only the mails cut
            # after their data and the one letter a kill caught mid-transaction are unknown:
            # a timeout, a lost answer from Airtable or a kill must not leave a letter unsent.
            problems.append(
                f"the faulted run ({outcome.faulted_error or 'completed'}) left "
                f"{outcome.pending} key(s) waiting for a person where {outcome.unknown} mail "
                f"outcome(s) are unknown and {outcome.in_flight} letter(s) were in flight at a kill"
            )

        # The input tables: the same records, changed only as the oracle says.
        ledger_ids = {emulator.table_id(t) for t in LEDGER_TABLES}
        schema = {t["name"]: t for t in emulator.schema()["tables"]}
        inputs: dict[str, dict[str, dict[str, Any]]] = {}
        for table in INPUT_TABLES:
            back_links = {
                f["name"]
                for f in schema[table]["fields"]
                if f["type"] == "multipleRecordLinks"
                and f["options"]["linkedTableId"] in ledger_ids
            }
            now = {r["id"]: _fields(r, back_links) for r in emulator.records(table)}
            inputs[table] = now
            for record in before[table]:
                expected = _fields(record, back_links)
                if table == "Membres" and expected.get("Nom") in EXPECTED_STATUS_CHANGES:
                    expected["Statut"] = EXPECTED_STATUS_CHANGES[expected["Nom"]]
                if record["id"] not in now:
                    outcome.lost += 1
                    problems.append(f"lost: {table} {record['id']} is gone")
                elif now[record["id"]] != expected:
                    outcome.lost += 1
                    changed = {
                        k: (expected.get(k), now[record["id"]].get(k))
                        for k in set(expected) | set(now[record["id"]])
                        if expected.get(k) != now[record["id"]].get(k)
                    }
                    problems.append(f"changed: {table} {record['id']} {changed}")
            for extra in set(now) - {r["id"] for r in before[table]}:
                problems.append(f"new record in {table}: {extra}")

        ledger = {k: _fields(r, {"Statut"}) for k, r in by_key.items() if k}
        messages = {}
        for mail in self.smtp.handler.received:
            with contextlib.suppress(Exception):
                messages[mail.key] = message_facts(mail)
        snapshot = Reference(names, inputs, ledger, messages)
        if reference:
            if set(ledger) != set(messages) or any(
                r["fields"].get("Statut") != "sent" for r in by_key.values()
            ):
                problems.append("the run without faults did not send every document once")
            return snapshot

        # Compared with the run without faults: the same rows, the same letters.
        ref = self.reference
        assert ref is not None
        for key, fields in ledger.items():
            expected = ref.ledger.get(key)
            if expected is None:
                continue
            if "Document" not in fields:
                expected = {k: v for k, v in expected.items() if k != "Document"}
            if fields != expected:
                diff = {
                    k: (expected.get(k), fields.get(k))
                    for k in set(expected) | set(fields)
                    if expected.get(k) != fields.get(k)
                }
                problems.append(
                    f"ledger row {named(key)} differs from a run without faults: {diff}"
                )
        for mail in self.smtp.handler.received:
            facts = messages.get(mail.key)
            if facts is None or facts != ref.messages.get(mail.key):
                problems.append(f"the mail for {named(mail.key)} differs from a run without faults")
        return snapshot


def totals(outcomes: list[Outcome]) -> dict[str, Any]:
    """The soak's figures."""
    fired: Counter[str] = Counter()
    planned: Counter[str] = Counter()
    for o in outcomes:
        fired.update(o.fired)
        planned.update(f.kind for f in o.plan.faults)
    return {
        "scenarios_run": len(outcomes),
        "scenarios_failed": sum(1 for o in outcomes if o.problems),
        "faults_planned_by_kind": {k: planned[k] for k in KINDS},
        "faults_injected_by_kind": {k: fired[k] for k in KINDS},
        "faulted_runs_that_crashed": sum(
            1 for o in outcomes if o.faulted_error and not o.faulted_error.startswith("killed")
        ),
        "processes_killed": sum(1 for o in outcomes if o.faulted_error == "killed (SIGKILL)"),
        "mail_outcomes_unknown": sum(o.unknown for o in outcomes),
        "documents_due": len(oracle_keys()) * len(outcomes),
        "documents_delivered": sum(o.delivered for o in outcomes),
        "documents_delivered_but_unconfirmed": sum(o.delivered_unconfirmed for o in outcomes),
        "duplicates_found": sum(o.duplicates for o in outcomes),
        "records_lost": sum(o.lost for o in outcomes),
        "pending_left_for_a_person": sum(o.pending for o in outcomes),
        # The bound: each kill leaves at most its letter in flight, plus the unknown mails.
        "kills_plus_unknown_outcomes": sum(
            (o.faulted_error == "killed (SIGKILL)") + o.unknown for o in outcomes
        ),
        # What it must equal: the kills that struck mid-transaction, plus the unknown mails.
        "letters_in_flight_at_a_kill": sum(o.in_flight for o in outcomes),
        "reruns": sum(o.reruns for o in outcomes),
        "prefect_api_errors_retried": sum(len(o.infrastructure) for o in outcomes),
        "seconds": round(sum(o.seconds for o in outcomes), 1),
    }
