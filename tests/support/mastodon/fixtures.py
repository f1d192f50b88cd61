"""A fresh local Mastodon API server per test, with the company's and a customer's account."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.mastodon.server import MastodonServer


@dataclass
class MastodonWorld:
    server: MastodonServer
    firma: dict
    firma_token: str
    kunde: dict
    kunde_token: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def mastodon():
    server = MastodonServer().start()
    firma, firma_token = server.add_account("firma", "Firma GmbH", "<p>Wir helfen gern.</p>", followers=1200)
    kunde, kunde_token = server.add_account("kunde", "Karla Kunde", "<p>Radfahrerin aus Köln</p>", followers=87)
    yield MastodonWorld(server, firma, firma_token, kunde, kunde_token)
    server.stop()
