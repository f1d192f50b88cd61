"""The one route every push channel shares: /hooks/<slug>/ hands the raw request to the channel's driver.

The driver verifies its own signature scheme (HMAC headers, a platform's app secret, a secret token) and
answers the platform's handshake (a verification GET, a challenge); this view only finds the channel.
While the pipeline is far behind, pushes get 503 with Retry-After (core/backpressure.py, the ``signed`` tier):
platforms deliver again later, so nothing is lost and the backlog stays bounded.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from resonanz.connectors.models import Channel
from resonanz.core import backpressure, fastsql
from resonanz.core.ratelimit import refused_only


@csrf_exempt
@refused_only("webhook", key=lambda request, slug: slug)  # platforms sign every request; refused ones count
@backpressure.shed("signed")
def push(request: HttpRequest, slug: str) -> HttpResponse:
    channel = fastsql.get(Channel, "slug", slug)
    if channel is None or not channel.driver.accepts_push:
        return JsonResponse({"error": "no such webhook"}, status=404)
    if not channel.enabled:
        return JsonResponse({"error": "this webhook is disabled"}, status=403)
    return channel.driver.handle_request(request)
