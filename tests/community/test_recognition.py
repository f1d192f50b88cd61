"""Recognition: vote rings earn nothing, experts of the week per tag and product count each point once."""

from __future__ import annotations

import pytest

from resonanz.community import actions, queries
from resonanz.community.models import ReputationEvent
from tests.community.conftest import member_via_link

pytestmark = pytest.mark.django_db


def _questions(member, n: int):
    return [actions.ask_question(member, title=f"Frage von {member.display_name} Nummer {i}",
                                 body="Ein ausreichend langer Text.") for i in range(n)]


def test_a_ring_of_three_earns_nothing_but_a_fan_still_does(anna, bert, carla):
    """anna → bert → carla → anna, three votes on each link: anna's votes for bert stop counting."""
    of_anna, of_bert, of_carla = _questions(anna, 4), _questions(bert, 4), _questions(carla, 4)
    for i in range(3):
        actions.vote(bert, question=of_carla[i])
        actions.vote(carla, question=of_anna[i])
    for q in of_bert:
        actions.vote(anna, question=q)
    bert.refresh_from_db()
    assert bert.reputation == 2 * 5  # the third vote closes the ring
    assert ReputationEvent.objects.filter(member=bert, reason="question_upvoted_ring", points=0).count() == 2
    fan = member_via_link("dora@example.com", "Dora")
    for q in of_carla:  # many votes one way, none back: a fan, not a ring
        actions.vote(fan, question=q)
    carla.refresh_from_db()
    assert carla.reputation == 3 * 5 + 4 * 5


def test_experts_of_the_week_per_tag_and_product_count_each_point_once(anna, bert, carla, question):
    answer = actions.answer_question(bert, question, body="Unter Konto → Adressen ändern.")
    actions.accept_answer(anna, answer)  # 15
    actions.vote(carla, answer=answer)   # 10
    other = actions.ask_question(carla, title="Wie kündige ich mein Abo?", body="Ich finde den Knopf nicht.",
                                 tags="abo")
    actions.vote(anna, answer=actions.answer_question(bert, other, body="Unter Verträge → Kündigen."))
    assert [(m.pk, p) for m, p in queries.experts_of_week()] == [(bert.pk, 35)]
    # the question has two tags: the accepted answer's points count once, not once per tag pair
    assert [(m.pk, p) for m, p in queries.experts_of_week(tag="konto")] == [(bert.pk, 25)]
    assert [(m.pk, p) for m, p in queries.experts_of_week(tag="abo")] == [(bert.pk, 10)]
    actions.move_question(question, product="Shop-App", reason="Produkt ergänzt", actor_member=_moderator(carla))
    assert [(m.pk, p) for m, p in queries.experts_of_week(product="Shop-App")] == [(bert.pk, 25)]
    assert queries.experts_of_week(product="Kasse") == []
    event = ReputationEvent.objects.get(member=bert, reason="answer_accepted")
    actions.revoke_points(event, reason="Selbst beantwortet", actor=None)
    assert [(m.pk, p) for m, p in queries.experts_of_week(product="Shop-App")] == [(bert.pk, 10)]


def _moderator(member):
    member.is_moderator = True
    member.save(update_fields=["is_moderator"])
    return member


def test_helpful_in_a_product_badge_after_five_accepted_answers_about_it(anna, bert, carla, api):
    from django.test import Client

    from resonanz.community.models import BadgeAward

    asked = [actions.ask_question(asker, title=f"Frage zur Shop-App Nummer {i}", body="Ein ausreichend langer Text.",
                                  product="Shop-App") for i, asker in enumerate([anna, anna, anna, carla, carla])]
    for n, question in enumerate(asked, start=1):
        actions.accept_answer(question.author, actions.answer_question(bert, question, body="So geht das, Schritt 1."))
        scoped = set(BadgeAward.objects.filter(member=bert, badge="product_helper").values_list("scope", flat=True))
        assert scoped == ({"Shop-App"} if n == 5 else set()), n
    client = Client()
    client.get("/community/lang/de/")
    assert "Hilfreich bei Shop-App" in client.get(f"/community/members/{bert.pk}/").content.decode()
    member = api.get(f"/api/community/members/{bert.pk}/").json()
    assert "product_helper:Shop-App" in member["badges"] and "ten_accepted" not in member["badges"]
