"""The endpoint of signed-webhook channels: POST /hooks/<slug>/ (see drivers/webhook.py)."""

from __future__ import annotations

import json
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from resonanz.connectors.actions import record_health
from resonanz.connectors.drivers.webhook import (
    MappingError,
    WebhookDriver,
    map_payload,
    mapping_of,
    verify_signature,
)
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.webhook")


@csrf_exempt
@require_POST
def webhook_view(request, slug: str):
    channel = Channel.objects.filter(slug=slug, kind="webhook").first()
    if channel is None:
        return JsonResponse({"error": "no such webhook"}, status=404)
    if not channel.enabled:
        return JsonResponse({"error": "this webhook is disabled"}, status=403)
    driver = WebhookDriver(channel)
    body = request.body
    ok, reason = verify_signature(driver.secret(), body, request.headers.get("X-Resonanz-Timestamp"),
                                  request.headers.get("X-Resonanz-Signature"))
    if not ok:
        remote = request.META.get("REMOTE_ADDR", "")
        log.warning("webhook %s rejected a request from %s: %s", channel.slug, remote, reason)
        record_health(channel, False, f"webhook request from {remote} rejected: {reason}")
        return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    try:
        inbound = map_payload(payload, mapping_of(channel.settings), body)
    except MappingError as exc:
        return JsonResponse({"error": str(exc), "field": exc.field}, status=400)
    except Exception as exc:  # a broken mapping in the settings is the administrator's to fix
        record_health(channel, False, f"webhook mapping: {exc}")
        return JsonResponse({"error": str(exc)}, status=400)
    from resonanz.inbox.actions import ingest

    try:
        result = ingest(channel, inbound)
    except ActionError as exc:
        return JsonResponse({"error": str(exc), "field": getattr(exc, "field", "")}, status=400)
    record_health(channel, True)
    payload = {"message_id": result.message.pk, "conversation_id": result.conversation.pk,
               "contact_id": result.contact_id, "created": result.created}
    return JsonResponse(payload, status=201 if result.created else 200)
