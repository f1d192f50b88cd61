"""The one route every push channel shares: /hooks/<slug>/ hands the raw request to the channel's driver.

The driver verifies its own signature scheme (HMAC headers, a platform's app secret, a secret token) and
answers the platform's handshake (a verification GET, a challenge); this view only finds the channel.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from resonanz.connectors.models import Channel
from resonanz.core import fastsql
from resonanz.core.ratelimit import refused_only


@csrf_exempt
@refused_only("webhook", key=lambda request, slug: slug)  # platforms sign every request; refused ones count
def push(request: HttpRequest, slug: str) -> HttpResponse:
    channel = fastsql.get(Channel, "slug", slug)
    if channel is None or not channel.driver.accepts_push:
        return JsonResponse({"error": "no such webhook"}, status=404)
    if not channel.enabled:
        return JsonResponse({"error": "this webhook is disabled"}, status=403)
    return channel.driver.handle_request(request)
