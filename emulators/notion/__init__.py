"""A loopback Notion for tests: the public API, version 2025-09-03, over real HTTP, for the real
notion-client.

Usage::

    with NotionEmulator(token="secret_TEST") as n:
        parent = n.create_page_parent("CAE")
        database_id, data_source_id = n.create_database(
            parent, "Membres", {"Nom": {"title": {}}, "Clé": {"rich_text": {}}}
        )
        notion = Client(auth="secret_TEST", base_url=n.url)  # it calls {base_url}/v1/...
        notion.data_sources.query(data_source_id=data_source_id, page_size=100)
        assert n.count(operation="query") == 1

What it serves, as Notion does where this project relies on it (API version 2025-09-03, where a
database holds data sources and pages live in a data source):

- databases: create under a parent page with ``initial_data_source.properties``, retrieve (with
  ``data_sources: [{"id", "name"}]``), update (title, ``in_trash``).
- data sources: create (a second one in a database), retrieve (``properties``: the schema, each
  with ``id``, ``name``, ``type`` and its configuration), update (add, rename, remove
  properties; add select options; title), query with ``page_size`` ≤ 100 (default 100),
  ``start_cursor``/``next_cursor``/``has_more``, ``filter`` (property filters on title,
  rich_text, email, url, phone_number, number, select, multi_select, date, checkbox, relation,
  created_time, last_edited_time; ``timestamp`` filters; ``and``/``or`` two levels deep),
  ``sorts`` (property or timestamp), ``filter_properties`` (query string), ``in_trash``.
- pages: create (parent ``data_source_id``, ``database_id`` of a one-source database, or
  ``page_id``), retrieve (``filter_properties``), update (properties, ``in_trash``/``archived``),
  retrieve a property item (relations, titles and texts paginated ≤ 100 a page, the rest as one
  item). A page shows at most 25 relation entries inline, then ``"has_more": true``.
- property types: title, rich_text, number, select, multi_select, date, checkbox, email, url,
  phone_number, relation (``single_property`` only), created_time, last_edited_time. Values are
  checked against the schema; an unknown select option is created, as Notion does.
- users/me (the bot user).
- limits: a token bucket (``burst`` requests at once, refilled at ``rate`` a second: Notion's
  "3 requests a second on average"); when empty, 429 ``rate_limited`` with ``Retry-After``.
  Rich text content ≤ 2,000 characters, arrays (rich text, relations) ≤ 100 items a request.
- test hooks: fault injection (status, slow answer, dropped connection), a log of every request
  with counting helpers, direct state helpers that bypass the limit and the log, a clock that
  can be moved forward, webhook deliveries (verification token, signed events), and
  ``unshare`` (a database the integration no longer reaches: 404 for it and all it holds).

Timestamps (``created_time``, ``last_edited_time``) are rounded down to the minute, as Notion
sends them, and timestamp filters see the rounded value.

Errors, always ``{"object": "error", "status", "code", "message", "request_id"}``, in the order
they are checked; (?) marks a message or choice that is a best guess:

- no ``Notion-Version`` header: 400 ``missing_version``; a version other than 2025-09-03: 400
  ``validation_error`` (?)
- no or wrong bearer token: 401 ``unauthorized`` "API token is invalid."
- a request the integration's ``capabilities`` do not allow (insert to create, update to
  change): 403 ``restricted_resource`` "Insufficient permissions for this endpoint."
- bucket empty: 429 ``rate_limited`` with ``Retry-After: <seconds>``
- undefined route or method (including the pre-2025 ``POST /v1/databases/{id}/query``): 400
  ``invalid_request_url``
- body not JSON: 400 ``invalid_json``
- malformed id in the path or body: 400 ``validation_error`` ("path failed validation: …")
- unknown page, database, data source, property: 404 ``object_not_found`` "Could not find page
  with ID: …" (the wording for data sources and properties (?))
- unknown property name on write: 400 ``validation_error`` "<name> is not a property that
  exists."; a value of another type: "<name> is expected to be <type>."; a malformed value:
  "body failed validation: body.properties.<name>.<type> should be …"; a select name with a
  comma: "Invalid select option, commas not allowed: …" (?)
- editing a page in the trash: 400 ``validation_error`` "Can't edit block that is archived. You
  must unarchive the block before editing."
- filters: unknown property "Could not find property with name or id: …"; a filter of another
  type "database property <type> does not match filter <key>" (?); sorts "Could not find sort
  property with name or id: …" (?)
- a bad ``start_cursor``: 400 ``validation_error`` (?)
- injected faults: the status asked for with its code (500 ``internal_server_error``, 503
  ``service_unavailable``, 504 ``gateway_timeout``, 409 ``conflict_error``, …); a status
  with no documented Notion code (502, 529, …) answers an HTML page, as the gateway in front of
  Notion does, so clients see no JSON error (``code=`` overrides).

notion-client 3.1 (``Client(auth=…, base_url=n.url, retry=…)``) retries 429 for every method and
500/503 for GET and DELETE only, at most ``RetryOptions.max_retries`` (2) times, waiting
``Retry-After`` (integer seconds or an HTTP date, capped at ``max_retry_delay_ms``) or else an
exponential back-off from ``initial_retry_delay_ms`` (1 s); ``retry=False`` turns it off. It
does not retry 502, 504, timeouts or dropped connections, and a code it does not know
(``missing_version``, ``database_connection_unavailable``) becomes an
``UnknownHTTPResponseError``, never retried.

Best guesses, where the documentation is silent: without ``sorts`` a query returns the newest
pages first; text ``equals`` is exact while ``contains``/``starts_with``/``ends_with`` ignore
case; a date filter compares days when either side has no time, instants otherwise (in UTC);
empty values sort last in both directions; ``start_cursor`` is the id of the next page, so a
cursor whose page left the results (edited out of the filter, trashed) is refused.

The package: ``emulator`` (the class, its test hooks and lookups) built from one mixin per part of
the API: ``http`` (request handling, token bucket), ``schema`` (databases, data sources),
``query``, ``pages``, ``rendering`` (JSON), ``webhooks``; beside them ``model`` (limits, types,
the in-memory model, the request log's entry), ``errors`` and ``helpers`` (times, ids, rich text,
parameters, routes).
"""

from emulators.notion.emulator import NotionEmulator
from emulators.notion.errors import ApiError
from emulators.notion.model import (
    API_VERSION,
    CAPABILITIES,
    ERROR_CODES,
    INLINE_RELATION_LIMIT,
    NotionRequest,
)

__all__ = [
    "API_VERSION",
    "CAPABILITIES",
    "ERROR_CODES",
    "INLINE_RELATION_LIMIT",
    "ApiError",
    "NotionEmulator",
    "NotionRequest",
]
