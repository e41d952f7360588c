"""The automations that notify the staff, as declared (their run on a real server is in
tests/e2e/test_notifications.py)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from cae.notifications import (
    FAILED,
    FLOWS,
    REVIEW,
    WEBHOOK_URL_VARIABLE,
    NotificationError,
    automations,
    save_webhook_block,
    setup_if_configured,
)
from services.report import REVIEW_EVENT, REVIEW_TAGS


def test_one_automation_for_failures_and_one_for_runs_to_review():
    block = uuid4()
    failed, review = automations(block)
    assert (failed.name, review.name) == (FAILED, REVIEW)
    assert failed.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert review.trigger.expect == {REVIEW_EVENT}
    for automation in (failed, review):
        (action,) = automation.actions
        assert action.block_document_id == block
        assert "{{ flow_run.name }}" in action.subject
        flows = automation.trigger.match_related[0].model_dump()
        assert flows == {"prefect.resource.role": "flow", "prefect.resource.name": list(FLOWS)}
    assert len(failed.trigger.match_related) == 1
    tags = review.trigger.match_related[1].model_dump()
    assert tags["prefect.resource.id"] == [f"prefect.tag.{tag}" for tag in REVIEW_TAGS]


def test_a_webhook_address_must_be_http():
    with pytest.raises(NotificationError, match=WEBHOOK_URL_VARIABLE):
        save_webhook_block("chat.example.org/hooks/abc")


def test_serve_says_when_nothing_is_configured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(WEBHOOK_URL_VARIABLE, raising=False)
    monkeypatch.delenv("CAE_NOTIFY_BLOCK", raising=False)
    assert setup_if_configured().startswith("Notifications : aucune")
