"""The emulators' access hooks that ``cae check`` is tested with: an Airtable token narrowed to
some scopes (whoami lists them, the rest answers 403), a Notion database no longer shared with
the integration (404 for it, its data source and its pages)."""

from __future__ import annotations

import pytest
import requests
from notion_client import APIResponseError, Client
from pyairtable import Api

from emulators.airtable import AirtableEmulator
from emulators.notion import API_VERSION, NotionEmulator


def test_an_airtable_token_without_write_scope_reads_but_cannot_write():
    with AirtableEmulator("patT", "appT", scopes=("data.records:read",)) as at:
        at.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        api = Api("patT", endpoint_url=at.url)
        assert api.whoami()["scopes"] == ["data.records:read"]
        assert api.table("appT", "Membres").all() == []
        with pytest.raises(requests.HTTPError) as refused:
            api.table("appT", "Membres").create({"Nom": "Camille"})
        assert refused.value.response.status_code == 403
        with pytest.raises(requests.HTTPError):
            api.base("appT").schema()


def test_an_unshared_notion_database_is_out_of_reach():
    with NotionEmulator("secret_T", rate=None) as n:
        parent = n.create_page_parent("CAE")
        database, source = n.create_database(parent, "Membres", {"Nom": {"title": {}}})
        page = n.insert(source, {"Nom": {"title": [{"text": {"content": "Camille"}}]}})
        n.unshare(database)
        client = Client(auth="secret_T", base_url=n.url, notion_version=API_VERSION)
        for call in (
            lambda: client.databases.retrieve(database_id=database),
            lambda: client.data_sources.retrieve(data_source_id=source),
            lambda: client.data_sources.query(data_source_id=source),
            lambda: client.pages.retrieve(page_id=page),
        ):
            with pytest.raises(APIResponseError) as missing:
                call()
            assert missing.value.code == "object_not_found"
