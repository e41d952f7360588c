"""The fewest requests a run on Airtable can make, shared by the tests and ``bench/``.

⌈records/100⌉ per table read (at least one: an empty table still costs the request that says it
is empty, docs/decisions.md), then for each write phase ⌈rows written/10⌉ per table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

PAGE = 100
BATCH = 10


def minimum_requests(reads: Mapping[str, int], writes: Iterable[Mapping[str, int]]) -> int:
    """``reads``: records in each table read; ``writes``: for each write phase (claim, mark
    sent, member statuses), the rows it writes in each table."""
    listed = sum(max(1, math.ceil(records / PAGE)) for records in reads.values())
    written = sum(math.ceil(rows / BATCH) for phase in writes for rows in phase.values())
    return listed + written
