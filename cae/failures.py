"""How a ``cae`` command that failed says so, on stderr.

- Airtable or Notion refused, for a reason a person can fix (``integrations.refusals``): the
  French sentence on one line, no traceback; exit status 2 when the run had claimed nothing
  (start it again once fixed), 1 when it had (its report lists what it had done).
- An answer from Airtable or Notion the project does not understand: its traceback, then the
  line, exit status 1, so that it is reported rather than hidden.
- Anything else: the line the command printed before (its French message), exit status 1.
"""

from __future__ import annotations

import sys
import traceback

import requests
from notion_client.errors import HTTPResponseError

from integrations.refusals import find_refusal

#: Exit status of a command that Airtable or Notion refused before anything was claimed.
REFUSED = 2


def report_failure(prefix: str, exc: BaseException, *, detail: str | None = None) -> int:
    """Print why the command failed; return its exit status. ``detail`` replaces ``str(exc)``
    after the prefix for failures that are not refusals."""
    refusal = find_refusal(exc)
    if refusal is not None:
        print(f"{prefix} : {refusal}", file=sys.stderr)
        return 1 if refusal.claimed else REFUSED
    if isinstance(exc, requests.HTTPError | HTTPResponseError):
        traceback.print_exception(exc, file=sys.stderr)
    print(f"{prefix} : {detail or exc}", file=sys.stderr)
    return 1
