"""The delivery journal: each letter's fate on disk the moment it is known, in ``OUT/journal/``.

The Airtable ledger writes status changes 10 rows a request, so a run killed outright (SIGKILL,
power cut) would leave every key of its batch ``pending`` for a person, letters the mail server
had accepted included. The journal closes that gap: one append-only file per run,
``OUT/journal/<time>-<pid>-<random>.jsonl``, one JSON line per event, each synced to disk
(``fsync``) before the run goes on:

- ``claiming``: the keys a run on a serialised ledger (Airtable, Notion) is about to claim or take
  back, written before the request, since the answer may never come;
- ``claimed``: the keys the ledger confirmed as this run's;
- ``attempting``: the key whose SMTP transaction starts now (one at a time);
- ``answer``: the server's answer, ``sent`` or ``failed`` (with the document's path), or
  ``unknown`` when the connection dropped after the data.

The writing process holds an exclusive ``flock`` on its file for as long as it lives (the kernel
releases it when the process dies, however it dies), so a run never settles the journal of a
run still at work. ``services.journal`` carries dead runs' journals into the ledger.

The first line names the ledger (``airtable:cae-airtable-app…``, ``local``): a journal is only
ever applied to the ledger it was written for.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FOLDER = "journal"
SUFFIX = ".jsonl"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Journal:
    """The journal of one run; opened at its first event. ``Journal(None)`` writes nothing (a
    preview, a ledger read by hand)."""

    def __init__(self, out: Path | None, ledger: str = "") -> None:
        self.folder = None if out is None else out / FOLDER
        self.ledger = ledger
        self.path: Path | None = None
        self._fd: int | None = None
        self._outstanding: set[str] = set()  # claimed, not yet attempted
        self._lock = threading.Lock()  # claims and deliveries may run in different threads

    def __getstate__(self) -> dict[str, Any]:
        # Its file descriptor and lock mean nothing in another process, and two copies writing
        # apart would split one run's journal: the journal goes nowhere, loudly.
        raise TypeError("le journal d'une exécution ne quitte pas son processus")

    def _open(self) -> int:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        # Locked and headed under another name first: a run settling journals never sees it
        # unlocked (nor takes its lock before its writer does).
        opening = path.with_suffix(".opening")
        fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._closing = weakref.finalize(self, os.close, fd)  # a run that ended by an exception
        self._write(fd, {"ledger": self.ledger, "host": socket.gethostname(), "pid": os.getpid()})
        opening.rename(path)
        _sync_folder(self.folder)
        self.path, self._fd = path, fd
        return fd

    @staticmethod
    def _write(fd: int, entry: dict[str, Any]) -> None:
        data = (json.dumps({"at": _now(), **entry}, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(fd, data)
        os.fsync(fd)

    def _entry(self, claimed: Iterable[str] = (), done: str | None = None, **entry: Any) -> None:
        if self.folder is None:
            return
        with self._lock:
            fd = self._fd if self._fd is not None else self._open()
            self._write(fd, entry)
            self._outstanding.update(claimed)
            self._outstanding.discard(done or "")

    def claiming(self, keys: Iterable[str]) -> None:
        if keys := sorted(keys):
            self._entry(event="claiming", keys=keys)

    def claimed(self, keys: Iterable[str]) -> None:
        """Keys now this run's to send (a ``historical`` row is not: it is never sent)."""
        if keys := sorted(keys):
            self._entry(keys, event="claimed", keys=keys)

    def attempting(self, key: str) -> None:
        self._entry(done=key, event="attempting", key=key)

    def answer(self, key: str, status: str, document: str | None = None) -> None:
        self._entry(done=key, event="answer", key=key, status=status, document=document)

    def settled(self) -> None:
        """The ledger holds every outcome so far: once no claimed key is left to send, the
        journal has nothing more to tell, and is deleted (a later event starts another)."""
        with self._lock:
            if self._fd is None or self._outstanding:
                return
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            self._release()

    def close(self) -> None:
        """Stop writing and free the journal: if it is still there, the next run settles it."""
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._fd is not None:
            self._closing()
            self.path, self._fd = None, None


@dataclass
class Entries:
    """What one journal says, key by key."""

    ledger: str = ""
    claiming: set[str] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)
    attempting: set[str] = field(default_factory=set)
    answers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def all_keys(self) -> set[str]:
        return self.claiming | self.claimed | self.attempting | set(self.answers)


def parse(lines: Iterable[str]) -> Entries:
    """The entries of a journal's lines; a torn last line (a power cut mid-write) is skipped."""
    entries = Entries()
    for text in lines:
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        entries.lines.append(line)
        event = line.get("event")
        if event is None and "ledger" in line:
            entries.ledger = str(line["ledger"])
        elif event in ("claiming", "claimed"):
            getattr(entries, event).update(str(k) for k in line.get("keys", []))
        elif event == "attempting":
            entries.attempting.add(str(line["key"]))
        elif event == "answer":
            entries.answers[str(line["key"])] = (str(line["status"]), line.get("document"))
    return entries


@dataclass
class DeadJournal:
    """The journal of a run that is no longer running, held (locked) while it is settled."""

    path: Path
    entries: Entries
    _fd: int

    def keep_only(self, keys: set[str]) -> None:
        """Rewrite the journal with the lines about ``keys`` alone (a targeted run could not
        see the others); delete it when none is left."""
        if not keys:
            self.path.unlink(missing_ok=True)
            _sync_folder(self.path.parent)
            return
        kept = []
        for line in self.entries.lines:
            if "keys" in line:
                line = {**line, "keys": [k for k in line["keys"] if k in keys]}
                if not line["keys"]:
                    continue
            elif "key" in line and line["key"] not in keys:
                continue
            kept.append(json.dumps(line, ensure_ascii=False) + "\n")
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            file.writelines(kept)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)  # the lock is on the old file: nobody reads it any more
        _sync_folder(self.path.parent)


@contextmanager
def dead_journals(out: Path, ledger: str) -> Iterator[list[DeadJournal]]:
    """The journals in ``out`` of runs that are over (their writer's lock is free) and that were
    written for ``ledger``, each locked until the block ends, so that two runs never settle the
    same journal."""
    folder = out / FOLDER
    held: list[DeadJournal] = []
    for opening in folder.glob("*.opening") if folder.is_dir() else []:
        _remove_if_dead(opening)  # its run died before its first event was written
    try:
        for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # settled meanwhile by another run
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # its run is still at work
                continue
            try:
                same = os.fstat(fd).st_ino == path.stat().st_ino
            except FileNotFoundError:
                same = False
            with os.fdopen(os.dup(fd), encoding="utf-8") as file:
                entries = parse(file)
            if not same or entries.ledger != ledger:
                os.close(fd)
                continue
            held.append(DeadJournal(path, entries, fd))
        yield held
    finally:
        for journal in held:
            os.close(journal._fd)


def _remove_if_dead(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == path.stat().st_ino:
            path.unlink()
    except (BlockingIOError, FileNotFoundError):
        pass  # being opened by a live run, or renamed meanwhile
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a file's creation, renaming or removal in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
