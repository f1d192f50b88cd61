"""Listening queries: saving (with position-accurate refusals), matching in the pipeline, backfill, preview."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from resonanz.core.errors import ActionError
from resonanz.core.pipeline import run_until_empty
from resonanz.insights import actions
from resonanz.insights.actions import QueryError
from resonanz.insights.backfill import run_backfill
from resonanz.insights.models import Fact, IntentRollup, ListeningQuery, Mention, Rollup
from tests.insights.conftest import add_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks, monkeypatch):
    """Run the after-commit work (the queued backfill) as a real commit would."""
    global save

    def save(*args, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return actions.save_query(*args, **kw)


def mentioned(query) -> set[str]:
    return set(Mention.objects.filter(query=query).values_list("fact__post__external_id", flat=True))


def test_saving_a_query_backfills_its_mentions_and_new_posts_match_in_the_pipeline(posts, feed, admin_user):
    q = save(None, admin_user, name="Acme", expression="Acme", tag="brand")
    q.refresh_from_db()
    assert mentioned(q) == {"p1", "p2", "p5"}
    assert q.backfill_state == "idle" and q.backfill_done == q.backfill_total == 6 and q.mention_count == 3
    add_post(feed, "p7", "Schon wieder eine verspätete Lieferung von ACME.")
    add_post(feed, "p8", "Globex kann es besser.")
    run_until_empty()
    assert mentioned(q) == {"p1", "p2", "p5", "p7"}
    # changing the expression re-matches the stored posts
    save(q, admin_user, name="Acme", expression="Acme AND Lieferung", tag="brand")
    assert mentioned(q) == {"p1", "p7"}  # "Lieferungen" and "Lieferung" found through their lemma


def test_scope_languages_and_channel_kinds(posts, admin_user):
    en = save(None, admin_user, name="Acme EN", expression="acme", languages=["en"])
    assert mentioned(en) == {"p5"}
    forums = save(None, admin_user, name="Acme Mail", expression="acme", channel_kinds=["email"])
    assert mentioned(forums) == set()


def test_inbound_messages_count_only_for_queries_that_ask_for_them(posts, admin_user, api_channel):
    from resonanz.inbox.actions import ingest
    from tests.conftest import inbound

    posts_only = save(None, admin_user, name="Acme posts", expression="Acme")
    with_mail = save(None, admin_user, name="Acme all", expression="Acme", include_messages=True)
    ingest(api_channel, inbound("m1", text="Mein Acme Wasserkocher ist kaputt, bitte helfen Sie."))
    ingest(api_channel, inbound("m2", text="Wo bleibt meine Bestellung?"))
    run_until_empty()
    messages = Mention.objects.filter(fact__message__isnull=False)
    assert set(messages.values_list("query__name", "fact__message__external_id")) == {("Acme all", "m1")}
    assert mentioned(posts_only) == mentioned(with_mail) - {None} == {"p1", "p2", "p5"}
    # switched off again, the backfill takes the message's mention away
    save(with_mail, admin_user, name="Acme all", expression="Acme", include_messages=False)
    assert not Mention.objects.filter(fact__message__isnull=False).exists()


def test_rollups_count_every_item_and_every_query_once(posts, admin_user):
    q = save(None, admin_user, name="Globex", expression="Globex", tag="competitor")
    assert sum(Rollup.objects.filter(query_id=0).values_list("n", flat=True)) == Fact.objects.count() == 6
    assert sum(Rollup.objects.filter(query_id=q.pk).values_list("n", flat=True)) == 2
    run_until_empty()  # nothing pending: counting again changes nothing
    run_backfill(q.pk)
    assert sum(Rollup.objects.filter(query_id=q.pk).values_list("n", flat=True)) == 2
    intents = IntentRollup.objects.filter(query_id=0)
    assert sum(intents.values_list("n", flat=True)) == sum(len(f.intents.strip(",").split(",")) for f in
                                                           Fact.objects.exclude(intents=""))
    actions.delete_query(q)
    assert not Rollup.objects.filter(query_id=q.pk).exists()


@pytest.mark.parametrize("expression, position", [("(Acme", 0), ("Acme AND", 8), ('"Acme', 0), ("NOT x", 0)])
def test_invalid_expressions_are_refused_with_position(db, admin_user, expression, position):
    with pytest.raises(QueryError) as err:
        save(None, admin_user, name="X", expression=expression)
    assert err.value.position == position and err.value.field == "expression"
    assert not ListeningQuery.objects.exists()


def test_other_bad_input_is_refused(db, admin_user):
    with pytest.raises(ActionError):
        save(None, admin_user, name="", expression="a")
    with pytest.raises(ActionError):
        save(None, admin_user, name="a", expression="a", tag="enemy")
    with pytest.raises(ActionError):
        save(None, admin_user, name="a", expression="a", languages=["fr"])
    with pytest.raises(ActionError):
        save(None, admin_user, name="a", expression="a", channel_kinds=["myspace"])
    with pytest.raises(ActionError):
        save(None, admin_user, name="a", expression="a", channels=[999999])
    save(None, admin_user, name="a", expression="a")
    with pytest.raises(ActionError):
        save(None, admin_user, name="a", expression="b")


def test_preview_shows_the_last_30_days_without_saving(posts, feed):
    add_post(feed, "old", "Acme vor langer Zeit", days_ago=45)
    run_until_empty()
    result = actions.preview(expression="Acme OR Globex")
    assert result["matches"] == 5 and result["complete"]
    assert sum(result["per_day"].values()) == 5 and sum(result["sentiment"].values()) == 5
    assert {e["text"][:5] for e in result["examples"]} >= {"Die L", "Globe"}
    assert not ListeningQuery.objects.exists() and not Mention.objects.exists()
    with pytest.raises(QueryError):
        actions.preview(expression="Acme OR")


def test_backfill_command_shows_progress(posts, admin_user, capsys):
    q = save(None, admin_user, name="Acme", expression="Acme")
    Mention.objects.all().delete()
    call_command("insights", "backfill", "--query", str(q.pk))
    err = capsys.readouterr().err
    assert "Acme" in err and "6/6" in err
    assert mentioned(q) == {"p1", "p2", "p5"}
