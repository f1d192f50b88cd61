"""Community fixtures: members signed in through a real login link read from the outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from resonanz.community import actions


def member_via_link(email: str, name: str = ""):
    mail.outbox.clear()
    actions.request_login_link(email, base_url="http://testserver")
    link = re.search(r"/community/login/([\w-]+)/", mail.outbox[-1].body).group(1)
    member = actions.redeem_login_link(link)
    if name:
        actions.update_profile(member, display_name=name)
    return member


@pytest.fixture
def anna(db):
    return member_via_link("anna@example.com", "Anna")


@pytest.fixture
def bert(db):
    return member_via_link("bert@example.com", "Bert")


@pytest.fixture
def carla(db):
    return member_via_link("carla@example.com", "Carla")


@pytest.fixture
def question(anna):
    return actions.ask_question(anna, title="Wie ändere ich meine Lieferadresse?",
                                body="Ich bin umgezogen und finde die **Adresse** nicht im Konto.", tags="konto lieferung")
