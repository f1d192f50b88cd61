"""The desk pages (queries, dashboard, alert) and the API of insights, as an agent and a supervisor would use them."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.inbox.actions import invite_agent
from resonanz.insights import actions
from resonanz.insights.models import ListeningQuery, Mention

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(teams):
    return invite_agent("sara@example.com", display_name="Sara Super", role="supervisor", password="pw-super-123",
                        language="de")


@pytest.fixture
def lead(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call and then its after-commit work (the queued backfill), as a real commit would."""
    def run(fn, *args, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kw)
    return run


def test_query_editor_previews_refuses_with_position_and_saves(posts, lead, committed):
    page = lead.post("/listening/queries/new/", {"name": "Acme", "expression": "Acme OR (Lieferung", "tag": "brand",
                                                "enabled": "on"}, HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page.status_code == 200 and "Position 9" in html and "<mark>(</mark>" in html
    preview = lead.post("/listening/queries/new/", {"name": "Acme", "expression": "Acme", "tag": "brand",
                                                   "enabled": "on", "preview": "1"}).content.decode()
    assert "3 Treffer in den letzten 30 Tagen" in preview and "<svg" in preview
    assert not ListeningQuery.objects.exists()
    saved = committed(lead.post, "/listening/queries/new/", {"name": "Acme", "expression": "Acme", "tag": "brand",
                                                 "enabled": "on"})
    assert saved.status_code == 302
    q = ListeningQuery.objects.get()
    assert Mention.objects.filter(query=q).count() == 3
    listing = lead.get("/listening/queries/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Acme" in listing and "Suchanfragen" in listing
    stream = lead.get("/listening/", {"query": q.pk}).content.decode()
    assert "Acme hat mir" in stream and "Globex" not in stream


def test_agents_read_but_cannot_change_queries(posts, agent_user, supervisor):
    client = Client()
    client.force_login(agent_user)
    assert client.get("/listening/queries/").status_code == 200
    assert client.get("/listening/queries/new/").status_code == 403


def test_dashboard_shows_charts_share_of_voice_and_csv(posts, lead, supervisor, committed):
    committed(actions.save_query, None, supervisor, name="Acme", expression="Acme", tag="brand")
    committed(actions.save_query, None, supervisor, name="Globex", expression="Globex", tag="competitor")
    html = lead.get("/insights/", {"days": "30"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert html.count("<svg") >= 3 and "Stimmenanteil" in html and "Acme" in html and "Globex" in html
    assert lead.get("/insights/", {"days": "x", "channel": "abc", "query": "999"}).status_code == 200
    csv = lead.get("/insights/export/share_of_voice.csv").content.decode()
    assert csv.splitlines()[0].startswith("query,tag,mentions") and "Acme,brand,3" in csv
    assert lead.get("/insights/export/nothing.csv").status_code == 404
    by_query = lead.get("/insights/", {"query": ListeningQuery.objects.get(name="Globex").pk}).content.decode()
    assert "Insights: Globex" in by_query or "Globex" in by_query


def test_api_queries_with_preview_and_position_errors(posts, api, admin_api, committed):
    bad = admin_api.post("/api/listening-queries/", {"name": "A", "expression": "Acme AND"}, format="json")
    assert bad.status_code == 400 and bad.json()["position"] == 8 and "expression" in bad.json()
    preview = admin_api.post("/api/listening-queries/preview/", {"expression": "Globex"}, format="json")
    assert preview.status_code == 200 and preview.json()["matches"] == 2
    assert admin_api.post("/api/listening-queries/preview/", {"expression": "("}, format="json").status_code == 400
    created = committed(admin_api.post, "/api/listening-queries/", {"name": "Globex", "expression": "Globex", "tag": "competitor",
                                                         "languages": ["de"]}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["backfill_state"] == "queued"  # answered before the backfill ran
    after = api.get(f"/api/listening-queries/{created.json()['id']}/").json()
    assert after["mention_count"] == 2 and after["backfill_state"] == "idle" and after["backfill_done"] == 6
    assert api.post("/api/listening-queries/", {"name": "B", "expression": "b"}, format="json").status_code == 403
    assert api.get("/api/listening-queries/").json()["results"][0]["name"] == "Globex"
    data = api.get("/api/insights/dashboard/", {"days": 7}).json()
    assert data["volume"]["total"] == 6 and data["share_of_voice"][0]["n"] == 2
    assert api.get("/api/insights/dashboard/", {"query": 99999}).status_code == 404
    goal = admin_api.post("/api/goals/", {"kpi": "first_response", "target": 60}, format="json")
    assert goal.status_code == 201 and goal.json()["state"] == "no_data"
    assert admin_api.post("/api/goals/", {"kpi": "csat", "target": 9}, format="json").status_code == 400


def test_driving_terms_load_after_the_page_as_a_fragment_or_a_page(posts, lead):
    dashboard_html = lead.get("/insights/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'data-load="/insights/terms/?days=30"' in dashboard_html and "insights.js" in dashboard_html
    fragment = lead.get("/insights/terms/?days=30", HTTP_X_REQUESTED_WITH="fetch", HTTP_ACCEPT_LANGUAGE="de")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    page = lead.get("/insights/terms/?days=30", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<html" in page and "Was negative Einträge treibt" in page
    assert Client().get("/insights/terms/").status_code == 302  # signed-in people only


def test_top_authors_by_volume_and_reach_link_to_their_posts(feed, lead):
    from resonanz.core.pipeline import run_until_empty

    from .conftest import add_post

    for k in range(3):
        add_post(feed, f"a{k}", f"Acme Kaffee Nummer {k} war gut.", days_ago=k + 1, author="Viel Schreiber",
                 author_handle="@vielschreiber", reach=40)
    add_post(feed, "b1", "Acme ist mir zu teuer.", days_ago=2, author="Promi", author_handle="@promi", reach=90000)
    add_post(feed, "c1", "=HYPERLINK(\"http://evil\") Acme", days_ago=2, author="Trick", author_handle="=cmd|calc")
    run_until_empty()
    dashboard_html = lead.get("/insights/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'data-load="/insights/authors/?days=30"' in dashboard_html
    fragment = lead.get("/insights/authors/?days=30", HTTP_X_REQUESTED_WITH="fetch",
                        HTTP_ACCEPT_LANGUAGE="de").content.decode()
    by_volume, by_reach = fragment.split("Nach Reichweite")
    assert by_volume.index("@vielschreiber") < by_volume.index("@promi") and "3 Beiträge" in by_volume
    assert by_reach.index("@promi") < by_reach.index("@vielschreiber") and "Reichweite 90000" in by_reach
    assert "<html" not in fragment and "/listening/?author=%40promi" in fragment
    assert "Top-Autoren" in lead.get("/insights/authors/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    stream = lead.get("/listening/", {"author": "@promi"}).content.decode()
    assert "zu teuer" in stream and "Kaffee Nummer" not in stream
    csv = lead.get("/insights/export/authors.csv").content.decode().splitlines()
    assert csv[0] == "ranking,author,posts,negative_posts,reach" and csv[1].startswith("by_volume,'@vielschreiber,3,")
    assert any(line.startswith("by_volume,'=cmd|calc") for line in csv)  # never a formula in a spreadsheet
    from resonanz.insights import dashboard

    newest = dashboard.top_authors(dashboard.Selection(days=30), sample=2)  # a long period: the newest posts
    assert newest["sampled"] and sum(a["n"] for a in newest["by_volume"]) == 2
    assert {a["author"] for a in newest["by_volume"]} == {"@vielschreiber", "=cmd|calc"}  # a0 and c1, the newest


def test_volume_over_time_by_channel_or_language_and_each_day_opens_its_posts(posts, lead, feed):
    from datetime import timedelta

    from django.utils import timezone

    from resonanz.insights import days

    by_channel = lead.get("/insights/", {"by": "channel"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Einträge pro Tag nach Kanal" in by_channel and f"{feed.name} 1</title>" in by_channel
    by_language = lead.get("/insights/", {"by": "language"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Einträge pro Tag nach Sprache" in by_language and "en 1</title>" in by_language
    assert "Stimmung" in lead.get("/insights/", {"by": "nonsense"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    three_days_ago = (timezone.now() - timedelta(days=3)).astimezone(days.company_zone()).date().isoformat()
    assert f'href="/listening/?day={three_days_ago}"' in by_channel
    stream = lead.get("/listening/", {"day": three_days_ago}).content.decode()
    assert "Globex liefert pünktlich" in stream and "Acme hat mir" not in stream and "Katastrophe" not in stream
    assert lead.get("/listening/", {"day": "0001-01-01"}).status_code == 200  # an absurd day filters nothing
