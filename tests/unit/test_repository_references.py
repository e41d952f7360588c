"""The repository documents itself: no file points outside it, and no Markdown link is broken.

A clone holds only the repository. A pointer to a specification kept elsewhere (a folder next
to the clone, a rule book by its file name) sends the reader nowhere; the rules, tables and
letters are described in ``docs/``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: What a file pointing outside the repository looks like: the specification's folder and the
#: names of the documents that lived there.
OUTSIDE = re.compile(
    r"\.\./shared|\bCHARTER\.md|\bDATA-MODEL\.md|\bAPI-NOTES\.md|\bDOCUMENTS\.md|\bSTYLE\.md"
    r"|charte-cae-nocode"
)
#: A Markdown link: [text](target), the target up to a space, a closing parenthesis or a title.
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary files (PDFs, images) hold no pointers


def test_no_file_points_outside_the_repository():
    this = Path(__file__).resolve()
    found = []
    for path in tracked_files():
        if path.resolve() == this:
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert found == [], "\n".join(found)


def broken_links(markdown: Path) -> list[str]:
    text = text_of(markdown) or ""
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address, a mail address, or an anchor in the same page
        relative = target.split("#", 1)[0]
        resolved = (markdown.parent / relative).resolve()
        if not resolved.exists() or ROOT not in (resolved, *resolved.parents):
            broken.append(f"{markdown.relative_to(ROOT)}: ({target})")
    return broken


def test_every_relative_markdown_link_leads_to_a_file_of_the_repository():
    pages = [path for path in tracked_files() if path.suffix == ".md"]
    found = [line for page in pages for line in broken_links(page)]
    assert found == [], "\n".join(found)


#: The specification's folder beside a clone, spelt so that this file does not point there.
SPEC_FOLDER = "/".join(["..", "shared"])


@pytest.mark.parametrize(
    ("line", "points_outside"),
    [
        (f"The rules are in `{SPEC_FOLDER}/CHARTER.md`.", True),
        ("See DATA-MODEL.md, section 3.", True),
        ("The charter (charte-cae-nocode.txt) is the source.", True),
        ("See docs/charter.md, art. 4.", False),
        ("Our own docs/data-model.md describes the tables.", False),
    ],
)
def test_the_check_recognises_pointers_outside(line, points_outside):
    assert bool(OUTSIDE.search(line)) is points_outside


def test_the_check_recognises_broken_links(tmp_path):
    page = ROOT / "docs" / "__link_check_probe__.md"
    try:
        page.write_text("[ok](decisions.md) [gone](nowhere.md) [out](../../x.md) [w](https://a.b)")
        assert [b.split(": ")[1] for b in broken_links(page)] == ["(nowhere.md)", "(../../x.md)"]
    finally:
        page.unlink()
