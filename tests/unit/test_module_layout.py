"""Every module outside ``tests/`` and ``bench/`` is at most 400 lines and opens with a docstring.

A module that grows past 400 lines is doing several jobs: split it into a package (as the
emulators are) rather than raise the limit.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
EXEMPT = ("tests/", "bench/")


def modules() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / n for n in listed if not n.startswith(EXEMPT) and (ROOT / n).is_file()]


def problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    lines = len(text.splitlines())
    if lines > MAX_LINES:
        found.append(f"{path.name}: {lines} lines (at most {MAX_LINES})")
    if ast.get_docstring(ast.parse(text)) is None:
        found.append(f"{path.name}: no docstring")
    return found


def test_every_module_is_short_and_says_what_it_is_for():
    assert modules(), "git listed no module"
    found = [p for path in modules() for p in problems(path)]
    assert found == [], "\n".join(found)


def test_the_check_recognises_a_long_module_and_a_missing_docstring(tmp_path):
    short = tmp_path / "short.py"
    short.write_text('"""What it is for."""\n\nX = 1\n')
    long = tmp_path / "long.py"
    long.write_text("X = 1\n" * (MAX_LINES + 1))
    assert problems(short) == []
    assert problems(long) == [
        f"long.py: {MAX_LINES + 1} lines (at most {MAX_LINES})",
        "long.py: no docstring",
    ]
