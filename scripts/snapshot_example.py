"""Fingerprint the example's two documented runs, to show a refactoring changed nothing.

Runs ``cae run`` on the bundled example as of 2026-11-26, then on ``cae/example-december`` as of
2026-12-28 in the same out folder, and prints one line per output: ``run-summary.json`` (without
the out folder's absolute path), each PDF's bytes, each HTML, and each ``.eml`` without its Date
header, with a SHA-256 each. Compare two commits with ``diff``::

    python scripts/snapshot_example.py /tmp/snap-before > before.txt
    python scripts/snapshot_example.py /tmp/snap-after > after.txt
    diff before.txt after.txt
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

RUNS = [
    ["--as-of", "2026-11-26"],
    ["--data", "cae/example-december", "--as-of", "2026-12-28"],
]


def fingerprint(path: Path, out: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".eml":
        data = re.sub(rb"(?m)^Date: .*\r?\n", b"", data)
    elif path.name == "run-summary.json":
        data = data.replace(str(out).encode(), b"OUT")
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cae-snapshot").resolve()
    shutil.rmtree(work, ignore_errors=True)
    out = work / "out"
    cae = Path(sys.executable).parent / "cae"
    for number, args in enumerate(RUNS, start=1):
        subprocess.run([str(cae), "run", *args, "--out", str(out)], check=True, capture_output=True)
        summary = out / "run-summary.json"
        print(f"run{number} run-summary.json {fingerprint(summary, out)}")
        shutil.copy(summary, work / f"run-summary-{number}.json")
    for path in sorted((out / "documents").rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(out)} {fingerprint(path, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
