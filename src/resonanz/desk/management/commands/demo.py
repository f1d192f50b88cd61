"""Load the demo data set: a lived-in help desk, made through the same actions and pipeline as real work.

It lives in the desk (the top layer) because it touches every part a new user looks at: a knowledge base in
German and English (the help center, the suggestions and the virtual agent read it), about 300 conversations
on several channels, each first read by the real pipeline (analysis, routing rules, suggestions, the bot's
decision) before a demo agent triages and answers it the way a person would, simple questions the bot answered
by itself, and a listening stream of public posts with a query for the products, analysed and routed by the same
pipeline (one negative post with wide reach goes to PR by the default rule). ``resonanz insights demo`` adds 30
days of posts with a launch and a complaint spike for the dashboards; it is left out here because its spike
turns dozens of posts into PR conversations that would fill the demo inbox. Everything is marked as demo data and
goes again with ``--remove``.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from resonanz.automation.defaults import ensure_defaults
from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.connectors.intake import InboundPost
from resonanz.connectors.models import Channel
from resonanz.core import pipeline
from resonanz.crm.actions import add_identity, update_contact
from resonanz.crm.models import Contact, Identity
from resonanz.desk import demo_data as d
from resonanz.inbox import actions
from resonanz.inbox.models import AgentProfile, Conversation, Message, Team
from resonanz.insights.actions import delete_query, save_query
from resonanz.insights.models import ListeningQuery
from resonanz.knowledge.actions import create_article, create_category
from resonanz.knowledge.models import Article, Category
from resonanz.listening.actions import ingest_posts
from resonanz.listening.models import Post

FEED_NAME = "Demo: Presse, Blogs und Foren"
QUERY_NAME = "Demo: unsere Produkte"
# Tags an agent would give each scenario, by a word of its subject (the demo used to draw them at random).
TAG_WORDS = {
    "shipping": ("lieferung", "order not received", "delivery", "umtausch", "wrong item", "damaged", "lieferadresse",
                 "versand", "shipping"),
    "billing": ("rechnung", "refund", "gutschein", "payment", "tarif", "pricing", "abgebucht", "zahlungsart",
                "discount", "rabatt"),
    "app": ("app", "log in", "passwort", "password", "gerät", "outage", "störung"),
    "rückruf": ("rückruf",),
}


def tags_for(subject: str) -> list[str]:
    low = subject.lower()
    return sorted(tag for tag, words in TAG_WORDS.items() if any(w in low for w in words))


def priority_for(analysis) -> int:
    """How an agent ranks a message after reading it: praise and thanks low, anger or urgency high."""
    if analysis is None:
        return Conversation.Priority.NORMAL
    intents = set(analysis.intents)
    if intents & {"legal_threat", "outage"} or analysis.urgency >= 0.7:
        return Conversation.Priority.HIGH
    if analysis.sentiment == "negative" or intents & {"complaint", "churn_risk"}:
        return Conversation.Priority.HIGH if analysis.urgency >= 0.5 else Conversation.Priority.NORMAL
    if analysis.sentiment == "positive" and not intents & {"question", "purchase_interest"}:
        return Conversation.Priority.LOW
    return Conversation.Priority.NORMAL


class Command(BaseCommand):
    help = "Load realistic demo data (marked as demo; remove it with --remove)."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=320)
        parser.add_argument("--remove", action="store_true", help="delete all demo data")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, conversations, remove, seed, **options):
        if remove:
            self._remove()
            return
        if Conversation.objects.filter(is_demo=True).exists():
            self.stdout.write("Demo data is loaded already (resonanz demo --remove deletes it).")
            return
        ensure_defaults()  # teams, routing rules, guidelines, office hours: what `resonanz setup` creates
        rng = random.Random(seed)
        teams = {t.name: t for t in Team.objects.all()}
        agents = self._agents(teams)
        articles = self._knowledge(agents[0])
        channels = [Channel.objects.filter(name=name).first() or create_channel(kind=kind, name=name, is_demo=True)
                    for kind, name in d.CHANNELS]
        pool = self._contacts(rng)
        plan = self._plan(rng, conversations)
        now = timezone.now()
        statuses = ["new"] * 14 + ["open"] * 22 + ["pending"] * 14 + ["resolved"] * 35 + ["closed"] * 15
        for n, scenario in enumerate(tqdm(plan, desc="demo conversations", unit="conv", disable=None)):
            lang = scenario[0]
            name, email = pool[lang][n % len(pool[lang])]
            channel = channels[n % len(channels)]
            status = "bot" if len(scenario) == 4 else rng.choice(statuses)
            # work still open came in over the last days; what is done is spread over two months
            days = rng.uniform(0, 3) if status in ("bot", "new", "open", "pending") else rng.uniform(3, 60)
            started = now - timedelta(days=days, minutes=rng.randint(0, 600))
            if status == "bot":
                self._question(n, name, email, scenario, channel, started)
            else:
                self._conversation(rng, n, name, email, scenario, channel, status, started, teams, agents)
        self._identities(rng, [person for people in pool.values() for person in people])
        posts = self._listening(agents[0])
        total = Conversation.objects.filter(is_demo=True).count()
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {total} demo conversations on {len(channels)} channels, {len(articles)} help-center articles "
            f"and {posts} public posts; agents log in with password 'demo-pass-1'."))

    # -- the parts --------------------------------------------------------------------------------------------

    def _agents(self, teams):
        users = []
        for email, name, initials, role, lang, team_names in d.AGENTS:
            profile = AgentProfile.objects.filter(user__username=email).first()
            if profile is None:
                user = actions.invite_agent(email, display_name=name, role=role, language=lang,
                                            initials=initials, password="demo-pass-1",
                                            teams=[teams[t] for t in team_names])
                profile = user.agent
            users.append(profile.user)
        return users

    def _knowledge(self, editor) -> list[Article]:
        """The help center: each topic in German and English, published, the translations linked."""
        categories = {}
        for key, (name, name_de, description) in d.CATEGORIES.items():
            categories[key] = Category.objects.filter(name=name).first() or create_category(name, name_de,
                                                                                           description)
        made = []
        for key, title_de, body_de, questions_de, title_en, body_en, questions_en in d.ARTICLES:
            if Article.objects.filter(title=title_de).exists():
                continue
            german = create_article(editor, title=title_de, body=body_de, language="de", status="published",
                                    visibility="public", category=categories[key], example_questions=questions_de,
                                    is_demo=True, note="demo data")
            english = create_article(editor, title=title_en, body=body_en, language="en", status="published",
                                     visibility="public", category=categories[key], example_questions=questions_en,
                                     is_demo=True, translation_of=german, note="demo data")
            made += [german, english]
        return made

    def _contacts(self, rng) -> dict[str, list[tuple[str, str]]]:
        pool: dict[str, list[tuple[str, str]]] = {"de": [], "en": []}
        for i in range(200):
            lang = "de" if i % 3 else "en"
            first = rng.choice(d.FIRST_NAMES_DE if lang == "de" else d.FIRST_NAMES_EN)
            last = rng.choice(d.LAST_NAMES_DE if lang == "de" else d.LAST_NAMES_EN)
            email = f"{first}.{last}.{i}@demo-kunde.example".lower().replace("ü", "ue").replace("ö", "oe").replace(
                "ä", "ae").replace("ß", "ss")
            pool[lang].append((f"{first} {last}", email))
        return pool

    def _plan(self, rng, conversations: int) -> list[tuple]:
        """Every scenario once before any comes twice (a small demo still shows each kind), shuffled."""
        kinds = list(d.SCENARIOS) + list(d.BOT_QUESTIONS)
        plan: list[tuple] = []
        while len(plan) < conversations:
            round_ = kinds[:]
            rng.shuffle(round_)
            plan += round_
        return plan[:conversations]

    def _ingest(self, channel, inbound: InboundMessage) -> Message:
        """Store a customer's message and let the pipeline read it now, as the worker would a moment later. An
        automatic answer is dated a minute after the message, as it would have been."""
        result = actions.ingest(channel, inbound, is_demo=True)
        pipeline.run_now("message", [result.message.pk])
        answer = Message.objects.filter(conversation=result.message.conversation_id, direction="outbound",
                                        created_at__gte=timezone.now() - timedelta(minutes=5),
                                        author_user__agent__is_bot=True).first()
        if answer is not None and inbound.sent_at:
            when = inbound.sent_at + timedelta(seconds=50)
            Message.objects.filter(pk=answer.pk).update(sent_at=when)
            Conversation.objects.filter(pk=answer.conversation_id, first_response_at__gt=when).update(
                first_response_at=when, last_activity_at=when)
        return Message.objects.select_related("conversation").get(pk=result.message.pk)

    def _question(self, n, name, email, scenario, channel, started) -> None:
        """A simple question: the virtual agent answers it from the help center (or hands it to a person)."""
        _lang, _team, subject, text = scenario
        self._ingest(channel, InboundMessage(external_id=f"demo-{n}-1", sender_handle=email, sender_name=name,
                                             subject=subject, text=text, sent_at=started))

    def _conversation(self, rng, n, name, email, scenario, channel, status, started, teams, agents):
        lang, team, subject, first, reply, follow = scenario
        order = f"{rng.randint(100000, 999999)}"
        first_name = name.split()[0]
        message = self._ingest(channel, InboundMessage(
            external_id=f"demo-{n}-1", sender_handle=email, sender_name=name, subject=subject,
            text=first.format(order=order, name=first_name), sent_at=started))
        conversation = Conversation.objects.get(pk=message.conversation_id)
        if n % 5 == 0:
            update_contact(conversation.contact, preferred_language=lang,
                           lifecycle_stage=rng.choice(["lead", "prospect", "customer", "customer", "former_customer"]))
        if conversation.filtered or not reply:
            return  # spam: the filter or the agent leaves it
        if Message.objects.filter(conversation=conversation, direction="outbound").exists():
            return  # the bot answered it
        agent = rng.choice([a for a in agents if teams[team] in a.agent.teams.all()] or agents)
        # the agent triages after reading: forwards what the rules sent elsewhere, ranks and tags it
        changes = {}
        if conversation.team_id != teams[team].pk:
            changes["team"] = teams[team]
        priority = priority_for(message.analysis_or_none)
        # a higher priority a rule set (legal threats) stands
        if priority != conversation.priority and conversation.priority <= Conversation.Priority.NORMAL:
            changes["priority"] = priority
        tags = sorted(set(conversation.tags.values_list("name", flat=True)) | set(tags_for(subject)))
        if tags:
            changes["tags"] = tags
        if changes:
            actions.update_conversation(conversation, agent, reason="demo data", **changes)
        if status == "new":
            return
        with transaction.atomic():
            sent = actions.send_reply(conversation, agent, reply.format(name=first_name, order=order))
            when = min(started + timedelta(minutes=rng.randint(5, 600)), timezone.now() - timedelta(minutes=1))
            Message.objects.filter(pk=sent.pk).update(sent_at=when, delivery_status="stored")
            Conversation.objects.filter(pk=conversation.pk).update(first_response_at=when, last_activity_at=when)
        if follow and status in ("open", "resolved", "closed"):
            later = when + timedelta(minutes=rng.randint(30, 2000))
            self._ingest(channel, InboundMessage(external_id=f"demo-{n}-2", sender_handle=email, sender_name=name,
                                                 text=follow, sent_at=min(later, timezone.now())))
        if rng.random() < 0.3:
            actions.add_note(conversation, agent, rng.choice(d.NOTES_DE if lang == "de" else d.NOTES_EN))
        actions.update_conversation(Conversation.objects.get(pk=conversation.pk), agent, status=status,
                                    reason="demo data")

    def _listening(self, editor) -> int:
        """Public posts about the demo company, read and routed by the pipeline like posts from a real feed, and a
        listening query that finds the products in them. The feed channel is switched off: nothing to poll."""
        if not ListeningQuery.objects.filter(name=QUERY_NAME).exists():
            save_query(None, editor, name=QUERY_NAME, expression='"Hub X2" OR "Barista 500"', tag="product")
        channel = Channel.objects.filter(name=FEED_NAME).first() or create_channel(
            kind="feed", name=FEED_NAME, enabled=False, is_demo=True)
        now = timezone.now()
        posts = [InboundPost(external_id=f"demo-post-{i}", title=title, text=text, author=author,
                             author_handle=author.lower().replace(" ", "_"), source=source.lower().replace(" ", "-"),
                             source_title=source, language=lang, reach=reach,
                             link=f"https://{source.lower().replace(' ', '-')}.example/{i}",
                             published_at=now - timedelta(hours=7 * i + 1))
                 for i, (source, author, lang, title, text, reach) in enumerate(d.POSTS)]
        ingest_posts(channel, posts, is_demo=True)
        ids = list(Post.objects.filter(channel=channel).values_list("pk", flat=True))
        pipeline.run_now("post", ids)
        return len(ids)

    def _identities(self, rng, people):
        for name, email in people[::4]:
            identity = Identity.objects.filter(kind="email", handle=email).select_related("contact").first()
            if identity:
                handle = name.split()[0].lower() + str(rng.randint(10, 99))
                try:
                    add_identity(identity.contact, "twitter", f"@{handle}")
                    add_identity(identity.contact, "phone", f"+49 170 {rng.randint(1000000, 9999999)}")
                except Exception:
                    continue

    def _remove(self):
        with transaction.atomic():
            demo_channels = Channel.objects.filter(is_demo=True)
            conversations = Conversation.objects.filter(is_demo=True) | Conversation.objects.filter(
                channel__in=demo_channels)
            n = conversations.count()
            Message.objects.filter(conversation__in=conversations).delete()
            conversations.delete()
            for query in ListeningQuery.objects.filter(name=QUERY_NAME):
                delete_query(query)
            Post.objects.filter(is_demo=True).delete()
            Article.objects.filter(is_demo=True).delete()
            Category.objects.filter(name__in=[c[0] for c in d.CATEGORIES.values()], articles__isnull=True).delete()
            Contact.objects.filter(is_demo=True, conversations__isnull=True).delete()
            demo_channels.filter(conversations__isnull=True).delete()
        self.stdout.write(f"Removed {n} demo conversations, the demo articles and the demo posts.")
