"""The dashboard's idea groups over the API (``/api/insights/ideas/``): size, previous period, change, the
count per week and examples, answered exactly as the published schema says, and a group made a community
idea with its conversations and posts as evidence (``POST /api/community/ideas/from-group/``).

The items come through the intake and the pipeline; the engine's small test model reads none of them as a
suggestion, so a supervisor corrects the message (the correction action) and the posts' analyses are set as
the dashboard tests do, after which the insights step writes the facts again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import schemathesis
from django.utils import timezone
from schemathesis.core.transport import Response

from resonanz.community.models import Idea, IdeaLink
from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel
from resonanz.core.pipeline import run_until_empty
from resonanz.inbox.models import Message
from resonanz.insights import steps
from resonanz.listening.actions import InboundPost, ingest_post
from resonanz.listening.models import Post
from resonanz.understanding.actions import correct
from resonanz.understanding.models import Analysis
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

DARK_NOW = ["Bitte einen Dunkelmodus für die App, nachts zu hell.", "Ein Dunkelmodus in der App wäre toll.",
            "Dunkelmodus für die App bitte, abends blendet sie.", "Die App braucht einen Dunkelmodus."]
BEFORE = ["Export als CSV wäre praktisch.", "Bitte einen CSV Export der Rechnungen.",
          "Dunkelmodus in der App wünsche ich mir."]


@pytest.fixture
def suggestions(db, api_channel, supervisor_user):
    """One message today and three posts a week apart in the last 30 days asking for a dark mode; three
    posts in the 30 days before (two about a CSV export, one about the dark mode)."""
    feed = create_channel(kind="feed", name="Blogs", settings={"feeds": []})
    now = timezone.now()

    def post(ext: str, text: str, days_ago: float) -> Post:
        return ingest_post(feed, InboundPost(external_id=ext, text=text, published_at=now - timedelta(days=days_ago),
                                             source="https://blog.example/feed", source_title="Blog")).post

    message = intake.submit(api_channel, [inbound("dark-0", text=DARK_NOW[0])])[0].message
    posts = [post(f"dark-{k}", text, 2 + 7 * k) for k, text in enumerate(DARK_NOW) if k]
    posts += [post(f"before-{k}", text, 35 + k) for k, text in enumerate(BEFORE)]
    run_until_empty()
    correct(Message.objects.get(pk=message.pk), supervisor_user, intents=["suggestion"])
    Analysis.objects.filter(post__in=posts).update(intent_labels=",suggestion,")
    steps.record([Message.objects.get(pk=message.pk)])
    steps.record(list(Post.objects.filter(pk__in=[p.pk for p in posts])))
    return {"message": Message.objects.get(pk=message.pk), "posts": posts}


def documented(api_response, path: str, method: str = "GET") -> None:
    """The answer validated against the published schema's response for its status (schemathesis' check)."""
    from drf_spectacular.generators import SchemaGenerator

    operation = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))[path][method]
    request = requests.Request(method, f"http://testserver{path}").prepare()
    operation.validate_response(Response(
        status_code=api_response.status_code, headers={k.lower(): [v] for k, v in api_response.headers.items()},
        content=api_response.content, request=request, elapsed=0.0, verify=False))


def test_idea_groups_with_their_trend_and_examples_as_documented(suggestions, supervisor_api):
    r = supervisor_api.get("/api/insights/ideas/", {"days": "30"})
    assert r.status_code == 200, r.content
    documented(r, "/api/insights/ideas/")
    data = r.json()
    assert data["selection"]["days"] == 30 and data["step"] == "week" and data["total"] == 4
    assert data["sampled"] is False
    dark = [g for g in data["groups"] if "dunkelmodus" in g["label"]]
    assert len(dark) == 1, data["groups"]
    g = dark[0]
    assert (g["size"], g["previous"], g["change"]) == (4, 1, 3.0)
    assert g["weeks"] == [0, 1, 1, 1, 1]  # the message today and a post a week for three weeks before
    message, dark_posts = suggestions["message"], sorted(p.pk for p in suggestions["posts"][:3])
    assert g["conversations"] == [message.conversation_id] and g["posts"] == dark_posts
    assert all("Dunkelmodus" in e["text"] for e in g["examples"]) and len(g["examples"]) == 3
    by_text = {e["text"]: e for e in g["examples"]}
    if DARK_NOW[0] in by_text:  # a message's example names its conversation, a post's its post
        assert by_text[DARK_NOW[0]]["conversation_id"] == message.conversation_id
        assert by_text[DARK_NOW[0]]["post_id"] is None
    assert any(e["post_id"] in dark_posts and e["conversation_id"] is None for e in g["examples"])
    assert g["description"].splitlines() == [f"- {e['text']}" for e in g["examples"]]
    assert not any("CSV" in e["text"] for grp in data["groups"] for e in grp["examples"])  # only before: no news
    # a week: counted per day; another language: nothing
    week = supervisor_api.get("/api/insights/ideas/", {"days": "7"}).json()
    assert (week["step"], week["total"], week["groups"]) == ("day", 1, [])  # one item is no group
    assert supervisor_api.get("/api/insights/ideas/", {"days": "30", "language": "en"}).json()["groups"] == []


def test_a_group_becomes_a_community_idea_with_its_evidence(suggestions, supervisor_api, api):
    g = next(g for g in supervisor_api.get("/api/insights/ideas/", {"days": "30"}).json()["groups"]
             if "dunkelmodus" in g["label"])
    body = {k: g[k] for k in ("title", "description", "conversations", "posts")}
    assert api.post("/api/community/ideas/from-group/", body, format="json").status_code == 403  # an agent
    r = supervisor_api.post("/api/community/ideas/from-group/", body, format="json")
    assert r.status_code == 201, r.content
    documented(r, "/api/community/ideas/from-group/", "POST")
    idea = Idea.objects.get(pk=r.json()["id"])
    assert idea.title == g["title"] and r.json()["evidence"] == {"conversation": 1, "post": 3}
    assert set(IdeaLink.objects.filter(idea=idea, kind="post").values_list("object_id", flat=True)) == set(g["posts"])
    assert idea.author.user_id is not None  # posted as the supervisor's staff member


def test_unknown_evidence_or_selection_is_refused_naming_it(suggestions, supervisor_api):
    body = {"title": "Dunkelmodus für die App", "description": "- Bitte einen Dunkelmodus, nachts zu hell.",
            "conversations": [999999], "posts": [suggestions["posts"][0].pk]}
    r = supervisor_api.post("/api/community/ideas/from-group/", body, format="json")
    assert r.status_code == 400 and set(r.json()) == {"conversations"}
    assert not Idea.objects.exists()
    assert supervisor_api.get("/api/insights/ideas/", {"query": "999999"}).status_code == 404
    r = supervisor_api.get("/api/insights/ideas/", {"days": "12"})
    assert r.status_code == 400 and "days" in r.json()
