"""The staff hear of problems without opening the Prefect UI: two Prefect automations, kept on
the Prefect server of ``PREFECT_API_URL``, send a message through a Prefect notification block.

- **cae : exécution en échec**: a run of the cooperative's flows fails or crashes;
- **cae : exécution à vérifier**: a run ends tagged ``a-verifier``, ``envoi-en-echec`` or
  ``erreurs-de-donnees`` (the tags ``services.report.run_tags`` gives it). The trigger is the
  run's own ``cae.flow-run.a-verifier`` event, sent with those tags as its last step
  (``flows.pipeline.tag_run``): the server's "Completed" event names the tags a run had when it
  started, not those it added.

The message goes through any Prefect notification block (Slack, Mattermost, Microsoft Teams,
email...) named ``TYPE/NAME``; by default ``custom-webhook/cae-notifications``, which
``save_webhook_block`` creates from ``CAE_NOTIFY_WEBHOOK_URL`` (the URL is the webhook's secret:
it is kept in the block's secret values, never on the command line). Its payload,
``{"text": ...}``, is what Mattermost, Slack, Rocket.Chat and Teams' incoming webhooks read.

``apply_automations`` creates or updates both automations by name: running it again (each
``cae serve`` does) changes nothing and never duplicates them.
"""

from __future__ import annotations

import os
from uuid import UUID

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from services.report import REVIEW_EVENT, REVIEW_TAGS

WEBHOOK_URL_VARIABLE = "CAE_NOTIFY_WEBHOOK_URL"
BLOCK_VARIABLE = "CAE_NOTIFY_BLOCK"
DEFAULT_BLOCK = "custom-webhook/cae-notifications"

#: The flows whose runs the staff hear of (``@flow(name=...)`` in ``flows/``).
FLOWS = ("daily", "monthly-report", "targeted")

FAILED = "cae : exécution en échec"
REVIEW = "cae : exécution à vérifier"

# Jinja, rendered by the Prefect server for each run (``flow_run``, ``flow``, ``event``).
_LINK = (
    "{% if flow_run|ui_url %}\nDans Prefect : {{ flow_run|ui_url }}"
    "{% else %}\nIdentifiant de l'exécution dans Prefect : {{ flow_run.id }}{% endif %}"
)
_CRASHED = "{% if flow_run.state.name == 'Crashed' %}"
_FAILED_SUBJECT = (
    "Exécution « {{ flow_run.name }} » " + _CRASHED + "interrompue{% else %}en échec{% endif %}"
)
_FAILED_BODY = (
    "L'exécution « {{ flow_run.name }} » ({{ flow.name }}) "
    + _CRASHED
    + "s'est arrêtée brutalement{% else %}a échoué{% endif %} "
    "({{ flow_run.state.name }}) : {{ flow_run.state.message }}\n"
    "Aucun document n'est perdu ni envoyé deux fois : relancez-la une fois la cause corrigée "
    "(guide, « Après une panne »)." + _LINK
)
_REVIEW_SUBJECT = "Exécution « {{ flow_run.name }} » : à vérifier"
_REVIEW_BODY = (
    "L'exécution « {{ flow_run.name }} » ({{ flow.name }}) s'achève ; ses étiquettes "
    "signalent ce qui demande une personne : {{ flow_run.tags | join(', ') }}.\n"
    "Lisez son rapport (onglet Artifacts)." + _LINK
)


class NotificationError(Exception):
    """A notification set-up the staff must fix, said in French."""


def save_webhook_block(url: str) -> None:
    """Create or update the webhook block ``DEFAULT_BLOCK`` (``custom-webhook/<name>``)."""
    if not url.startswith(("https://", "http://")):
        raise NotificationError(
            f"{WEBHOOK_URL_VARIABLE} doit être une adresse http(s), pas « {url[:12]}… »."
        )
    block = CustomWebhookNotificationBlock(
        name="cae",
        url="{{webhook_url}}",
        json_data={"text": "**{{subject}}**\n{{body}}"},
        secrets={"webhook_url": url},  # type: ignore[arg-type]  # pydantic coerces it
    )
    block.save(DEFAULT_BLOCK.split("/")[1], overwrite=True)


