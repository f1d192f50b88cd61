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
