"""Unanswered questions to support, and agents' replies back to the community.

An escalated question enters the one ingestion path through the ``community`` channel kind (a driver in
connectors), so routing rules, SLAs and the pipeline treat it like any message. The channel is created on
first use.
"""

from __future__ import annotations

import re

from django.conf import settings

from resonanz.community.models import Question
from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.models import Channel

EXTERNAL_ID = re.compile(r"^community-q-(\d+)$")


def channel() -> Channel:
    found = Channel.objects.filter(kind="community").order_by("pk").first()
    if found is None:
        name, n = "Community", 2
        while Channel.objects.filter(name__iexact=name).exists():
            name, n = f"Community {n}", n + 1
        found = create_channel(kind="community", name=name)
    return found


def question_url(question: Question) -> str:
    return f"{settings.RESONANZ_BASE_URL.rstrip('/')}/community/q/{question.pk}/"


def hand_to_support(question: Question, email: str) -> list:
    url = question_url(question)
    text = f"{question.body}\n\n— {url}"
    item = InboundMessage(
        external_id=f"community-q-{question.pk}", sender_handle=email or f"community-member-{question.author_id}",
        identity_kind="email" if email else "other", sender_name=question.author.display_name,
        subject=question.title, text=text, is_public=True,
        meta={"community_question": question.pk, "url": url})
    return intake.submit(channel(), [item])


def question_id_of(external_ids: list[str]) -> int | None:
    for value in external_ids:
        match = EXTERNAL_ID.match(value or "")
        if match:
            return int(match.group(1))
    return None
