"""``POST /api/channels/<id>/inbound/``: the storing shared by the DRF view and its lean route.

The DRF view (``api/views.py``, ``ChannelViewSet.inbound``) answers every case and is what the schema describes.
The lean route (``core/leanroute.py``, mounted in ``resonanz.asgi``) serves the same request without Django's
middleware stack and DRF when it is a plain success: a token request with a JSON body that validates, for an
enabled API channel, while the pipeline accepts. Whatever else, it falls through, unchanged, to the DRF view:
the lean route never produces an error answer of its own, so errors, rate limits and translations stay those of
the view. The success answer is the same bytes as DRF's (its JSON renderer is compact).
"""

from __future__ import annotations

import json
import re
import threading

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from rest_framework.exceptions import ValidationError

from resonanz.api import serializers as s
from resonanz.connectors import intake
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core import backpressure, fastsql, jsonsafe, tokens
from resonanz.core.errors import ActionError
from resonanz.core.leanroute import FallThrough, Route, header
from resonanz.core.middleware import DatabaseUnavailableMiddleware
from resonanz.core.models import ApiToken

PATH = re.compile(r"/api/channels/(?P<channel_id>[0-9]{1,18})/inbound/")
_JSON = {b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8"}


def store(channel, d: dict) -> tuple[dict, bool] | ActionError:
    """Submit validated ``InboundSerializer`` data; the answer's payload and whether the message is new."""
    result = intake.submit(channel, [InboundMessage(
        external_id=d["external_id"], sender_handle=d["sender"]["handle"], sender_name=d["sender"]["name"],
        text=d["text"], html=d["html"], subject=d["subject"], in_reply_to=d["in_reply_to"],
        sent_at=d["sent_at"],
    )])[0]
    if isinstance(result, ActionError):
        return result
    payload = {"message_id": result.message.pk, "conversation_id": result.conversation.pk,
               "contact_id": result.contact_id}
    return payload, result.created


def _wants(scope: dict) -> bool:
    """Cheap checks in the event loop: a JSON body and a token; session or form requests go to DRF directly."""
    if header(scope, b"content-type").lower() not in _JSON:
        return False
    parts = header(scope, b"authorization").split()
    return len(parts) == 2 and parts[0].lower() in (b"token", b"bearer")


_local = threading.local()


def _serializer() -> s.InboundSerializer:
    """One serializer per thread, reused: building one deep-copies its fields (a fifth of a DRF request)."""
    serializer = getattr(_local, "inbound", None)
    if serializer is None:
        serializer = _local.inbound = s.InboundSerializer()
    return serializer


def lean_inbound(request: HttpRequest, channel_id: str) -> HttpResponse:
    """The success path of ``ChannelViewSet.inbound``; ``FallThrough`` (nothing changed) for everything else."""
    try:
        return _inbound(request, int(channel_id))
    except (OperationalError, InterfaceError) as exc:  # as the whole stack answers it: 503, send again
        return DatabaseUnavailableMiddleware(None).process_exception(request, exc)


def _inbound(request: HttpRequest, channel_id: int) -> HttpResponse:
    try:
        key = request.headers["Authorization"].split()[1]
        data = jsonsafe.loads(request.body)
    except (UnicodeError, jsonsafe.UnsafeJSON):
        raise FallThrough from None
    token = tokens.find(key)
    if token is None or token.scope == ApiToken.Scope.READ:
        raise FallThrough
    translation.activate(translation.get_language_from_request(request))  # as LocaleMiddleware would
    try:
        backpressure.admit("signed")
    except backpressure.Overloaded:
        raise FallThrough from None
    channel = fastsql.get(Channel, "id", channel_id)
    if channel is None or not channel.enabled or not channel.driver.accepts_api:
        raise FallThrough
    try:
        d = _serializer().run_validation(data)
    except ValidationError:
        raise FallThrough from None
    tokens.touch(token)
    stored = store(channel, d)
    if isinstance(stored, ActionError):  # nothing was stored; DRF's handler gives the same answer
        return _json(stored.as_dict(), stored.status)
    payload, created = stored
    return _json(payload, 201 if created else 200)


def _json(payload: dict, status: int) -> HttpResponse:
    response = HttpResponse(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
                            status=status, content_type="application/json")
    response["Allow"] = "POST, OPTIONS"
    response["Vary"] = "Accept"
    return response


route = Route(PATH, lean_inbound, _wants)
