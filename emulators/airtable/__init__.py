"""A loopback Airtable for tests: the Web API over real HTTP, for the real pyairtable client.

Usage::

    with AirtableEmulator(token="patTEST", base_id="appTEST") as at:
        at.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        table = Api("patTEST", endpoint_url=at.url).table("appTEST", "Membres")
        table.batch_create([{"Nom": "Camille"}])
        assert at.count(method="POST", table="Membres") == 1

What it serves, as Airtable does where this project relies on it:

- records: list (GET, and POST ``listRecords``) with ``pageSize`` ≤ 100, opaque ``offset``
  (``itr…/rec…``), ``fields[]``, ``filterByFormula`` (see ``formula``), ``sort``,
  ``maxRecords``, ``view`` (each table has one "Grid view"), ``returnFieldsByFieldId``; get one
  record; create, update (PATCH), replace (PUT), upsert (``performUpsert``), delete, at most 10
  records a request; cells checked against their field's type, ``typecast`` honoured;
  empty cells omitted; linked-record fields kept in step on both sides.
- meta: base schema, create a table, create a field, list bases, whoami.
- webhooks: create, list, refresh, enable/disable, delete, payloads with a cursor (≤ 50 a page);
  every change appends a payload in Airtable's webhook format, and ``ping()`` POSTs a signed
  notification to the webhook's URL.
- limits: 5 requests a second per base; the request over it gets 429 and the base answers 429 to
  everything for ``penalty_seconds``. URLs over 16,000 characters get 414.
- test hooks: fault injection (status, slow response, dropped connection), a log of every
  request with counting helpers, and direct state helpers that bypass limits and the log.

Errors (status, body), as the real API answers or, where marked (?), as best known:

- no or wrong token: 401 ``{"error": {"type": "AUTHENTICATION_REQUIRED", "message": ...}}``
- unknown base or table: 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``; the same for an
  operation whose scope the token lacks (``scopes=``) (?)
- undefined route, malformed record id, unknown webhook: 404 ``{"error": "NOT_FOUND"}``
- missing record on a single-record route: 404 ``MODEL_ID_NOT_FOUND`` (?)
- update of a missing record, link to a missing record: 422 ``ROW_DOES_NOT_EXIST``
- over 10 records, or malformed records: 422 ``INVALID_RECORDS`` ("…up to 10 record objects…")
- unknown field (write, ``fields[]``, sort, merge key): 422 ``UNKNOWN_FIELD_NAME``
  ``Unknown field name: "X"``
- wrong cell type, a link not given as record ids: 422 ``INVALID_VALUE_FOR_COLUMN``
- unknown select option without typecast: 422 ``INVALID_MULTIPLE_CHOICE_OPTIONS``
- bad formula: 422 ``INVALID_FILTER_BY_FORMULA``; pageSize > 100 and other bad parameters:
  422 ``INVALID_REQUEST_UNKNOWN``
- malformed offset: 422 ``INVALID_OFFSET_VALUE``; a well-formed one it no longer knows (see
  ``expire_offsets``): 422 ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``
- meta: 422 ``DUPLICATE_TABLE_NAME``, ``DUPLICATE_OR_EMPTY_FIELD_NAME``,
  ``INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE``, ``UNSUPPORTED_FIELD_TYPE_FOR_CREATE`` (?)
- rate limit: 429 ``{"errors": [{"error": "RATE_LIMIT_REACHED", "message": ...}]}``
- URL over 16,000 characters: 414 ``URL_TOO_LONG`` (?); unparsable JSON: 400
  ``INVALID_REQUEST_BODY`` (?)
- a body over ``max_body_bytes``: 413 ``REQUEST_TOO_LARGE`` (?)

The package: ``emulator`` (the class, its test hooks and lookups) built from one mixin per part of
the API: ``http`` (request handling, rate limit), ``reads`` and ``writes`` (records), ``cells``
(values, links), ``meta`` (schema), ``webhooks``; beside them ``model`` (limits, field types,
the in-memory model, the request log's entry), ``errors``, ``params`` (routes and parameters),
``formula`` and ``formula_eval`` (``filterByFormula``), and ``minimum`` (the fewest requests a
run needs).
"""

from emulators.airtable.emulator import AirtableEmulator
from emulators.airtable.errors import ApiError
from emulators.airtable.model import OPERATION_SCOPES, SCOPES, ApiRequest

__all__ = ["OPERATION_SCOPES", "SCOPES", "AirtableEmulator", "ApiError", "ApiRequest"]