def block_document_id(block: str) -> UUID:
    """The id of the notification block ``TYPE/NAME`` (as the Blocks page of the UI names it)."""
    block_type, _, name = block.partition("/")
    if not name:
        raise NotificationError(
            f"Bloc de notification « {block} » : donnez-le sous la forme TYPE/NOM, "
            "par exemple slack-webhook/equipe."
        )
    with get_client(sync_client=True) as client:
        try:
            document = client.read_block_document_by_name(name, block_type)
        except ObjectNotFound:
            raise NotificationError(
                f"Bloc de notification « {block} » introuvable sur le serveur Prefect : "
                f"créez-le dans l'interface (Blocks) ou définissez {WEBHOOK_URL_VARIABLE}."
            ) from None
    if document.id is None:  # pragma: no cover - a stored block always has one
        raise NotificationError(f"Bloc de notification « {block} » sans identifiant.")
    return document.id


def automations(block_id: UUID) -> list[Automation]:
    """The two automations, each sending through the block ``block_id``."""
    our_flows = {"prefect.resource.role": "flow", "prefect.resource.name": list(FLOWS)}
    review_tags = {
        "prefect.resource.role": "tag",
        "prefect.resource.id": [f"prefect.tag.{tag}" for tag in REVIEW_TAGS],
    }

    def automation(name: str, description: str, trigger: EventTrigger, subject: str, body: str):
        action = SendNotification(block_document_id=block_id, subject=subject, body=body)
        return Automation(
            name=name, description=description, trigger=trigger, actions=[action], enabled=True
        )

    def on(events: set[str], related: list[dict[str, object]]) -> EventTrigger:
        return EventTrigger(
            expect=events,
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=related,  # type: ignore[arg-type]  # pydantic coerces the dicts
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
        )

    return [
        automation(
            FAILED,
            "Prévient l'équipe d'appui quand une exécution échoue ou plante.",
            on({"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}, [our_flows]),
            _FAILED_SUBJECT,
            _FAILED_BODY,
        ),
        automation(
            REVIEW,
            "Prévient l'équipe d'appui quand une exécution terminée demande une personne.",
            on({REVIEW_EVENT}, [our_flows, review_tags]),
            _REVIEW_SUBJECT,
            _REVIEW_BODY,
        ),
    ]


def apply_automations(block: str) -> list[str]:
    """Create or update, by name, the automations sending through ``block``; return a line
    for each (``créée`` or ``mise à jour``). A duplicate left by hand is deleted."""
    block_id = block_document_id(block)
    done = []
    with get_client(sync_client=True) as client:
        for automation in automations(block_id):
            existing = client.read_automations_by_name(automation.name)
            if existing:
                automation.id = existing[0].id
                automation.update()
                for duplicate in existing[1:]:
                    client.delete_automation(duplicate.id)
                done.append(f"{automation.name} : mise à jour")
            else:
                automation.create()
                done.append(f"{automation.name} : créée")
    return done


def setup(block: str | None = None) -> list[str]:
    """Save the webhook block when ``CAE_NOTIFY_WEBHOOK_URL`` is set, then apply the
    automations with ``block`` (default: ``CAE_NOTIFY_BLOCK``, then the webhook block)."""
    url = os.environ.get(WEBHOOK_URL_VARIABLE)
    chosen = block or os.environ.get(BLOCK_VARIABLE) or DEFAULT_BLOCK
    if url and chosen == DEFAULT_BLOCK:
        save_webhook_block(url)
    return apply_automations(chosen)


def setup_if_configured() -> str:
    """For ``cae serve``: set the notifications up when a webhook or a block is configured;
    one line saying what was done."""
    if not (os.environ.get(WEBHOOK_URL_VARIABLE) or os.environ.get(BLOCK_VARIABLE)):
        return (
            f"Notifications : aucune ({WEBHOOK_URL_VARIABLE} ou {BLOCK_VARIABLE} non défini, "
            "voir « cae notifications setup »)."
        )
    return "Notifications : " + " ; ".join(setup())
