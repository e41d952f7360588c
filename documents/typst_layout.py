"""The letter's tree, as ``documents.typst_pdf`` reads it from the HTML, turned into what
``templates/typst/letter.typ`` lays out: each block with its role, each text with its style.

Typst's scripting is slow next to Python's (deciding, node by node, which rule of the layout
applies took about a quarter of Typst's time on a letter), so the decisions are made here and
Typst only applies them. The rules are those of ``letter.css``, in the order the layout had
them. Texts stay strings: they reach Typst as data, never as markup.

A block is ``{"r": role, ...}``, with ``"k"`` its inline content (a list) for a block of text,
or ``"b"`` its child blocks and paragraphs (a paragraph is a list of inline content) for a
block of blocks. An inline piece is a string, or ``{"s": style, "k": [...]}``.
"""

from __future__ import annotations

from typing import Any

#: Elements that start a block of their own; the others flow in the line.
BLOCKS = frozenset(
    {
        "html", "body", "header", "main", "section", "div", "p", "h1", "h2", "h3", "ul", "ol",
        "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip

#: Blocks laid out by their class, in the layout's order: (class, role, made of blocks).
_BY_CLASS = (
    ("letterhead", "letterhead", True),
    ("coop-name", "coop-name", False),
    ("coop-address", "coop-line", False),
    ("coop-legal", "coop-line", False),
    ("coop-contact", "coop-line", False),
    ("addressee", "addressee", True),
    ("dateline", "dateline", False),
    ("reference", "reference", False),
    ("registered", "registered", False),
    ("subject", "subject", False),
    ("name", "name", False),
    ("sign-off", "sign-off", True),
    ("signature", "signature", True),
    ("copies", "copies", False),
)
#: Blocks whose paragraphs have no margin (``letter.css``): the addressee's, the signature's.
_TIGHT = frozenset({"addressee", "signature"})


def inline(node: Any) -> list[Any]:
    """``node`` as inline content: a span with no style of its own gives its content."""
    if isinstance(node, str):
        return [node]
    tag, cls = node["tag"], node["cls"]
    kids = [piece for kid in node["kids"] for piece in inline(kid)]
    if tag == "br":
        style = "br"
    elif tag in ("nobr", "name"):
        style = "nobr"  # never split, never hyphenated
    elif "email" in cls:
        style = "email"
    elif "highlight" in cls or tag in ("strong", "b"):
        style = "bold"
    elif tag in ("em", "i"):
        style = "em"
    elif "note" in cls:
        style = "note"
    else:
        return kids
    return [{"s": style, "k": kids}]


def line(node: dict[str, Any]) -> list[Any]:
    """A block's content as one run of inline content."""
    return [piece for kid in node["kids"] for piece in inline(kid)]


def layout(node: dict[str, Any], tight: bool = False) -> dict[str, Any] | None:
    """The block ``node`` as the layout takes it; ``None`` for a table with no row.
    ``tight``: a paragraph without its margin."""
    tag, cls = node["tag"], node["cls"]
    for name, role, of_blocks in _BY_CLASS:
        if name in cls:
            if of_blocks:
                return {"r": role, "b": blocks(node, tight=role in _TIGHT)}
            return {"r": role, "k": line(node)}
    if tag == "p":
        return {"r": "p-tight" if tight else "p", "k": line(node)}
    if tag in ("ul", "ol"):
        items = [line(kid) for kid in node["kids"] if isinstance(kid, dict)]
        return {"r": tag, "k": items}
    if tag == "blockquote":
        role = "address" if "address" in cls else "quote"
        return {"r": role, "b": blocks(node, tight=True)}
    if tag == "table":
        return figures(node)
    if tag in ("h1", "h2", "h3"):
        return {"r": tag, "k": line(node)}
    return {"r": "blocks", "b": blocks(node)}


def blocks(node: dict[str, Any], tight: bool = False) -> list[Any]:
    """A block's children: its blocks, and the runs of inline content between them as
    paragraphs of their own. A child that is only a block of blocks gives its children (the
    same content, less for Typst to go through)."""
    made: list[Any] = []
    run: list[Any] = []
    for kid in node["kids"]:
        if isinstance(kid, dict) and (kid["tag"] in BLOCKS or kid["tag"] == "root"):
            if run:
                made.append(run)
                run = []
            block = layout(kid, tight)
            if block is None:
                continue
            if block["r"] == "blocks":
                made += block["b"]
            else:
                made.append(block)
        else:
            run += inline(kid)
    if run:
        made.append(run)
    return made


def figures(node: dict[str, Any]) -> dict[str, Any] | None:
    """A table of figures: its rows (header, total), its cells (span, figure or label) and
    which columns hold figures (they fit their figures; the others share the width)."""
    rows = []
    for part in node["kids"]:
        if not isinstance(part, dict):
            continue
        trs = [part] if part["tag"] == "tr" else [k for k in part["kids"] if isinstance(k, dict)]
        for tr in trs:
            cells = [
                {"n": "num" in cell["cls"], "span": cell.get("colspan", 1), "k": line(cell)}
                for cell in tr["kids"]
                if isinstance(cell, dict)
            ]
            rows.append({"head": part["tag"] == "thead", "total": "total" in tr["cls"], "c": cells})
    if not rows:
        return None
    count = max(1, *(sum(cell["span"] for cell in row["c"]) for row in rows))
    numeric = [False] * count
    for row in rows:
        column = 0
        for cell in row["c"]:
            if cell["n"] and cell["span"] == 1:
                numeric[column] = True
            column += cell["span"]
    # A letter's table stays whole; a report's long table runs on over the next pages.
    return {"r": "table", "rows": rows, "numeric": numeric, "long": len(rows) > 15}


def find(node: Any, cls: str) -> dict[str, Any] | None:
    """The first element of class ``cls`` in ``node``, depth first."""
    if isinstance(node, dict):
        if cls in node["cls"]:
            return node
        for kid in node["kids"]:
            found = find(kid, cls)
            if found is not None:
                return found
    return None


def plain(node: Any) -> str:
    """``node``'s text."""
    return node if isinstance(node, str) else "".join(plain(kid) for kid in node["kids"])


def footer(tree: dict[str, Any]) -> str:
    """The left side of every page's footer: the cooperative's name and the reference."""
    name = find(tree, "coop-name")
    reference = find(tree, "reference")
    left = "" if name is None else plain(name)
    return left if reference is None else f"{left} · {plain(reference)}"
