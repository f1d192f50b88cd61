"""The part of a Meta webhook that WhatsApp, Messenger and Instagram share: the verification handshake and the
signed POST. Each driver parses its own notification; what comes in is checked here once."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse

from resonanz.connectors.actions import record_rejected
from resonanz.connectors.social import meta as graph
from resonanz.core import jsonsafe

log = logging.getLogger(__name__)


def signed_payload(driver, request: HttpRequest) -> HttpResponse | object:
    """The decoded body of a genuine notification, or the answer to send instead: the handshake's challenge
    (GET), 403 for a wrong verify token, 405, 401 for a bad signature (logged and shown on the channel), 400 for
    JSON that is not safe to decode."""
    channel, credentials = driver.channel, driver.channel.credentials
    if request.method == "GET":
        challenge = graph.verify_handshake(request.GET, credentials.get("verify_token") or "")
        if challenge is None:
            log.warning("%s %s: verification request with a wrong token", channel.kind, channel.slug)
            return JsonResponse({"error": "verification failed"}, status=403)
        return HttpResponse(challenge, content_type="text/plain")
    if request.method != "POST":
        return JsonResponse({"error": "POST a notification"}, status=405, headers={"Allow": "GET, POST"})
    ok, reason = graph.verify_signature(credentials.get("app_secret") or "", request.body,
                                       request.headers.get("X-Hub-Signature-256"))
    if not ok:
        remote = request.META.get("REMOTE_ADDR", "")
        record_rejected(channel, remote, reason)
        return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
    try:
        return jsonsafe.loads(request.body)
    except jsonsafe.UnsafeJSON as exc:
        return JsonResponse({"error": exc.message}, status=400)
