"""Suggested duplicate contacts: same email under another identity, same phone, similar name in one
organisation; merged with one click, and "not a duplicate" remembered (actions, desk pages, API)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from resonanz.core.errors import ActionError
from resonanz.core.models import AuditEntry
from resonanz.crm import duplicates
from resonanz.crm.actions import create_contact, create_organization, mark_not_duplicate
from resonanz.crm.models import Contact
from resonanz.inbox.actions import invite_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """Messages are matched in English here (an earlier test may have left German active)."""
    with translation.override("en"):
        yield


@pytest.fixture
def people():
    acme = create_organization(name="Acme GmbH")
    other_org = create_organization(name="Beta AG")
    kim = create_contact(name="Kim Schulz", identities=[("email", "kim@example.com")], organization=acme)
    kim_api = create_contact(name="", identities=[("api", "KIM@example.com")])
    phone = create_contact(name="Lou", identities=[("phone", "+49 170 1234567")])
    whatsapp = create_contact(name="Lou W", identities=[("whatsapp", "0170 1234567")])
    schultz = create_contact(name="Schultz, Kim", identities=[("email", "k.schultz@acme.example")], organization=acme)
    namesake = create_contact(name="Kim Schulz", identities=[("email", "kim@beta.example")], organization=other_org)
    unrelated = create_contact(name="Alex Meier", identities=[("email", "alex@example.com")], organization=acme)
    return {"kim": kim, "kim_api": kim_api, "phone": phone, "whatsapp": whatsapp, "schultz": schultz,
            "namesake": namesake, "unrelated": unrelated}


def _pairs(found):
    return {frozenset((s.contact.pk, s.other.pk)): set(s.reasons) for s in found}


def test_all_three_kinds_of_evidence_are_found_and_nothing_else(people):
    p = people
    found = _pairs(duplicates.suggestions())
    assert found == {
        frozenset((p["kim"].pk, p["kim_api"].pk)): {"email"},
        frozenset((p["phone"].pk, p["whatsapp"].pk)): {"phone"},
        frozenset((p["kim"].pk, p["schultz"].pk)): {"name"},
    }  # the namesake in another organisation and Alex are not suggested


def test_a_contact_page_lists_its_own_duplicates_and_not_a_duplicate_is_remembered(people):
    p = people
    mine = duplicates.suggestions(p["kim"])
    assert {s.other.pk for s in mine} == {p["kim_api"].pk, p["schultz"].pk}
    assert all(s.contact.pk == p["kim"].pk for s in mine)
    mark_not_duplicate(p["schultz"], p["kim"])
    mark_not_duplicate(p["kim"], p["schultz"])  # twice is once
    assert {s.other.pk for s in duplicates.suggestions(p["kim"])} == {p["kim_api"].pk}
    assert frozenset((p["kim"].pk, p["schultz"].pk)) not in _pairs(duplicates.suggestions())
    assert AuditEntry.objects.filter(action="contact.not_duplicate").count() == 1
    with pytest.raises(ActionError):
        mark_not_duplicate(p["kim"], p["kim"])


def test_desk_pages_merge_with_one_click_and_dismiss(people):
    p = people
    invite_agent("lead@example.com", role="supervisor", password="pw-lead-12345", language="de")
    client = Client()
    client.login(username="lead@example.com", password="pw-lead-12345")
    page = client.get("/contacts/duplicates/").content.decode()
    assert "Mögliche Dubletten" in page and "gleiche E-Mail-Adresse" in page and "gleiche Telefonnummer" in page
    detail = client.get(f"/contacts/{p['kim'].pk}/").content.decode()
    assert "Schultz, Kim" in detail and "ähnlicher Name, gleiche Organisation" in detail
    answer = client.post(f"/contacts/{p['kim'].pk}/merge/", {"other": p["kim_api"].pk,
                                                            "next": "/contacts/duplicates/"})
    assert answer.status_code == 302 and answer["Location"] == "/contacts/duplicates/"
    assert not Contact.objects.filter(pk=p["kim_api"].pk).exists()
    assert p["kim"].identities.filter(kind="api").exists()
    answer = client.post(f"/contacts/{p['phone'].pk}/not-duplicate/", {"other": p["whatsapp"].pk,
                                                                      "next": "https://evil.example/"})
    assert answer["Location"] == f"/contacts/{p['phone'].pk}/"  # no redirect to another site
    assert frozenset((p["phone"].pk, p["whatsapp"].pk)) not in _pairs(duplicates.suggestions())
    agent = Client()
    invite_agent("tom@example.com", role="agent", password="pw-tom-123456")
    agent.login(username="tom@example.com", password="pw-tom-123456")
    assert agent.post(f"/contacts/{p['kim'].pk}/not-duplicate/", {"other": p["schultz"].pk}).status_code == 403


def test_api_lists_and_dismisses_duplicates(people):
    p = people
    lead = invite_agent("lead@example.com", role="supervisor", password="pw-lead-12345")
    api = APIClient()
    api.force_authenticate(lead)
    rows = api.get("/api/contacts/duplicates/").json()
    assert {frozenset((r["contact"], r["other"])) for r in rows} == set(_pairs(duplicates.suggestions()))
    mine = api.get(f"/api/contacts/{p['phone'].pk}/duplicates/").json()
    assert [(r["other"], r["reasons"]) for r in mine] == [(p["whatsapp"].pk, ["phone"])]
    assert api.post(f"/api/contacts/{p['phone'].pk}/not-duplicate/", {"other": p["whatsapp"].pk},
                    format="json").status_code == 204
    assert api.get(f"/api/contacts/{p['phone'].pk}/duplicates/").json() == []
    assert api.post(f"/api/contacts/{p['phone'].pk}/not-duplicate/", {"other": 0}, format="json").status_code == 400


def test_merge_by_search_shows_what_moves_before_merging(people):
    p = people
    invite_agent("lead@example.com", role="supervisor", password="pw-lead-12345", language="de")
    client = Client()
    client.login(username="lead@example.com", password="pw-lead-12345")
    found = client.get(f"/contacts/{p['phone'].pk}/merge/", {"q": "0170"}).content.decode()
    assert "Lou W" in found and f"?q=0170&amp;other={p['whatsapp'].pk}" in found
    assert "Kim Schulz" not in found
    by_number = client.get(f"/contacts/{p['phone'].pk}/merge/", {"q": f"#{p['kim'].pk}"}).content.decode()
    assert "Kim Schulz" in by_number
    confirm = client.get(f"/contacts/{p['phone'].pk}/merge/", {"q": "0170", "other": p["whatsapp"].pk}).content.decode()
    assert "Lou W geht in Lou auf" in confirm and "01701234567" in confirm and "0 Konversationen" in confirm
    assert Contact.objects.filter(pk=p["whatsapp"].pk).exists()  # nothing merged by looking
    client.post(f"/contacts/{p['phone'].pk}/merge/", {"other": p["whatsapp"].pk})
    assert not Contact.objects.filter(pk=p["whatsapp"].pk).exists()
    invite_agent("tom@example.com", role="agent", password="pw-tom-123456")
    agent = Client()
    agent.login(username="tom@example.com", password="pw-tom-123456")
    assert agent.get(f"/contacts/{p['phone'].pk}/merge/").status_code == 403
