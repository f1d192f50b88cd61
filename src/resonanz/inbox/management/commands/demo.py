"""Load the demo data set: at least 300 German and English conversations on several channels."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.crm.actions import add_identity, update_contact
from resonanz.crm.models import Contact, Identity
from resonanz.inbox import actions
from resonanz.inbox import demo_data as d
from resonanz.inbox.models import AgentProfile, Conversation, Message, Team


class Command(BaseCommand):
    help = "Load realistic demo conversations (marked as demo; remove them with --remove)."

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
        actions.ensure_default_teams()
        rng = random.Random(seed)
        teams = {t.name: t for t in Team.objects.all()}
        agents = self._agents(teams)
        channels = [Channel.objects.filter(name=name).first() or create_channel(kind=kind, name=name, is_demo=True)
                    for kind, name in d.CHANNELS]
        now = timezone.now()
        contacts_pool: list[tuple[str, str, str]] = []
        for i in range(200):
            lang = "de" if i % 3 else "en"
            first = rng.choice(d.FIRST_NAMES_DE if lang == "de" else d.FIRST_NAMES_EN)
            last = rng.choice(d.LAST_NAMES_DE if lang == "de" else d.LAST_NAMES_EN)
            email = f"{first}.{last}.{i}@demo-kunde.example".lower().replace("ü", "ue").replace("ö", "oe").replace(
                "ä", "ae").replace("ß", "ss")
            contacts_pool.append((f"{first} {last}", email, lang))
        statuses = ["new"] * 14 + ["open"] * 22 + ["pending"] * 14 + ["resolved"] * 35 + ["closed"] * 15
        for n in tqdm(range(conversations), desc="demo conversations", unit="conv", disable=None):
            name, email, lang = contacts_pool[n % len(contacts_pool)]
            scenario = rng.choice([s for s in d.SCENARIOS if s[0] == lang])
            # a contact's second conversation is on another channel: the customer panel shows both
            channel = channels[(n + n // len(contacts_pool)) % len(channels)]
            status = rng.choice(statuses)
            started = now - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600))
            with transaction.atomic():
                self._conversation(rng, n, name, email, lang, scenario, channel, status, started, teams, agents)
        self._identities(rng, contacts_pool)
        total = Conversation.objects.filter(is_demo=True).count()
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {total} demo conversations on {len(channels)} channels; agents log in with password 'demo-pass-1'."))

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

    def _conversation(self, rng, n, name, email, lang, scenario, channel, status, started, teams, agents):
        _, team, subject, first, reply, follow = scenario
        order = f"{rng.randint(100000, 999999)}"
        first_name = name.split()[0]
        result = actions.ingest(channel, InboundMessage(
            external_id=f"demo-{n}-1", sender_handle=email, sender_name=name, subject=subject,
            text=first.format(order=order, name=first_name), sent_at=started,
        ), is_demo=True)
        conversation = result.conversation
        if result.contact_id and n % 5 == 0:
            contact = conversation.contact
            update_contact(contact, preferred_language=lang,
                           lifecycle_stage=rng.choice(["lead", "prospect", "customer", "customer", "former_customer"]))
        agent = rng.choice(agents)
        actions.update_conversation(conversation, None, team=teams[team], priority=rng.choice([1, 2, 2, 2, 3, 4]),
                                    tags=rng.sample(["vip", "rückruf", "billing", "shipping", "app"], k=rng.randint(0, 2)),
                                    reason="demo data")
        if status != "new" and reply:
            message = actions.send_reply(conversation, agent, reply.format(name=first_name, order=order))
            when = started + timedelta(minutes=rng.randint(5, 600))
            Message.objects.filter(pk=message.pk).update(sent_at=when, delivery_status="stored")
            Conversation.objects.filter(pk=conversation.pk).update(first_response_at=when, last_activity_at=when)
            if follow and status in ("open", "resolved", "closed"):
                later = when + timedelta(minutes=rng.randint(30, 2000))
                actions.ingest(channel, InboundMessage(
                    external_id=f"demo-{n}-2", sender_handle=email, sender_name=name, text=follow,
                    sent_at=min(later, timezone.now()),
                ), is_demo=True)
            if rng.random() < 0.3:
                actions.add_note(conversation, agent, rng.choice(d.NOTES_DE if lang == "de" else d.NOTES_EN))
        if status != "new":
            actions.update_conversation(conversation, agent, status=status, reason="demo data")
        # Messages are stored as they came; no background work needed for demo history.
        Message.objects.filter(conversation=conversation).update(pipeline_state="skipped")

    def _identities(self, rng, pool):
        for name, email, _lang in pool[::4]:
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
            conversations = Conversation.objects.filter(is_demo=True)
            n = conversations.count()
            Message.objects.filter(conversation__in=conversations).delete()
            conversations.delete()
            Contact.objects.filter(is_demo=True, conversations__isnull=True).delete()
            Channel.objects.filter(is_demo=True, conversations__isnull=True).delete()
        self.stdout.write(f"Removed {n} demo conversations.")
